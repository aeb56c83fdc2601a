//! Times as a person reads them in a table: "3m ago", as Dployr's own
//! command line prints them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, now.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A span of `seconds` in its largest whole unit: `45s`, `3m`, `5h`, `12d`.
pub fn span(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// An RFC 3339 timestamp as `3m ago`; `None` when it is not one.
pub fn ago(timestamp: &str) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc3339(timestamp.trim()).ok()?;
    let at = at.timestamp() as f64 + f64::from(at.timestamp_subsec_millis()) / 1000.0;
    Some(format!("{} ago", span(now() - at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_their_largest_unit() {
        assert_eq!(span(0.4), "0s");
        assert_eq!(span(59.0), "59s");
        assert_eq!(span(185.0), "3m");
        assert_eq!(span(7200.0), "2h");
        assert_eq!(span(3.0 * 86_400.0), "3d");
        assert_eq!(span(-5.0), "0s");
        assert!(ago("2020-01-01T00:00:00Z").unwrap().ends_with("d ago"));
        assert_eq!(ago("yesterday"), None);
    }
}
