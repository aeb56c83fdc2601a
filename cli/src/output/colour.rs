//! Statuses in colour on a terminal: green when all is well, red when it
//! failed, yellow while in progress. `NO_COLOR` (any value) always wins;
//! `CLICOLOR_FORCE=1` colours a table written to a pipe.

use std::io::IsTerminal;

/// Whether a table is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colours(pub bool);

impl Colours {
    /// The choice for stdout, from the environment and the terminal.
    pub fn for_stdout() -> Colours {
        Colours::choose(
            std::env::var_os("NO_COLOR").is_some(),
            std::env::var("CLICOLOR_FORCE").ok().as_deref(),
            std::io::stdout().is_terminal(),
        )
    }

    fn choose(no_color: bool, force: Option<&str>, terminal: bool) -> Colours {
        let forced = force.is_some_and(|v| !v.is_empty() && v != "0");
        Colours(!no_color && (forced || terminal))
    }

    /// `text` (already padded) in the colour of `status`, if any.
    pub fn status(self, status: &str, text: &str) -> String {
        if !self.0 {
            return text.to_string();
        }
        let code = match status.trim().to_ascii_lowercase().as_str() {
            "running" | "completed" | "healthy" | "active" | "ok" | "success" => "32",
            "failed" | "error" | "unhealthy" | "crashed" | "stopped" => "31",
            "pending" | "queued" | "building" | "deploying" | "starting" | "in_progress"
            | "in-progress" | "restarting" | "installing" | "cloning" => "33",
            _ => return text.to_string(),
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_and_force_colours_a_pipe() {
        assert_eq!(Colours::choose(true, Some("1"), true), Colours(false));
        assert_eq!(Colours::choose(false, Some("1"), false), Colours(true));
        assert_eq!(Colours::choose(false, Some("0"), false), Colours(false));
        assert_eq!(Colours::choose(false, None, true), Colours(true));
        assert_eq!(Colours::choose(false, None, false), Colours(false));
        assert_eq!(
            Colours(true).status("failed", "failed "),
            "\x1b[31mfailed \x1b[0m"
        );
        assert_eq!(Colours(true).status("weird", "weird"), "weird");
        assert_eq!(Colours(false).status("failed", "failed"), "failed");
    }
}
