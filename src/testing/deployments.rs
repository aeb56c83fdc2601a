//! `GET /deployments` and `POST /deployments`.

use axum::http::StatusCode;

use super::call::{Answer, Call};
use super::lifecycle;
use super::reply::Reply;
use super::state::newest_first;
use super::validate;
use crate::types::{DeployResponse, DeploymentList};

pub(crate) fn list(call: &Call) -> Answer {
    let (offset, limit) = validate::page(call.query_pairs())?;
    let page = {
        let store = call.shared.store();
        DeploymentList {
            deployments: newest_first(&store.deployments, offset, limit, |r| r.deployment.clone()),
            total: store.deployments.len() as i64,
        }
    };
    Ok(Reply::json(StatusCode::OK, &page))
}

pub(crate) fn create(call: &Call) -> Answer {
    let request = validate::deploy_request(&call.object()?)?;
    let (deployment, log) = {
        let mut store = call.shared.store();
        let fail = store.failing_names.contains(request.name.as_str());
        (
            lifecycle::accept(&mut store, &request),
            lifecycle::plan(&request, fail),
        )
    };
    lifecycle::spawn(call.shared.clone(), deployment.id.clone(), log);
    let answer = DeployResponse {
        created_at: deployment.created_at,
        id: deployment.id,
        name: request.name.to_string(),
        success: true,
    };
    Ok(Reply::json(StatusCode::CREATED, &answer))
}
