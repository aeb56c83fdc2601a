//! `dployrctl context add|list|use|show|remove`: the contexts kept in the
//! user's configuration folder. A token is read from standard input, or
//! typed at a terminal without echo: never from an argument, which other
//! users of the machine see in `ps`.

use std::io::{self, IsTerminal, Read};

use clap::{Arg, ArgMatches, Command};
use serde_json::{json, Value};

use super::{check_name, Entry, Store};
use crate::exit::Failure;
use crate::expiry;
use crate::output::{self, Format};

/// `dployrctl context` and its verbs.
pub fn command() -> Command {
    let name = || Arg::new("name").required(true).value_name("NAME");
    Command::new("context")
        .about("Keeps instances by name: add, list, use, show, remove")
        .long_about(
            "Keeps instances by name, each a URL and a token, so a command reaches one with \
             `--context NAME` (or DPLOYR_CONTEXT), or the current one with nothing at all.\n\n\
             Which instance a command reaches: --url, else --context, else DPLOYR_URL, else \
             DPLOYR_CONTEXT, else the current context. A context's token is only ever sent to \
             its own URL. The URLs are kept in contexts.toml and the tokens in tokens.toml \
             (readable by you alone), in $XDG_CONFIG_HOME/dployrctl or the platform's \
             configuration folder.",
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("add")
                .about("Adds (or replaces) a context; the token is read from stdin or typed unseen")
                .long_about(
                    "Adds a context NAME for the instance at --url URL (required), or replaces \
                     it. The token is read from standard input (`dployrctl context add prod \
                     --url https://prod.example.com < token.txt`), or typed at a terminal \
                     without echo; never from an argument, which other users see in `ps`. The \
                     first context added becomes the current one.",
                )
                .arg(name()),
        )
        .subcommand(Command::new("list").about("Lists the contexts and which one is current"))
        .subcommand(
            Command::new("use")
                .about("Makes a context the current one")
                .arg(name()),
        )
        .subcommand(
            Command::new("show")
                .about("Shows the context a command would use now (never its token)"),
        )
        .subcommand(
            Command::new("remove")
                .about("Removes a context and its token")
                .arg(name()),
        )
}

/// Runs `dployrctl context VERB`; `chosen` is the context `--context` or
/// `DPLOYR_CONTEXT` names, if any.
pub fn run(matches: &ArgMatches, chosen: Option<&str>, format: Format) -> Result<(), Failure> {
    let store = Store::open()?;
    let unknown = || Failure::Input("see `dployrctl context --help`".into());
    let (verb, args) = matches.subcommand().ok_or_else(unknown)?;
    let name = || {
        args.get_one::<String>("name")
            .map(String::as_str)
            .ok_or_else(|| Failure::Input("NAME is required".into()))
    };
    match verb {
        "add" => {
            let name = name()?;
            check_name(name)?;
            if args.get_one::<String>("token").is_some() {
                return Err(Failure::Input(
                    "context add reads the token from standard input (or asks for it at a \
                     terminal), not from --token, which other users can see in `ps`"
                        .into(),
                ));
            }
            // The global --url, which names the context's instance here.
            let url = args
                .get_one::<String>("url")
                .ok_or_else(|| Failure::Input("context add needs --url URL".into()))?;
            // The same check every command's client makes, before anything is kept.
            dployr::Client::builder(url.as_str()).build()?;
            let token = read_token(name)?;
            let mut settings = store.settings()?;
            settings.contexts.insert(
                name.to_string(),
                Entry {
                    url: url.trim().to_string(),
                },
            );
            let first = settings.current.is_none();
            if first {
                settings.current = Some(name.to_string());
            }
            // The token first: a context never names a token that was not kept.
            store.set_token(name, Some(&token))?;
            store.save_settings(&settings)?;
            let current = if first {
                "; it is the current context"
            } else {
                ""
            };
            eprintln!("context {name} added for {url}{current}");
            if let Some(note) = expiry::expired(&token) {
                eprintln!("note: this token {note}");
            }
            Ok(())
        }
        "list" => {
            let settings = store.settings()?;
            let list: Vec<Value> = settings
                .contexts
                .iter()
                .map(|(name, entry)| {
                    json!({
                        "name": name,
                        "url": entry.url,
                        "current": settings.current.as_deref() == Some(name.as_str()),
                    })
                })
                .collect();
            output::print(&Value::Array(list), format);
            Ok(())
        }
        "use" => {
            let name = name()?;
            let mut settings = store.settings()?;
            if !settings.contexts.contains_key(name) {
                return Err(store.context(name).err().unwrap_or_else(unknown));
            }
            settings.current = Some(name.to_string());
            store.save_settings(&settings)?;
            eprintln!("context {name} is now current");
            Ok(())
        }
        "show" => {
            let settings = store.settings()?;
            let Some(name) = chosen.or(settings.current.as_deref()) else {
                return Err(Failure::Setup(
                    "no context is current; `dployrctl context add NAME --url URL` adds one".into(),
                ));
            };
            let context = store.context(name)?;
            let token = match &context.token {
                None => "none".to_string(),
                Some(token) => match expiry::expired(token) {
                    Some(note) => note,
                    None => "kept".to_string(),
                },
            };
            let shown = json!({
                "name": context.name,
                "url": context.url,
                "current": settings.current.as_deref() == Some(name),
                "token": token,
            });
            output::print(&shown, format);
            Ok(())
        }
        "remove" => {
            let name = name()?;
            let mut settings = store.settings()?;
            if settings.contexts.remove(name).is_none() {
                return Err(store.context(name).err().unwrap_or_else(unknown));
            }
            if settings.current.as_deref() == Some(name) {
                settings.current = None;
            }
            store.save_settings(&settings)?;
            if store.has_token(name)? {
                store.set_token(name, None)?;
            }
            eprintln!("context {name} removed");
            Ok(())
        }
        _ => Err(unknown()),
    }
}

/// The token from standard input, or typed at a terminal without echo.
fn read_token(name: &str) -> Result<String, Failure> {
    let token = if io::stdin().is_terminal() {
        rpassword::prompt_password(format!("access token for {name} (not shown): "))
            .map_err(|e| Failure::Input(format!("cannot read the token: {e}")))?
    } else {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Input(format!("cannot read the token from stdin: {e}")))?;
        text
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(Failure::Input(
            "no token: pipe it on standard input (e.g. `dployrctl context add NAME --url URL \
             < token.txt`), or type it when asked at a terminal"
                .into(),
        ));
    }
    if token.chars().any(char::is_whitespace) {
        return Err(Failure::Input(
            "the token has blanks inside it; give the token alone".into(),
        ));
    }
    Ok(token)
}
