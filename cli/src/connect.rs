//! Which instance a command reaches, and with which token: `--url`, else
//! `--context`, else `DPLOYR_URL`, else `DPLOYR_CONTEXT`, else the current
//! context. A context's token goes to that context's URL alone: with a URL
//! given any other way, the token is `--token`'s or `DPLOYR_TOKEN`'s, or
//! there is none. The environment is read by the library's builder.
//!
//! The token is never taken through clap's `env` support, so no help text,
//! error or `--verbose` line can ever show its value.

use clap::ArgMatches;
use dployr::{Client, ClientBuilder};

use crate::contexts::{Context, Store};
use crate::exit::{Failure, TOKEN_HINT};
use crate::expiry;

/// The variable naming a context for one shell or one command.
pub const CONTEXT_VARIABLE: &str = "DPLOYR_CONTEXT";

/// Where the instance came from, for `--verbose`.
enum Source {
    UrlFlag,
    ContextFlag(Context),
    UrlVariable,
    ContextVariable(Context),
    Current(Context),
}

/// The context `--context` or `DPLOYR_CONTEXT` names, if either does.
pub fn chosen_context(matches: &ArgMatches) -> Option<String> {
    matches
        .get_one::<String>("context")
        .cloned()
        .or_else(|| variable(CONTEXT_VARIABLE))
}

/// Builds the client from the global flags, the environment and the
/// contexts, in that order.
pub fn client(matches: &ArgMatches, verbose: bool) -> Result<Client, Failure> {
    let source = if matches.get_one::<String>("url").is_some() {
        Source::UrlFlag
    } else if let Some(name) = matches.get_one::<String>("context") {
        Source::ContextFlag(Store::open()?.context(name)?)
    } else if variable("DPLOYR_URL").is_some() {
        Source::UrlVariable
    } else if let Some(name) = variable(CONTEXT_VARIABLE) {
        Source::ContextVariable(Store::open()?.context(&name)?)
    } else {
        let store = Store::open()?;
        let current = store.settings()?.current.ok_or_else(|| {
            Failure::Input(
                "no instance to reach: give --url URL, set DPLOYR_URL, or keep one with \
                 `dployrctl context add NAME --url URL`"
                    .into(),
            )
        })?;
        Source::Current(store.context(&current)?)
    };
    let token_flag = matches.get_one::<String>("token");
    let mut builder = match &source {
        Source::UrlFlag => {
            let url = matches.get_one::<String>("url").map_or("", String::as_str);
            ClientBuilder::from_env_with_url(url)?
        }
        Source::UrlVariable => ClientBuilder::from_env()?,
        Source::ContextFlag(context)
        | Source::ContextVariable(context)
        | Source::Current(context) => {
            let builder = ClientBuilder::from_env_with_url(context.url.as_str())?;
            match (&context.token, token_flag) {
                (Some(token), None) => {
                    if let Some(note) = expiry::expired(token) {
                        return Err(Failure::Auth(format!(
                            "the token of context {} {note}; nothing was sent. Keep a new one \
                             with `dployrctl context add {} --url {}` (token on stdin), or \
                             give one with --token",
                            context.name, context.name, context.url
                        )));
                    }
                    builder.access_token(token.as_str())
                }
                _ => builder,
            }
        }
    };
    if let Some(token) = token_flag {
        builder = builder.access_token(token.as_str());
    }
    if verbose {
        let from = match &source {
            Source::UrlFlag => "--url".to_string(),
            Source::UrlVariable => "DPLOYR_URL".to_string(),
            Source::ContextFlag(c) => format!("context {} (--context)", c.name),
            Source::ContextVariable(c) => format!("context {} ({CONTEXT_VARIABLE})", c.name),
            Source::Current(c) => format!("context {} (current)", c.name),
        };
        let token = match (&source, token_flag) {
            (_, Some(_)) => "--token",
            (Source::ContextFlag(c) | Source::ContextVariable(c) | Source::Current(c), None)
                if c.token.is_some() =>
            {
                "the context"
            }
            _ if variable("DPLOYR_TOKEN").is_some() => "DPLOYR_TOKEN",
            _ => "none",
        };
        eprintln!("* instance from {from}; token from {token}");
    }
    Ok(builder.build()?)
}

/// The client's token, required before a call that cannot go without one
/// (a log stream carries it in its query).
pub fn require_token(client: &Client) -> Result<(), Failure> {
    if client.tokens().access_token().is_some() {
        Ok(())
    } else {
        Err(Failure::Auth(format!(
            "no access token is set, and a log stream needs one; {TOKEN_HINT}"
        )))
    }
}

/// A variable's value, when it is set and not blank.
fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
