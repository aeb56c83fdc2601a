//! The client every command uses: the instance from `--url` or
//! `DPLOYR_URL`, the token from `--token` or `DPLOYR_TOKEN`.
//!
//! The token is read by hand rather than through clap's `env` support, so
//! no help text, error or `--verbose` line can ever show its value.

use std::time::Duration;

use clap::ArgMatches;
use dployr::{Client, ClientBuilder};

use crate::exit::Failure;

/// Builds the client from the global flags and the environment.
///
/// Without `--url`, [`ClientBuilder::from_env`] reads the whole
/// environment (URL, tokens, timeout). With it, the same variables other
/// than `DPLOYR_URL` still apply.
pub fn client(matches: &ArgMatches, verbose: bool) -> Result<Client, Failure> {
    let url = matches.get_one::<String>("url");
    let token = matches.get_one::<String>("token");
    let mut builder = match url {
        None => ClientBuilder::from_env()?,
        Some(url) => {
            let mut builder = Client::builder(url.as_str());
            if let Some(token) = env("DPLOYR_TOKEN")? {
                builder = builder.access_token(token);
            }
            if let Some(token) = env("DPLOYR_REFRESH_TOKEN")? {
                builder = builder.refresh_token(token);
            }
            if let Some(secs) = env("DPLOYR_TIMEOUT_SECS")? {
                builder = builder.timeout(timeout(&secs)?);
            }
            builder
        }
    };
    if let Some(token) = token {
        builder = builder.access_token(token.as_str());
    }
    if verbose {
        let from = match (url, token) {
            (Some(_), Some(_)) => "--url, token from --token",
            (Some(_), None) => "--url, token (if any) from DPLOYR_TOKEN",
            (None, Some(_)) => "DPLOYR_URL, token from --token",
            (None, None) => "DPLOYR_URL, token (if any) from DPLOYR_TOKEN",
        };
        eprintln!("* instance from {from}");
    }
    Ok(builder.build()?)
}

/// A variable that is unset is `None`; one that is set must be usable.
fn env(name: &str) -> Result<Option<String>, Failure> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Err(Failure::Input(format!("{name} is empty"))),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Failure::Input(format!("{name} is not valid UTF-8")))
        }
    }
}

fn timeout(secs: &str) -> Result<Duration, Failure> {
    match secs.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(Failure::Input(format!(
            "DPLOYR_TIMEOUT_SECS must be a whole number of seconds above 0, got `{secs}`"
        ))),
    }
}
