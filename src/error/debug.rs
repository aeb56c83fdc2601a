//! How an [`Error`] shows in `{:?}`: its kind and only the fields that are
//! set, so a failure reads at a glance instead of as a dozen `None`s.

use std::fmt;

use super::Error;

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &*self.details;
        let mut out = f.debug_struct("Error");
        out.field("kind", &d.kind);
        if let Some(call) = &d.call {
            out.field("operation", &call.operation)
                .field("method", &call.method)
                .field("path", &call.path);
        }
        out.field("message", &d.message);
        if let Some(status) = d.status {
            out.field("status", &status);
        }
        if let Some(code) = &d.code {
            out.field("code", code);
        }
        if let Some(id) = &d.request_id {
            out.field("request_id", id);
        }
        if !d.fields.is_empty() {
            out.field("details", &d.fields);
        }
        if let Some(wait) = d.retry_after {
            out.field("retry_after", &wait);
        }
        if let Some(field) = &d.field {
            out.field("field", field);
        }
        if let Some(snippet) = &d.body_snippet {
            out.field("body_snippet", snippet);
        }
        if d.retryable {
            out.field("retryable", &true);
        }
        if d.budget_spent {
            out.field("retry_budget_spent", &true);
        }
        if let Some((needed, has)) = d.roles {
            out.field("needed_role", &needed);
            if let Some(has) = has {
                out.field("token_role", &has);
            }
        }
        if d.sent_without_token {
            out.field("sent_without_token", &true);
        }
        if let Some(run) = &d.deployment {
            out.field("deployment", run);
        }
        if let Some(source) = &self.source {
            out.field("source", source);
        }
        out.finish()
    }
}
