//! The commands made from the spec: one per operation of
//! [`dployr::operations`], grouped by tag and named by [`naming`], with its
//! path parameters as positional arguments, its query parameters as flags
//! and its body from [`body`]. Nothing here names an operation, so an
//! operation added to `openapi.yaml` is a command at the next build.

use std::collections::HashMap;

use clap::{value_parser, Arg, ArgMatches, Command};
use dployr::{Client, Operation, ParameterLocation, RawRequest, RawResponse};
use futures_util::TryStreamExt;
use serde_json::Value;

use crate::body;
use crate::exit::Failure;
use crate::naming::{self, CommandName};
use crate::output::{self, Format};

/// The hand-written commands; a spec group of one of these names is
/// renamed (see [`entries`]).
pub const HAND_WRITTEN: [&str; 5] = ["deploy", "logs", "api", "context", "completions"];

/// An operation and the command that calls it.
pub struct Entry {
    /// `dployrctl NOUN VERB`.
    pub name: CommandName,
    /// What the command calls.
    pub op: &'static Operation,
}

/// Every operation that is a command, in the spec's order. Streaming
/// operations are left out: their answer is not one document, so each has
/// a command of its own (the log stream is `dployrctl logs`).
pub fn entries() -> Vec<Entry> {
    let mut entries: Vec<Entry> = dployr::operations()
        .iter()
        .filter(|op| !op.is_streaming())
        .map(|&op| Entry {
            name: naming::command_name(op.id(), op.tag()),
            op,
        })
        .collect();
    // A tag named like a hand-written command (`logs`) would hide it or be
    // hidden by it; its group takes a suffix instead.
    for entry in &mut entries {
        if HAND_WRITTEN.contains(&entry.name.noun.as_str()) {
            entry.name.noun.push_str("-ops");
        }
    }
    // Two operations of one tag that the rule names alike both keep their
    // whole id, so neither hides the other.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for entry in &entries {
        *seen
            .entry((entry.name.noun.clone(), entry.name.verb.clone()))
            .or_default() += 1;
    }
    for entry in &mut entries {
        if seen[&(entry.name.noun.clone(), entry.name.verb.clone())] > 1 {
            entry.name.verb = naming::kebab(entry.op.id());
        }
    }
    entries
}

/// The group commands, one per tag, each with its operations' commands.
pub fn groups(entries: &[Entry]) -> Vec<Command> {
    let mut nouns: Vec<&str> = Vec::new();
    for entry in entries {
        if !nouns.contains(&entry.name.noun.as_str()) {
            nouns.push(&entry.name.noun);
        }
    }
    nouns.sort_unstable();
    nouns
        .into_iter()
        .map(|noun| {
            let members: Vec<&Entry> = entries.iter().filter(|e| e.name.noun == noun).collect();
            let verbs: Vec<&str> = members.iter().map(|e| e.name.verb.as_str()).collect();
            Command::new(noun.to_string())
                .about(verbs.join(", "))
                .long_about(format!(
                    "The operations tagged `{}` in the API spec: {}.",
                    members[0].op.tag(),
                    verbs.join(", ")
                ))
                .subcommand_required(true)
                .arg_required_else_help(true)
                .subcommands(members.iter().map(|e| command(e)))
        })
        .collect()
}

/// The command of one operation.
fn command(entry: &Entry) -> Command {
    let op = entry.op;
    let mut long = op.summary().to_string();
    if !op.description().trim().is_empty() {
        long.push_str("\n\n");
        long.push_str(op.description().trim());
    }
    long.push_str(&format!(
        "\n\nCalls {} {} (operation `{}`).",
        op.method(),
        op.path(),
        op.id()
    ));
    long.push(' ');
    long.push_str(&access_note(op));
    let mut command = Command::new(entry.name.verb.clone())
        .about(op.summary())
        .long_about(long);
    // The credential parameter is the access token: the client fills it in.
    for parameter in op.parameters().iter().filter(|p| !p.is_credential()) {
        let mut arg = Arg::new(parameter.name())
            .help(parameter.description())
            .required(parameter.is_required());
        arg = match parameter.location() {
            ParameterLocation::Path => arg.value_name(upper_snake(parameter.name())),
            _ => arg
                .long(naming::kebab(parameter.name()))
                .value_name(upper_snake(parameter.name())),
        };
        if parameter.is_integer() {
            arg = arg.value_parser(value_parser!(i64));
        }
        command = command.arg(arg);
    }
    if let Some(body_type) = op.body_type() {
        command = body::args(command, body_type, op.body_fields());
    }
    command
}

