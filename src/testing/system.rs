//! The proxy and system operations.

use axum::http::header::HOST;
use axum::http::StatusCode;

use super::call::{Answer, Call};
use super::host;
use super::reply::Reply;
use super::validate;
use crate::types::{
    DoctorStatus, KnownDoctorStatus, KnownSystemHealth, Message, ProxyStatus, ProxySummary,
    RequestDomainResponse, ServiceCounts, SystemDoctorResult, SystemStatus,
};

/// The zone base hands managed domains out of.
const MANAGED_ZONE: &str = "dployr.dev";

fn message(status: StatusCode, text: &str) -> Reply {
    Reply::json(
        status,
        &Message {
            message: text.to_string(),
        },
    )
}

pub(crate) fn proxy_status(_call: &Call) -> Answer {
    let status = ProxyStatus {
        status: "running".to_string(),
    };
    Ok(Reply::json(StatusCode::OK, &status))
}

pub(crate) fn restart_proxy(_call: &Call) -> Answer {
    Ok(message(StatusCode::OK, "Proxy restarted successfully"))
}

/// A route for a domain that already has one replaces it, and counts as
/// the most recent.
pub(crate) fn add_route(call: &Call) -> Answer {
    let (domain, upstream) = validate::proxy_route(&call.object()?)?;
    let mut store = call.shared.store();
    store.routes.retain(|(d, _)| *d != domain);
    store.routes.push((domain, upstream));
    Ok(message(StatusCode::CREATED, "Route added successfully"))
}

/// The spec gives `DELETE /proxy/remove` no body to name a route, so it
/// removes the most recently added one.
pub(crate) fn remove_route(call: &Call) -> Answer {
    match call.shared.store().routes.pop() {
        Some(_) => Ok(message(StatusCode::OK, "Route removed successfully")),
        None => Err(Reply::error(
            StatusCode::NOT_FOUND,
            "No proxy route to remove",
            "resource.not_found",
        )),
    }
}

pub(crate) fn status(call: &Call) -> Answer {
    let ((total, running, stopped), routes) = {
        let store = call.shared.store();
        (store.service_counts(), store.routes.len() as i64)
    };
    let status = SystemStatus {
        proxy: ProxySummary {
            status: "running".to_string(),
            routes,
        },
        services: ServiceCounts {
            running,
            stopped,
            total,
        },
        status: KnownSystemHealth::Healthy.into(),
        uptime: host::go_duration(call.shared.started.elapsed()),
    };
    Ok(Reply::json(StatusCode::OK, &status))
}

pub(crate) fn info(call: &Call) -> Answer {
    let info = host::system_info(call.shared.started_at.to_rfc3339());
    Ok(Reply::json(StatusCode::OK, &info))
}

fn ok(output: String) -> Reply {
    Reply::json(
        StatusCode::OK,
        &SystemDoctorResult {
            error: None,
            output: Some(output),
            status: DoctorStatus::from(KnownDoctorStatus::Ok),
        },
    )
}

pub(crate) fn doctor(call: &Call) -> Answer {
    let ((_, running, stopped), routes) = {
        let store = call.shared.store();
        (store.service_counts(), store.routes.len())
    };
    Ok(ok(format!(
        "api: ok\nproxy: ok ({routes} routes)\nservices: ok ({running} running, {stopped} stopped)\n"
    )))
}

pub(crate) fn install(call: &Call) -> Answer {
    let asked = validate::install_request(&call.object()?)?;
    let version = asked.unwrap_or_else(host::version);
    Ok(ok(format!("dployr {version} installed\n")))
}

/// Needs no token: the claim is the credential. Any non-empty claim is
/// accepted.
pub(crate) fn register(call: &Call) -> Answer {
    validate::register_request(&call.object()?)?;
    Ok(Reply::Empty(StatusCode::OK))
}

/// Needs no token: the installation token is the credential, and any
/// non-empty one is accepted. The domain is named after the port the
/// instance was reached on, so each running instance gets its own, and
/// asking again gives the same one.
pub(crate) fn request_domain(call: &Call) -> Answer {
    validate::domain_request(&call.object()?)?;
    let port = call
        .headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .and_then(|host| host.rsplit_once(':'))
        .and_then(|(_, port)| port.parse::<u16>().ok());
    let label = match port {
        Some(port) => format!("local-{port}"),
        None => "local".to_string(),
    };
    let domain = RequestDomainResponse {
        domain: format!("{label}.{MANAGED_ZONE}"),
    };
    Ok(Reply::json(StatusCode::OK, &domain))
}
