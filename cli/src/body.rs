//! A request body from the command line: a JSON file (`--body FILE`, `-`
//! for stdin) and top-level fields on top of it (`--field name=text`,
//! `--set name=json`), checked against the operation's body type before
//! anything is sent.

use std::io::Read;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};

use crate::exit::Failure;

/// Adds the body flags to an operation's command.
pub fn args(command: Command, body_type: &str) -> Command {
    command
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
    check: impl Fn(&[u8]) -> Result<(), dployr::Error>,
) -> Result<Value, Failure> {
    let mut body = match matches.get_one::<String>("body") {
        Some(path) => read_json(path)?,
        None => Value::Object(Map::new()),
    };
    let strings = values(matches, "field");
    let jsons = values(matches, "set");
    if !strings.is_empty() || !jsons.is_empty() {
        let Value::Object(fields) = &mut body else {
            return Err(Failure::Input(
                "body: --field and --set need the body to be a JSON object".into(),
            ));
        };
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
        from_flags(&matches, |_| Ok(()))
    }

    fn args_for_test() -> Command {
        args(Command::new("t"), "Thing")
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
