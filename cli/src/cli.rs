//! The whole command tree: global flags, the commands made from the spec,
//! and the hand-written ones a pipeline needs.

use clap::{value_parser, Arg, ArgAction, Command};

use crate::commands::{self, Entry};
use crate::contexts;
use crate::exit;

/// `dployrctl` with every command.
pub fn root(entries: &[Entry]) -> Command {
    Command::new("dployrctl")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The Dployr API from the command line: every operation of its spec, and deploy-and-wait for pipelines")
        .after_help(format!(
            "The groups above are made from the API spec, one command per operation \
             (`dployrctl services --help` lists its verbs).\n\n\
             Which instance: --url, else --context, else DPLOYR_URL, else DPLOYR_CONTEXT, \
             else the current context (`dployrctl context --help`). A context's token is \
             only ever sent to its own URL.\n\n\
             Environment:\n  \
             DPLOYR_URL            the instance, when neither --url nor --context is given\n  \
             DPLOYR_CONTEXT        the context to use, when nothing above names an instance\n  \
             DPLOYR_TOKEN          the access token, when --token is not given\n  \
             DPLOYR_REFRESH_TOKEN  a refresh token\n  \
             DPLOYR_TIMEOUT_SECS   the timeout of each call\n  \
             NO_COLOR              no colours, whatever else is set\n  \
             CLICOLOR_FORCE=1      colours in a table written to a pipe\n  \
             COLUMNS               the width tables fit, in place of the terminal's\n\n{}",
            exit::TABLE
        ))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("url")
                .long("url")
                .global(true)
                .help_heading("Global options")
                .value_name("URL")
                .help("The instance's base URL; its token comes from --token or DPLOYR_TOKEN"),
        )
        .arg(
            Arg::new("context")
                .long("context")
                .global(true)
                .help_heading("Global options")
                .value_name("NAME")
                .help("The kept instance to use, with its token [else DPLOYR_CONTEXT]"),
        )
        .arg(
            Arg::new("token")
                .long("token")
                .global(true)
                .help_heading("Global options")
                .value_name("TOKEN")
                .help("The access token [else DPLOYR_TOKEN]; never printed"),
        )
        .arg(
            Arg::new("output")
                .long("output")
                .short('o')
                .global(true)
                .help_heading("Global options")
                .value_name("FORMAT")
                .value_parser(["json", "table", "wide"])
                .help(
                    "json, table or wide (every column) [default: table on a terminal, json \
                     otherwise]",
                ),
        )
        .arg(
            Arg::new("verbose")
                .long("verbose")
                .short('v')
                .global(true)
                .help_heading("Global options")
                .action(ArgAction::SetTrue)
                .help("Shows each HTTP attempt on stderr: method, path, status, time (never the token)"),
        )
        .subcommands(commands::groups(entries))
        .subcommand(deploy())
        .subcommand(logs())
        .subcommand(api())
        .subcommand(contexts::command::command())
        .subcommand(completions())
}

/// The access notes of the operations a hand-written command calls, as a
/// paragraph of its help.
fn needs(ids: &[&str]) -> String {
    let notes: Vec<String> = ids
        .iter()
        .filter_map(|id| commands::operation(id))
        .map(|op| format!("{}: {}", op.id(), commands::access_note(op)))
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!("\n\n{}", notes.join("\n"))
    }
}

fn deploy() -> Command {
    Command::new("deploy")
        .about("Creates a deployment from a file; with --wait, follows it to its end")
        .long_about(format!(
            "Creates a deployment from a JSON file holding a DeployRequest (the body of \
             `deployments create`), checked before it is sent.\n\n\
             Without --wait it prints the created deployment. With --wait it prints the \
             build log and status changes on stderr as they come, then the finished \
             deployment on stdout, and exits 0 when it completed, 1 when it failed (after \
             its last log lines and the reason), 2 when the file is unreadable or a field \
             does not fit (named).{}",
            needs(&["createDeployment", "openLogStream"]),
        ))
        .arg(
            Arg::new("file")
                .long("file")
                .short('f')
                .required(true)
                .value_name("FILE")
                .help("The deploy request as JSON (`-` for stdin)"),
        )
        .arg(
            Arg::new("wait")
                .long("wait")
                .action(ArgAction::SetTrue)
                .help("Follows the deployment; the exit code tells how it ended"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECS")
                .value_parser(value_parser!(u64).range(1..))
                .help("With --wait, how long to follow it [default: 1800]"),
        )
}

fn logs() -> Command {
    Command::new("logs")
        .about("Prints the log of a deployment or service as lines")
        .long_about(format!(
            "Prints the log of a deployment or service, one line each, resuming after a \
             dropped connection with no line lost or repeated.\n\n\
             Without --follow it prints what the log holds and stops once it ends or \
             nothing new arrives for a second; with --follow it waits for the end.{}",
            needs(&["openLogStream"]),
        ))
        .arg(
            Arg::new("id")
                .required(true)
                .value_name("DEPLOYMENT_ID")
                .help("The id of a deployment or service"),
        )
        .arg(
            Arg::new("follow")
                .long("follow")
                .short('F')
                .action(ArgAction::SetTrue)
                .help("Keeps printing new lines until the log ends"),
        )
}

fn api() -> Command {
    Command::new("api")
        .about("Sends any request, for paths newer than this version (the raw escape hatch)")
        .long_about(
            "Sends METHOD PATH to the instance with the same token, retries and timeouts \
             as every command, and prints the answer.",
        )
        .arg(
            Arg::new("method")
                .required(true)
                .value_name("METHOD")
                .help("GET, POST, PUT, PATCH, DELETE, ..."),
        )
        .arg(
            Arg::new("path")
                .required(true)
                .value_name("PATH")
                .help("The path under the base URL, e.g. /system/status"),
        )
        .arg(
            Arg::new("body")
                .long("body")
                .value_name("FILE")
                .help("A JSON body from FILE (`-` for stdin)"),
        )
        .arg(
            Arg::new("query")
                .long("query")
                .short('q')
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .help("Adds a query parameter"),
        )
}

fn completions() -> Command {
    Command::new("completions")
        .about("Prints a shell completion script")
        .long_about(
            "Prints a completion script for SHELL on stdout, e.g.\n  \
             dployrctl completions bash > ~/.local/share/bash-completion/completions/dployrctl",
        )
        .arg(
            Arg::new("shell")
                .required(true)
                .value_name("SHELL")
                .value_parser(value_parser!(clap_complete::Shell)),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_is_consistent_and_groups_keep_their_tag_names() {
        let entries = commands::entries();
        root(&entries).debug_assert();
        for entry in &entries {
            assert_eq!(entry.name.noun, entry.op.tag(), "{}", entry.op.id());
        }
    }
}