/// Calls the operation with what the command line gave and prints the
/// answer. A list prints as one array: every page of it when no page was
/// asked for (`--limit`, `--offset`), read by the library's pages, else the
/// items of that page.
pub async fn run(
    client: &Client,
    op: &'static Operation,
    matches: &ArgMatches,
    format: Format,
) -> Result<(), Failure> {
    let request = request(client, op, matches)?;
    let value = if walks_pages(op, matches) {
        let items: Vec<Value> = request.pages(dployr::MAX_PAGE_SIZE).try_collect().await?;
        Value::Array(items)
    } else {
        let answer = decode(op, request.send().await?)?;
        match sole_list(answer) {
            Ok(items) => Value::Array(items),
            Err(Value::Null) => return Ok(()),
            Err(answer) => answer,
        }
    };
    output::print(&value, format);
    Ok(())
}

/// The page-size query parameter of a paged list.
const LIMIT: &str = "limit";
/// The page-start query parameter of a paged list.
const OFFSET: &str = "offset";

/// Whether to read every page of `op`: a paged list, and neither `--limit`
/// nor `--offset` given.
fn walks_pages(op: &Operation, matches: &ArgMatches) -> bool {
    let query = |name: &str| {
        op.parameters()
            .iter()
            .any(|p| p.name() == name && p.location() == ParameterLocation::Query)
    };
    let given = |name: &str| matches.get_one::<i64>(name).is_some();
    query(LIMIT) && query(OFFSET) && !given(LIMIT) && !given(OFFSET)
}

/// The items of a page object (one list, numbers beside it), or the answer
/// as it is.
fn sole_list(answer: Value) -> Result<Vec<Value>, Value> {
    let Value::Object(fields) = &answer else {
        return Err(answer);
    };
    let lists = fields.values().filter(|v| v.is_array()).count();
    if lists != 1 || !fields.values().all(|v| v.is_array() || v.is_number()) {
        return Err(answer);
    }
    let Value::Object(fields) = answer else {
        return Err(answer);
    };
    Ok(fields
        .into_iter()
        .find_map(|(_, v)| match v {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .unwrap_or_default())
}

/// The call of `op` with the command line's parameters and body, not sent.
fn request(
    client: &Client,
    op: &'static Operation,
    matches: &ArgMatches,
) -> Result<RawRequest, Failure> {
    let mut call = client.call(op);
    for parameter in op.parameters().iter().filter(|p| !p.is_credential()) {
        let name = parameter.name();
        let value = if parameter.is_integer() {
            matches.get_one::<i64>(name).map(i64::to_string)
        } else {
            matches.get_one::<String>(name).cloned()
        };
        let Some(value) = value else { continue };
        call = match parameter.location() {
            ParameterLocation::Path => call.path_param(name, &value),
            _ => call.query(name, &value),
        };
    }
    if op.body_type().is_some() {
        let body = body::from_flags(matches, op.body_fields(), |json| op.check_body(json))?;
        // A body the spec lets a request leave out is left out when nothing
        // was given for it (`system install`: the latest release).
        let nothing_given = body.as_object().is_some_and(|fields| fields.is_empty());
        if op.is_body_required() || !nothing_given {
            call = call.json(&body);
        }
    }
    Ok(call)
}

/// The answer decoded as the operation's type (`Null` for none).
fn decode(op: &'static Operation, answer: RawResponse) -> Result<Value, Failure> {
    if op.answer_type().is_some() {
        Ok(op.decode_answer(&answer.body)?)
    } else if answer.body.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Null)
    } else {
        Ok(serde_json::from_slice(&answer.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer.body).into_owned())))
    }
}

/// What token `op` needs, from its facts (`x-dployr-role` in the spec), as
/// its help says it: the instance answers 403 (exit 3) to a lesser token.
pub fn access_note(op: &Operation) -> String {
    match op.role() {
        Some(role) => format!("Needs a token with at least the {role} role."),
        None => "Needs no access token.".to_string(),
    }
}

/// The operation the spec names `id`; the hand-written commands use it
/// to say what token they need.
pub fn operation(id: &str) -> Option<&'static Operation> {
    dployr::operations()
        .iter()
        .copied()
        .find(|op| op.id() == id)
}

/// `serviceId` as `SERVICE_ID`, the way usage lines show values.
fn upper_snake(name: &str) -> String {
    naming::kebab(name).replace('-', "_").to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_but_the_stream_has_one_distinct_command() {
        let entries = entries();
        let streaming = dployr::operations()
            .iter()
            .filter(|o| o.is_streaming())
            .count();
        assert_eq!(entries.len() + streaming, dployr::operations().len());
        let mut names: Vec<(String, String)> = entries
            .iter()
            .map(|e| (e.name.noun.clone(), e.name.verb.clone()))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), entries.len());
        assert_eq!(upper_snake("serviceId"), "SERVICE_ID");
    }
}
