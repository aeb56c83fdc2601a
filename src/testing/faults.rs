//! The misbehaviour a test asked for: failed answers, slow answers and log
//! streams that break.

use std::time::Duration;

use axum::http::StatusCode;

/// The faults in force; the default is none.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    failures_left: u32,
    failure_status: u16,
    retry_after: Option<u64>,
    pub(crate) delay: Duration,
    pub(crate) drop_streams_after: Option<usize>,
    /// The status every log stream is refused with.
    pub(crate) refuse_streams_with: Option<u16>,
}

/// One injected failure: the status and the `Retry-After` seconds to send.
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<u64>,
}

impl Faults {
    pub(crate) fn fail_next(&mut self, count: u32, status: u16, retry_after: Option<u64>) {
        self.failures_left = count;
        self.failure_status = status;
        self.retry_after = retry_after;
    }

    /// The failure the next request gets, if one is still due.
    pub(crate) fn take_failure(&mut self) -> Option<Failure> {
        if self.failures_left == 0 {
            return None;
        }
        self.failures_left -= 1;
        // A number that is no HTTP status still has to fail the request.
        let status =
            StatusCode::from_u16(self.failure_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Some(Failure {
            status,
            retry_after: self.retry_after,
        })
    }
}

/// The API's message and code for an injected status.
pub(crate) fn describe(status: StatusCode) -> (String, &'static str) {
    let code = match status.as_u16() {
        400 => "request.bad_request",
        401 => "auth.unauthorized",
        403 => "auth.forbidden",
        404 => "resource.not_found",
        409 => "resource.conflict",
        429 => "rate_limit.exceeded",
        500 => "internal.error",
        502..=504 => "service.unavailable",
        _ => "fault.injected",
    };
    let message = status
        .canonical_reason()
        .unwrap_or("Injected failure")
        .to_string();
    (message, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_down() {
        let mut faults = Faults::default();
        assert!(faults.take_failure().is_none());
        faults.fail_next(2, 503, Some(3));
        let first = faults.take_failure().unwrap();
        assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(first.retry_after, Some(3));
        assert!(faults.take_failure().is_some());
        assert!(faults.take_failure().is_none());
    }

    #[test]
    fn an_impossible_status_becomes_500() {
        let mut faults = Faults::default();
        faults.fail_next(1, 7, None);
        assert_eq!(
            faults.take_failure().unwrap().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
