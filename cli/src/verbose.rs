//! `--verbose`: one line on stderr per HTTP attempt of any command (polls
//! and log-stream opens included), from the library's own per-attempt
//! tracing event, so the line shows what was sent rather than what the
//! command meant to send. The library redacts credentials from the path
//! and query; the token is in no field of the event.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The target of the library's event, one per attempt.
const ATTEMPT_TARGET: &str = "dployr::http::attempt";

/// Starts printing a line per attempt, for the rest of the process.
pub fn start() {
    // Fails only when a subscriber is set already, and none is.
    let _ = tracing::subscriber::set_global_default(Attempts);
}

/// A subscriber that wants the attempt events and nothing else, so every
/// other span and event of the library stays as cheap as with none.
struct Attempts;

impl Subscriber for Attempts {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // By target alone: the library asks `enabled!` (a hint, not an event)
        // before it gathers what the event needs.
        !metadata.is_span() && metadata.target() == ATTEMPT_TARGET
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Never called: no span is enabled.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        eprintln!("{}", fields.line());
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The fields of one attempt event.
#[derive(Default)]
struct Fields {
    method: String,
    path: String,
    status: Option<u64>,
    error: String,
    duration_ms: f64,
    attempt: u64,
}

impl Fields {
    /// `> GET /services?limit=100&offset=0  200  3.1 ms  (attempt 1)`
    fn line(&self) -> String {
        let outcome = match (self.status, self.error.as_str()) {
            (Some(status), _) => status.to_string(),
            (None, "") => "no answer".to_string(),
            (None, kind) => format!("{} error", kind.to_lowercase()),
        };
        let mut line = String::new();
        let _ = write!(
            line,
            "> {} {}  {outcome}  {:.1} ms  (attempt {})",
            self.method,
            crate::exit::one_line(&self.path),
            self.duration_ms,
            self.attempt
        );
        line
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "method" => self.method = value.to_string(),
            "path" => self.path = value.to_string(),
            "error" => self.error = value.to_string(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "status" => self.status = Some(value),
            "attempt" => self.attempt = value,
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "duration_ms" {
            self.duration_ms = value;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Only the message arrives here; no field carries a secret.
        let _ = (field, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_reads_as_one_line() {
        let fields = Fields {
            method: "GET".into(),
            path: "/logs/stream?id=d1&token=redacted".into(),
            status: Some(200),
            error: String::new(),
            duration_ms: 3.125,
            attempt: 2,
        };
        assert_eq!(
            fields.line(),
            "> GET /logs/stream?id=d1&token=redacted  200  3.1 ms  (attempt 2)"
        );
        let failed = Fields {
            status: None,
            error: "Connect".into(),
            ..fields
        };
        assert!(failed.line().contains("connect error"), "{}", failed.line());
    }
}
