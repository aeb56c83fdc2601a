//! `dployrctl api`: any method and path, for what this version's spec does not
//! describe, with the same token, retries and timeouts as every command.

use clap::ArgMatches;
use dployr::{Client, Method};
use serde_json::Value;

use crate::body;
use crate::exit::Failure;
use crate::output::{self, Format};

/// Runs `dployrctl api`.
pub async fn run(client: &Client, matches: &ArgMatches, format: Format) -> Result<(), Failure> {
    let given = |id: &str| {
        matches
            .get_one::<String>(id)
            .ok_or_else(|| Failure::Input(format!("{} is required", id.to_uppercase())))
    };
    let method_name = given("method")?;
    let path = given("path")?;
    let method = Method::from_bytes(method_name.to_uppercase().as_bytes())
        .map_err(|_| Failure::Input(format!("`{method_name}` is not an HTTP method")))?;
    let mut request = client.raw(method, path);
    for pair in matches.get_many::<String>("query").into_iter().flatten() {
        let (name, value) = pair
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| Failure::Input(format!("--query takes NAME=VALUE, got `{pair}`")))?;
        request = request.query(name, value);
    }
    if let Some(file) = matches.get_one::<String>("body") {
        request = request.json(&body::read_json(file)?);
    }
    let answer = request.send().await?;
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value = serde_json::from_slice(&answer.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer.body).into_owned()));
    output::print(&value, format);
    Ok(())
}
