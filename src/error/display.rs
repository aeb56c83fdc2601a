//! How an [`Error`](super::Error) reads: one sentence on one line, whatever
//! the instance sent.

use std::fmt;

use super::{Details, ErrorKind};

impl fmt::Display for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(call) = &self.call {
            write!(
                f,
                "{} ({} {}): ",
                call.operation,
                call.method,
                OneLine(&call.path)
            )?;
        }
        match (self.kind, self.status) {
            (ErrorKind::InvalidInput, _) => write!(
                f,
                "invalid input, nothing was sent: {}",
                OneLine(&self.message)
            )?,
            (ErrorKind::Config, _) => {
                write!(f, "invalid configuration: {}", OneLine(&self.message))?
            }
            (ErrorKind::DeploymentFailed, _) => write_failed_deployment(f, self)?,
            // The instance answered with success; its body is what failed.
            (ErrorKind::Decode, _) => write!(f, "{}", OneLine(&self.message))?,
            (ErrorKind::Auth, _) => write!(
                f,
                "refreshing the access token failed ({}); set new tokens on the TokenManager",
                OneLine(&self.message)
            )?,
            (_, Some(status)) if Some(self.message.as_str()) == status.canonical_reason() => {
                write!(f, "the instance answered {status}")?
            }
            (_, Some(status)) => write!(
                f,
                "the instance answered {status}: {}",
                OneLine(&self.message)
            )?,
            _ => write!(f, "{}", OneLine(&self.message))?,
        }
        if !self.fields.is_empty() {
            f.write_str(" [")?;
            for (i, d) in self.fields.iter().enumerate() {
                let sep = if i == 0 { "" } else { "; " };
                write!(f, "{sep}{}: {}", OneLine(&d.field), OneLine(&d.message))?;
            }
            f.write_str("]")?;
        }
        if let Some(code) = &self.code {
            write!(f, " (code {})", OneLine(code))?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {}s)", wait.as_secs_f32())?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {})", OneLine(id))?;
        }
        if let Some((needed, has)) = self.roles {
            let operation = self.call.as_ref().map_or("the operation", |c| c.operation);
            write!(f, "; {operation} needs the {needed} role")?;
            if let Some(has) = has {
                write!(f, " and the token has the {has} role")?;
            }
        }
        if self.sent_without_token {
            f.write_str(
                "; the request went out without an access token, because none is set \
                 (set one on the TokenManager, or DPLOYR_TOKEN)",
            )?;
        }
        if self.budget_spent {
            f.write_str(
                "; not retried, because the client's retry budget is spent \
                 (it refills as calls succeed)",
            )?;
        }
        Ok(())
    }
}

/// Text from the instance, with each run of control characters (a newline,
/// a terminal escape) and the blanks around it shown as one space, so an
/// error always prints as one line.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = self.0.split(char::is_control);
        let Some(first) = parts.next() else {
            return Ok(());
        };
        let mut pending = first;
        for next in parts {
            if next.trim().is_empty() {
                // Part of a run of control characters: one space for all.
                pending = pending.trim_end();
                continue;
            }
            f.write_str(pending.trim_end())?;
            f.write_str(" ")?;
            pending = next.trim_start();
        }
        f.write_str(pending)
    }
}

/// One sentence: which deployment, how it ended, why, and where its log is.
/// What the instance sent may span lines; it is written on one.
fn write_failed_deployment(f: &mut fmt::Formatter<'_>, details: &Details) -> fmt::Result {
    let Some(d) = details.deployment.as_deref() else {
        return write!(f, "{}", OneLine(&details.message));
    };
    let id = OneLine(&d.id);
    write!(
        f,
        "deployment {} ({id}) ended with status {} ({}); ",
        OneLine(&d.name),
        OneLine(&d.status.to_string()),
        OneLine(&details.message)
    )?;
    if !d.log_tail.is_empty() {
        write!(
            f,
            "its last {} log lines are in log_tail(), ",
            d.log_tail.len()
        )?;
    }
    write!(f, "its full build log is at GET /logs/stream?id={id}")
}
