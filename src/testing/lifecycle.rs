//! A deployment's life after it is accepted: one log entry per phase delay,
//! the status moving from `pending` through `in_progress` to `completed` or
//! `failed`, and its service following along.

use std::sync::Arc;

use chrono::Utc;

use super::state::{new_id, DeploymentRecord, LogEntry, Shared, Store};
use crate::types::{
    Blueprint, DeployRequest, Deployment, DeploymentStatus, KnownDeploymentStatus, Service,
};

/// The log a deployment will write, entry by entry; the last one ends it.
pub(crate) fn plan(request: &DeployRequest, fail: bool) -> Vec<LogEntry> {
    let name = request.name.as_str();
    let from_image = request.source.to_string() == "image";
    let fetch = match (&request.remote, &request.image) {
        (_, Some(image)) if from_image => format!("pulling {image}"),
        (Some(remote), _) => match &remote.branch {
            Some(branch) => format!("cloning {} ({branch})", remote.url),
            None => format!("cloning {}", remote.url),
        },
        (None, Some(image)) => format!("pulling {image}"),
        (None, None) => "preparing the source".to_string(),
    };
    let version = request.runtime.version.as_deref().unwrap_or("latest");
    let mut log = vec![
        LogEntry::Line(fetch),
        LogEntry::Line(format!("installing {}@{version}", request.runtime.type_)),
        LogEntry::Line("building".to_string()),
    ];
    if fail {
        log.push(LogEntry::Failed(format!(
            "build failed: the instance was told to fail deployments named `{name}`"
        )));
        return log;
    }
    log.push(LogEntry::Line(match request.port {
        Some(port) => format!("starting {name} on port {port}"),
        None => format!("starting {name}"),
    }));
    log.push(LogEntry::Done(format!("deployment {name} completed")));
    log
}

/// What the deployment was made from. Secrets are not kept: a blueprint is
/// shown to anyone who may read deployments.
pub(crate) fn blueprint(request: &DeployRequest) -> Blueprint {
    Blueprint {
        build_cmd: request.build_cmd.clone(),
        description: request.description.clone(),
        env_vars: request.env_vars.clone(),
        image: request.image.clone(),
        name: Some(request.name.to_string()),
        port: request.port,
        project_id: None,
        remote: request.remote.clone(),
        run_cmd: request.run_cmd.clone(),
        runtime: Some(request.runtime.clone()),
        source: Some(request.source.clone()),
        static_dir: request.static_dir.clone(),
        status: Some("ready".to_string()),
        working_dir: request.working_dir.clone(),
    }
}

/// Records a new deployment (and its service, if none has its name yet) and
/// returns it.
pub(crate) fn accept(store: &mut Store, request: &DeployRequest) -> Deployment {
    let now = Utc::now();
    let config = blueprint(request);
    let deployment = Deployment {
        config: config.clone(),
        created_at: now,
        id: new_id(),
        metadata: None,
        status: KnownDeploymentStatus::Pending.into(),
        updated_at: now,
        user_email: None,
        user_id: request.user_id.to_string(),
    };
    if store.service_named(&request.name).is_none() {
        let mut service = empty_service(&request.name);
        apply(&mut service, &config);
        store.services.push(service);
    }
    store.deployments.push(DeploymentRecord {
        deployment: deployment.clone(),
        log: Vec::new(),
    });
    deployment
}

fn empty_service(name: &str) -> Service {
    let now = Utc::now();
    Service {
        blueprint: None,
        branch: None,
        build_cmd: None,
        commit_hash: None,
        created_at: Some(now),
        description: None,
        env_vars: None,
        id: new_id(),
        image: None,
        name: name.to_string(),
        port: None,
        remote: None,
        run_cmd: None,
        runtime: None,
        runtime_version: None,
        source: None,
        static_dir: None,
        status: Some("stopped".to_string()),
        updated_at: Some(now),
        working_dir: None,
    }
}

/// Gives a service the settings of a blueprint.
fn apply(service: &mut Service, config: &Blueprint) {
    let remote = config.remote.as_ref();
    service.blueprint = Some(config.clone());
    service.branch = remote.and_then(|r| r.branch.clone());
    service.build_cmd = config.build_cmd.clone();
    service.commit_hash = remote.and_then(|r| r.commit_hash.clone());
    service.description = config.description.clone();
    service.env_vars = config.env_vars.clone();
    service.image = config.image.clone();
    service.port = config.port;
    service.remote = remote.map(|r| r.url.clone());
    service.run_cmd = config.run_cmd.clone();
    service.runtime = config.runtime.as_ref().map(|r| r.type_.clone());
    service.runtime_version = config.runtime.as_ref().and_then(|r| r.version.clone());
    service.source = config.source.as_ref().map(ToString::to_string);
    service.static_dir = config.static_dir.clone();
    service.working_dir = config.working_dir.clone();
    service.updated_at = Some(Utc::now());
}

/// Plays `log` for deployment `id`, one entry per phase delay, until its
/// end or until the instance stops.
/// Counted in flight from before it is spawned, so the deployment is never
/// answered while its lifecycle is not yet counted.
pub(crate) fn spawn(shared: Arc<Shared>, id: String, log: Vec<LogEntry>) {
    let in_flight = shared.lifecycle_started();
    tokio::spawn(async move {
        let _in_flight = in_flight;
        for entry in log {
            if !shared.next_step(shared.config.phase_delay).await {
                return;
            }
            append(&shared, &id, entry);
            shared.logs_changed();
        }
    });
}

fn append(shared: &Shared, id: &str, entry: LogEntry) {
    let mut store = shared.store();
    let Some(record) = store.deployment_mut(id) else {
        return;
    };
    let status = match &entry {
        LogEntry::Line(_) => KnownDeploymentStatus::InProgress,
        LogEntry::Done(_) => KnownDeploymentStatus::Completed,
        LogEntry::Failed(_) => KnownDeploymentStatus::Failed,
    };
    let completed = matches!(entry, LogEntry::Done(_));
    record.deployment.status = DeploymentStatus::from(status);
    record.deployment.updated_at = Utc::now();
    record.log.push(entry);
    let config = record.deployment.config.clone();
    if !completed {
        return;
    }
    // The service may have been deleted meanwhile; deploying brings it back.
    let name = config.name.clone().unwrap_or_default();
    if store.service_named(&name).is_none() {
        store.services.push(empty_service(&name));
    }
    if let Some(service) = store.service_named(&name) {
        apply(service, &config);
        service.status = Some("running".to_string());
    }
}
