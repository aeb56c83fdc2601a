//! `GET /services` and `GET`, `PUT`, `PATCH`, `DELETE /services/{serviceId}`.

use axum::http::StatusCode;
use chrono::Utc;

use super::call::{Answer, Call};
use super::reply::Reply;
use super::state::{newest_first, Store};
use super::validate;
use crate::types::{Service, ServiceList, ServiceUpdate};

pub(crate) fn list(call: &Call) -> Answer {
    let (offset, limit) = validate::page(call.query_pairs())?;
    let page = {
        let store = call.shared.store();
        ServiceList {
            services: newest_first(&store.services, offset, limit, Service::clone),
            total: store.services.len() as i64,
        }
    };
    Ok(Reply::json(StatusCode::OK, &page))
}

pub(crate) fn get(call: &Call, id: &str) -> Answer {
    let store = call.shared.store();
    let index = find(&store, id)?;
    Ok(Reply::json(StatusCode::OK, &store.services[index]))
}

/// `PUT`: the settings a `ServiceUpdate` holds are replaced, absent ones
/// cleared. The name is required on a service, so an absent one is kept;
/// what a deployment sets (source, runtime, remote, status) is not a
/// setting of `ServiceUpdate` and stays.
pub(crate) fn replace(call: &Call, id: &str) -> Answer {
    let update = validate::service_update(&call.object()?)?;
    change(call, id, update, |service, update| {
        if let Some(name) = update.name {
            service.name = name.to_string();
        }
        service.description = update.description;
        service.runtime_version = update.runtime_version;
        service.run_cmd = update.run_cmd;
        service.build_cmd = update.build_cmd;
        service.port = update.port;
        service.working_dir = update.working_dir;
        service.static_dir = update.static_dir;
        service.image = update.image;
        service.env_vars = update.env_vars;
        service.branch = update.branch;
    })
}

/// `PATCH`: only the fields present in the body change.
pub(crate) fn patch(call: &Call, id: &str) -> Answer {
    let update = validate::service_update(&call.object()?)?;
    change(call, id, update, |service, update| {
        fn merge<T>(field: &mut Option<T>, value: Option<T>) {
            if value.is_some() {
                *field = value;
            }
        }
        if let Some(name) = update.name {
            service.name = name.to_string();
        }
        merge(&mut service.description, update.description);
        merge(&mut service.runtime_version, update.runtime_version);
        merge(&mut service.run_cmd, update.run_cmd);
        merge(&mut service.build_cmd, update.build_cmd);
        merge(&mut service.port, update.port);
        merge(&mut service.working_dir, update.working_dir);
        merge(&mut service.static_dir, update.static_dir);
        merge(&mut service.image, update.image);
        merge(&mut service.env_vars, update.env_vars);
        merge(&mut service.branch, update.branch);
    })
}

pub(crate) fn delete(call: &Call, id: &str) -> Answer {
    let mut store = call.shared.store();
    let index = find(&store, id)?;
    store.services.remove(index);
    Ok(Reply::Empty(StatusCode::NO_CONTENT))
}

fn find(store: &Store, id: &str) -> Result<usize, Reply> {
    store
        .service_position(id)
        .ok_or_else(|| Reply::not_found("Service"))
}

/// Applies `how` to service `id` and answers with the result. Services are
/// found by name when deploying, so a name another service has is refused.
fn change(
    call: &Call,
    id: &str,
    update: ServiceUpdate,
    how: impl FnOnce(&mut Service, ServiceUpdate),
) -> Answer {
    let mut store = call.shared.store();
    let index = find(&store, id)?;
    if let Some(name) = &update.name {
        let taken = store
            .services
            .iter()
            .enumerate()
            .any(|(i, s)| i != index && s.name == name.as_str());
        if taken {
            return Err(Reply::invalid("name", "is already used by another service"));
        }
    }
    let service = &mut store.services[index];
    how(service, update);
    service.updated_at = Some(Utc::now());
    Ok(Reply::json(StatusCode::OK, &*service))
}
