//! `dployrctl`: the control tool of a Dployr instance, its API from the
//! command line (beside the daemon `dployrd` and Dployr's own `dployr`).
//!
//! Every operation of the API's spec is a command made at start-up from
//! [`dployr::operations`] (see `commands.rs` and `naming.rs`); `deploy`,
//! `logs`, `api`, `context` and `completions` are written by hand.

mod age;
mod api;
mod body;
mod cli;
mod commands;
mod connect;
mod contexts;
mod deploy;
mod exit;
mod expiry;
mod logs;
mod naming;
mod output;
mod progress;
mod verbose;

use std::process::ExitCode;

use clap::ArgMatches;

use crate::commands::Entry;
use crate::exit::Failure;
use crate::output::Format;

fn main() -> ExitCode {
    // A panic's message could quote a value it was handed, a token among
    // them: say where it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: dployrctl stopped on an internal error{at}; please report it");
    }));
    let entries = commands::entries();
    let mut root = cli::root(&entries);
    let matches = match root.try_get_matches_from_mut(std::env::args_os()) {
        Ok(matches) => matches,
        Err(error) => {
            // Help and --version are "errors" that print to stdout and exit 0.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(exit::INVALID_INPUT));
        }
    };
    let Some((name, sub)) = matches.subcommand() else {
        return ExitCode::from(exit::INVALID_INPUT);
    };
    if name == "completions" {
        if let Some(shell) = sub.get_one::<clap_complete::Shell>("shell") {
            clap_complete::generate(*shell, &mut root, "dployrctl", &mut std::io::stdout());
        }
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(dispatch(&entries, &matches)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Runs the command `matches` names.
async fn dispatch(entries: &[Entry], matches: &ArgMatches) -> Result<(), Failure> {
    let format = Format::choose(matches.get_one::<String>("output").map(String::as_str));
    if matches.get_flag("verbose") {
        verbose::start();
    }
    let unknown = || Failure::Input("no such command; see `dployrctl --help`".into());
    let (name, sub) = matches.subcommand().ok_or_else(unknown)?;
    if name == "context" {
        // Keeps contexts; reaches no instance.
        let chosen = connect::chosen_context(matches);
        return contexts::command::run(sub, chosen.as_deref(), format);
    }
    let client = connect::client(matches, matches.get_flag("verbose"))?;
    match name {
        "deploy" => deploy::run(&client, sub, format).await,
        "logs" => logs::run(&client, sub).await,
        "api" => api::run(&client, sub, format).await,
        noun => {
            let (verb, args) = sub.subcommand().ok_or_else(unknown)?;
            let entry = entries
                .iter()
                .find(|e| e.name.noun == noun && e.name.verb == verb)
                .ok_or_else(unknown)?;
            commands::run(&client, entry.op, args, format).await
        }
    }
}
