//! A request body from the command line: a JSON file (`--body FILE`, `-`
//! for stdin), then a flag per top-level field the spec gives the body
//! (`--domain example.com`, `--port 3000`, `--env '{"A":"1"}'`), then any
//! field by name (`--field name=text`, `--set name=json`), checked against
//! the operation's body type before anything is sent.

use std::io::Read;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use dployr::{BodyField, FieldKind};
use serde_json::{Map, Value};

use crate::exit::Failure;

/// The id of a body field's flag, apart from every parameter's.
fn field_id(field: &BodyField) -> String {
    format!("body.{}", field.name())
}

/// The flag of each body field whose name is free on `command` (a field
/// named like a parameter or a global flag is set with `--field` instead).
fn field_flags(command: &Command, fields: &'static [BodyField]) -> Vec<Arg> {
    let taken = |long: &str| {
        [
            "body", "field", "set", "url", "token", "context", "output", "verbose", "help",
            "version",
        ]
        .contains(&long)
            || command
                .get_arguments()
                .any(|a| a.get_long() == Some(long) || a.get_id() == long)
    };
    fields
        .iter()
        .filter_map(|field| {
            let long = field.name().replace('_', "-");
            if taken(&long) {
                return None;
            }
            let mut help = field.description().to_string();
            if field.is_required() {
                help.push_str(if help.is_empty() {
                    "Required"
                } else {
                    " (required)"
                });
            }
            let arg = Arg::new(field_id(field)).long(long).help(help);
            Some(match field.kind() {
                FieldKind::Integer => arg.value_name("INTEGER").value_parser(value_parser!(i64)),
                FieldKind::Number => arg.value_name("NUMBER").value_parser(value_parser!(f64)),
                FieldKind::Boolean => arg.value_name("BOOL").value_parser(value_parser!(bool)),
                FieldKind::Json => arg.value_name("JSON"),
                _ => arg.value_name("TEXT"),
            })
        })
        .collect()
}

/// Adds the body flags to an operation's command.
pub fn args(command: Command, body_type: &str, fields: &'static [BodyField]) -> Command {
    let flags = field_flags(&command, fields);
    command
        .args(flags)
        .arg(
            Arg::new("body")
                .long("body")
                .value_name("FILE")
                .help(format!(
                    "The request body, a {body_type} as JSON, from FILE (`-` for stdin)"
                )),
        )
        .arg(
            Arg::new("field")
                .long("field")
                .value_name("NAME=TEXT")
                .action(ArgAction::Append)
                .help("Sets a top-level field of the body to TEXT, as a JSON string"),
        )
        .arg(
            Arg::new("set")
                .long("set")
                .value_name("NAME=JSON")
                .action(ArgAction::Append)
                .help("Sets a top-level field of the body to a JSON value (3000, true, {\"a\":1})"),
        )
}

/// The body the flags describe, or `None` when none was given and the
/// operation takes none. `check` is the operation's own body check.
pub fn from_flags(
    matches: &ArgMatches,
    fields: &'static [BodyField],
    check: impl Fn(&[u8]) -> Result<(), dployr::Error>,
) -> Result<Value, Failure> {
    let mut body = match matches.get_one::<String>("body") {
        Some(path) => read_json(path)?,
        None => Value::Object(Map::new()),
    };
    let flagged = flagged_fields(matches, fields)?;
    let strings = values(matches, "field");
    let jsons = values(matches, "set");
    if !flagged.is_empty() || !strings.is_empty() || !jsons.is_empty() {
        let Value::Object(fields) = &mut body else {
            return Err(Failure::Input(
                "body: --field and --set need the body to be a JSON object".into(),
            ));
        };
        fields.extend(flagged);
        for pair in strings {
            let (name, text) = split(pair, "--field")?;
            fields.insert(name.to_string(), Value::String(text.to_string()));
        }
        for pair in jsons {
            let (name, json) = split(pair, "--set")?;
            let value = serde_json::from_str(json)
                .map_err(|e| Failure::Input(format!("{name}: --set takes a JSON value ({e})")))?;
            fields.insert(name.to_string(), value);
        }
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| Failure::Input(format!("body: {e}")))?;
    check(&bytes)?;
    Ok(body)
}

/// The values of the body fields' own flags that were given.
fn flagged_fields(
    matches: &ArgMatches,
    fields: &'static [BodyField],
) -> Result<Vec<(String, Value)>, Failure> {
    let mut given = Vec::new();
    for field in fields {
        let id = field_id(field);
        // A field without a flag of its own (its name was taken) has no id.
        if !matches.ids().any(|known| known.as_str() == id) {
            continue;
        }
        let value = match field.kind() {
            FieldKind::Integer => matches.get_one::<i64>(&id).map(|n| Value::from(*n)),
            FieldKind::Number => matches.get_one::<f64>(&id).map(|n| Value::from(*n)),
            FieldKind::Boolean => matches.get_one::<bool>(&id).map(|b| Value::Bool(*b)),
            FieldKind::Json => match matches.get_one::<String>(&id) {
                Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                    Failure::Input(format!("{}: takes a JSON value ({e})", field.name()))
                })?),
                None => None,
            },
            _ => matches.get_one::<String>(&id).cloned().map(Value::String),
        };
        if let Some(value) = value {
            given.push((field.name().to_string(), value));
        }
    }
    Ok(given)
}

/// A JSON document from `path`, or from stdin for `-`.
pub fn read_json(path: &str) -> Result<Value, Failure> {
    let bytes = if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Input(format!("cannot read stdin: {e}")))?;
        bytes
    } else {
        std::fs::read(path).map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?
    };
    let shown = if path == "-" { "stdin" } else { path };
    serde_json::from_slice(&bytes).map_err(|e| Failure::Input(format!("{shown} is not JSON: {e}")))
}

fn values<'a>(matches: &'a ArgMatches, id: &str) -> Vec<&'a String> {
    matches
        .get_many::<String>(id)
        .map(|v| v.collect())
        .unwrap_or_default()
}

fn split<'a>(pair: &'a str, flag: &str) -> Result<(&'a str, &'a str), Failure> {
    match pair.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        _ => Err(Failure::Input(format!(
            "{flag} takes NAME=VALUE, got `{pair}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Value, Failure> {
        let command = args_for_test();
        let matches = command
            .try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
            .unwrap();
        from_flags(&matches, &[], |_| Ok(()))
    }

    fn args_for_test() -> Command {
        args(Command::new("t"), "Thing", &[])
    }

    #[test]
    fn fields_build_an_object_with_typed_values() {
        let body = parse(&[
            "--field",
            "name=web",
            "--set",
            "port=3000",
            "--set",
            "on=true",
        ])
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "web", "port": 3000, "on": true})
        );
    }

    #[test]
    fn malformed_pairs_and_json_are_input_errors_naming_the_flag() {
        let e = parse(&["--field", "novalue"]).unwrap_err();
        assert!(e.to_string().contains("--field takes NAME=VALUE"), "{e}");
        let e = parse(&["--set", "port=30 00"]).unwrap_err();
        assert!(
            e.to_string().contains("port: --set takes a JSON value"),
            "{e}"
        );
        assert_eq!(e.code(), 2);
        let e = parse(&["--body", "/no/such/file.json"]).unwrap_err();
        assert!(
            e.to_string().contains("cannot read /no/such/file.json"),
            "{e}"
        );
    }
}
