//! The `dployrctl` binary run as a process against `dployr::testing::LocalInstance`:
//! every operation's command, deploy-and-wait, logs, the escape hatch, exit
//! codes, output formats and the token kept out of every output.

mod support;

// The rule the binary names commands by, included as it is.
#[path = "../../src/naming.rs"]
#[allow(dead_code)]
mod naming;

mod contexts;
mod deploy;
mod exit_codes;
mod operations;
mod secrets;
mod terminal;
