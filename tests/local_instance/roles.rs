//! Who may call what: every operation that needs a token against a token
//! of each role, the table read from the built facts, and the facts
//! against the reference's words.

use dployr::Operation;

use super::*;

/// The roles the published reference states in its descriptions, word for
/// word: the 14 operations it gives a role.
const REFERENCE: [(&str, &str); 14] = [
    ("listDeployments", "Developer+ required"),
    ("createDeployment", "Developer+ required"),
    ("listServices", "Viewer+ required"),
    ("getService", "Viewer+ required"),
    ("updateService", "Developer+ required"),
    ("patchService", "Developer+ required"),
    ("deleteService", "Admin+ required"),
    ("openLogStream", "Developer+ required"),
    ("getProxyStatus", "Developer+ required"),
    ("restartProxy", "Admin+ required"),
    ("addProxyRoute", "Admin+ required"),
    ("removeProxyRoute", "Admin+ required"),
    ("getSystemStatus", "Viewer+ required"),
    ("getSystemInfo", "Admin+ required"),
];

/// The reference states no role for these; today's daemon asks these.
const DAEMON: [(&str, Role); 2] = [
    ("runSystemDoctor", Role::Developer),
    ("installSystem", Role::Admin),
];

fn operation(id: &str) -> &'static Operation {
    Operation::find(id).unwrap_or_else(|| panic!("the spec has no operation {id}"))
}

#[test]
fn the_facts_state_the_references_roles() {
    for (id, words) in REFERENCE {
        let op = operation(id);
        let (name, _) = words.split_once('+').unwrap();
        let expected = Role::from_name(name).unwrap();
        assert_eq!(op.role(), Some(expected), "{id}");
        assert!(
            op.description().contains(&format!("({words})")),
            "{id}: its description does not say `({words})`: {:?}",
            op.description()
        );
    }
    for (id, role) in DAEMON {
        assert_eq!(operation(id).role(), Some(role), "{id}");
    }
    // Every operation is one of these, or public.
    for op in dployr::operations() {
        let listed = REFERENCE.iter().any(|(id, _)| *id == op.id())
            || DAEMON.iter().any(|(id, _)| *id == op.id());
        assert_eq!(listed, !op.is_public(), "{}", op.id());
        assert_eq!(op.role().is_some(), !op.is_public(), "{}", op.id());
    }
}

/// One call of `op` with every parameter and the example body, so that
/// only the token can stop it: path parameters name nothing that exists
/// (a delete deletes nothing), so an allowed call answers 2xx, 404 or 422.
/// The log stream, the one operation that streams, opens as users open it.
async fn call(client: &Client, op: &'static Operation) -> Result<(), dployr::Error> {
    if op.is_streaming() {
        assert_eq!(op.id(), "openLogStream", "a new streaming operation");
        return client.stream_logs("missing").await.map(drop);
    }
    let mut call = client.call(op);
    for parameter in op.parameters().iter().filter(|p| !p.is_credential()) {
        call = match parameter.location() {
            dployr::ParameterLocation::Path => call.path_param(parameter.name(), "missing"),
            _ if parameter.is_integer() => continue,
            _ => call.query(parameter.name(), "missing"),
        };
    }
    if let Some(body) = op.body_type() {
        call = call.json(spec::example(body));
    }
    call.send().await.map(drop)
}

#[tokio::test]
async fn every_operation_refuses_tokens_below_its_role_and_serves_the_rest() {
    let instance = instance(Duration::from_millis(5)).await;
    let mut refused = Vec::new();
    for op in dployr::operations().iter().filter(|op| !op.is_public()) {
        let needed = op
            .role()
            .expect("an operation that needs a token states its role");
        for role in Role::ALL {
            let answer = call(&client(&instance, role), op).await;
            let what = format!("{} with a {role} token (needs {needed})", op.id());
            if role < needed {
                let error = answer.expect_err(&what);
                assert_eq!(status_of(&error), Some(403), "{what}: {error}");
                assert_eq!(error.code(), Some("auth.forbidden"), "{what}");
                assert_eq!(error.needed_role(), Some(needed), "{what}");
                assert_eq!(error.token_role(), Some(role), "{what}");
                refused.push((op.id(), role));
            } else if let Err(error) = answer {
                assert!(
                    matches!(status_of(&error), Some(404 | 422)),
                    "{what}: refused with {error}"
                );
            }
        }
    }
    // 3 viewer-, 7 developer- and 6 admin-level operations.
    assert_eq!(refused.len(), 7 + 6 * 2, "{refused:?}");
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn a_403_names_the_role_needed_and_the_role_the_token_has() {
    let instance = instance(Duration::from_millis(5)).await;
    let viewer = client(&instance, Role::Viewer);
    let error = error_of(viewer.get_system_info().send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    assert_eq!(error.needed_role(), Some(Role::Admin));
    assert_eq!(error.token_role(), Some(Role::Viewer));
    let message = error.to_string();
    assert!(
        message.contains("getSystemInfo needs the admin role and the token has the viewer role"),
        "{message}"
    );
    // What the instance said is kept.
    assert!(message.contains("Insufficient permissions"), "{message}");
    assert_eq!(error.code(), Some("auth.forbidden"));

    // A token that is not a JWT says nothing of its role: the needed role
    // alone, from the operation's facts.
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/system/info");
            then.status(403)
                .header("content-type", "application/json")
                .body(r#"{"error":"Insufficient permissions","code":"auth.forbidden"}"#);
        })
        .await;
    let opaque = Client::builder(server.base_url())
        .access_token("opaque-token")
        .build()
        .unwrap();
    let error = error_of(opaque.get_system_info().send()).await;
    assert_eq!(error.needed_role(), Some(Role::Admin));
    assert_eq!(error.token_role(), None);
    let message = error.to_string();
    assert!(
        message.ends_with("getSystemInfo needs the admin role"),
        "{message}"
    );
}

#[test]
fn the_role_table_in_the_docs_is_the_facts() {
    let docs = include_str!("../../src/testing/mod.rs");
    for role in Role::ALL {
        let row = format!("//! | [`Role::{role:?}`] |");
        let line = docs
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("src/testing/mod.rs has no table row for {role}"));
        let mut documented: Vec<&str> = line[row.len()..].split('`').skip(1).step_by(2).collect();
        let mut stated: Vec<&str> = dployr::operations()
            .iter()
            .filter(|op| op.role() == Some(role))
            .map(|op| op.id())
            .collect();
        documented.sort_unstable();
        stated.sort_unstable();
        assert_eq!(documented, stated, "the {role} row of the role table");
    }
}
