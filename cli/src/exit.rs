//! What a command that did not succeed prints, and the exit code it ends
//! with, so a script can tell bad input from bad credentials from a missing
//! resource without reading the message.

use std::fmt;
use std::process::ExitCode;

use dployr::{Error, ErrorKind};

/// Anything not listed below: the instance failed, the network did, a
/// deployment ended `failed`.
pub const FAILED: u8 = 1;
/// Usage, or input refused before or by the instance: a missing argument,
/// an unreadable file, a field that does not fit, a missing URL.
pub const INVALID_INPUT: u8 = 2;
/// The token is missing, expired, refused or not allowed the operation.
pub const AUTH: u8 = 3;
/// The deployment, service or route does not exist.
pub const NOT_FOUND: u8 = 4;

/// The exit codes as `--help` and the README list them.
pub const TABLE: &str = "\
Exit codes:
  0  success
  1  failure: the instance or the network failed, or a deployment ended failed
  2  usage or invalid input (named field, unreadable file, missing URL)
  3  authentication: no token, or it was refused or lacks the role
  4  not found";

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The SDK's error: its kind chooses the exit code.
    Api(Error),
    /// Input the command line could not use before asking the SDK (a file it
    /// cannot read, a `--set` that is not JSON).
    Input(String),
    /// The SDK's error at the end of a deployment followed live: its log
    /// has been shown as it came, so only the reason is left to print.
    Followed(Error),
    /// The command line's own files or settings cannot be used (a malformed
    /// or readable-by-others file, an unknown context): exit 2, said as is.
    Setup(String),
    /// No usable token, found before anything was sent (an expired one, or
    /// none for a log stream): exit 3, said as is.
    Auth(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Api(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Api(error) | Failure::Followed(error) => f.write_str(&words(error)),
            Failure::Input(why) => write!(f, "invalid input, nothing was sent: {why}"),
            Failure::Setup(why) | Failure::Auth(why) => f.write_str(why),
        }
    }
}

impl Failure {
    /// The exit code for this failure.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Input(_) | Failure::Setup(_) => INVALID_INPUT,
            Failure::Auth(_) => AUTH,
            Failure::Api(error) | Failure::Followed(error) => code_of(error.kind()),
        }
    }

    /// Prints the failure on stderr as one line; a failed deployment's last
    /// log lines come first, so the reason is the last thing a CI log shows.
    pub fn report(&self) -> ExitCode {
        if let Failure::Api(error) = self {
            if !error.log_tail().is_empty() {
                eprintln!("last log lines:");
                for line in error.log_tail() {
                    eprintln!("  | {}", one_line(line));
                }
            }
        }
        eprintln!("error: {self}");
        ExitCode::from(self.code())
    }
}

/// How a user of the command line takes a token, for messages about one.
pub const TOKEN_HINT: &str = "give one with --token or DPLOYR_TOKEN, or keep one in a context \
     (`dployrctl context add NAME --url URL`, then `dployrctl context use NAME`)";

/// The SDK's error in the command line's words: where the library's own
/// sentence speaks to a program (its types, its methods), the facts it
/// carries are worded for a person at a shell.
fn words(error: &Error) -> String {
    match error.kind() {
        ErrorKind::DeploymentFailed => {
            let id = one_line(error.deployment_id().unwrap_or("?"));
            let status = error
                .deployment_status()
                .map_or_else(|| "?".to_string(), ToString::to_string);
            format!(
                "deployment {} ({id}) ended with status {status} ({}); its whole log: \
                 `dployrctl logs {id}`",
                one_line(error.deployment_name().unwrap_or("?")),
                one_line(error.message()),
            )
        }
        ErrorKind::Auth => format!(
            "the access token could not be refreshed ({}); {TOKEN_HINT}",
            one_line(error.message())
        ),
        _ if error.sent_without_token() => {
            let status = error
                .status()
                .map_or_else(|| "401".to_string(), |s| s.to_string());
            format!(
                "the instance answered {status}: the request went out without an access \
                 token, as none is set; {TOKEN_HINT}"
            )
        }
        _ => error.to_string(),
    }
}

/// The exit code for an SDK error of this kind.
pub fn code_of(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::Validation | ErrorKind::Config => INVALID_INPUT,
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::Auth => AUTH,
        ErrorKind::NotFound => NOT_FOUND,
        _ => FAILED,
    }
}

/// Text from the instance with control characters shown as spaces, so a log
/// line cannot move the cursor or recolour the terminal.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_documented_codes() {
        assert_eq!(code_of(ErrorKind::Validation), 2);
        assert_eq!(code_of(ErrorKind::Config), 2);
        assert_eq!(code_of(ErrorKind::Forbidden), 3);
        assert_eq!(code_of(ErrorKind::Auth), 3);
        assert_eq!(code_of(ErrorKind::NotFound), 4);
        assert_eq!(code_of(ErrorKind::Server), 1);
        assert_eq!(code_of(ErrorKind::DeploymentFailed), 1);
        assert_eq!(Failure::Input("x".into()).code(), 2);
        assert_eq!(Failure::Setup("x".into()).code(), 2);
        assert_eq!(Failure::Auth("x".into()).code(), 3);
    }

    #[test]
    fn control_characters_do_not_reach_the_terminal() {
        assert_eq!(one_line("a\x1b[2Jb\nc"), "a [2Jb c");
    }
}
