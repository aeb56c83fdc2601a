//! Tokens never leave through a side door: not through logs (every tracing
//! event at TRACE, and every `log` record reqwest emits, is captured), not
//! through errors (Display, Debug, pretty Debug, source chain), and not by
//! following a redirect to another server. The same holds for every value
//! the spec marks `x-dployr-secret` (deployment secrets, the registration
//! claim, the installation token), which the server still receives exactly.

// The inventory of the spec's schemas, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/spec_inventory.rs"));

mod support;

use std::collections::HashMap;
use std::fmt::Debug;
use std::io;
use std::sync::{Mutex, Once};
use std::time::Duration;

use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use dployr::types::{
    DeployRequest, KnownRuntime, KnownSource, RegisterInstanceRequest, RequestDomainRequest,
    RuntimeObj, SecretMap,
};
use dployr::{
    Client, Error, ErrorKind, LogEvent, Resume, RetryConfig, Secret, TokenManager, Tokens,
};
use support::planted::{holds_secret, plant_secrets, PLANTED_PREFIX};
use support::scripted::{json, response, send, sse_head, ScriptedServer};
use support::spec;

const ACCESS: &str = "acc-Zq7Wm2Kx9Lp4";
const REFRESH: &str = "ref-Hn3Vb8Tc1Rd6";
const NEW_ACCESS: &str = "acc2-Yf5Gs0Ju7Ne2";
const NEW_REFRESH: &str = "ref2-Pk4Xw9Qa3Mc8";
/// Values sent in request bodies that the spec marks secret.
const DEPLOY_SECRET: &str = "dbpass-Rt6Yh1Nm8Kv3";
const CLAIM: &str = "claim-Gb2Ws5Ex9Qz4";
const INSTALL_TOKEN: &str = "install-Lc7Pf3Dj6Ho1";
/// The tokens and secret values, and the random part of each on its own,
/// in case something prints one cut up or with its prefix changed.
const SECRETS: &[&str] = &[
    ACCESS,
    REFRESH,
    NEW_ACCESS,
    NEW_REFRESH,
    "Zq7Wm2Kx9Lp4",
    "Hn3Vb8Tc1Rd6",
    "Yf5Gs0Ju7Ne2",
    "Pk4Xw9Qa3Mc8",
    DEPLOY_SECRET,
    CLAIM,
    INSTALL_TOKEN,
    "Rt6Yh1Nm8Kv3",
    "Gb2Ws5Ex9Qz4",
    "Lc7Pf3Dj6Ho1",
    PLANTED_PREFIX,
];

const SERVICES: &str = r#"{"services":[{"id":"svc-1","name":"web"}],"total":1}"#;
const SERVICE: &str = r#"{"id":"svc-1","name":"web"}"#;
const DEPLOYMENT: &str = "01HN2K3M4N5P6Q7R8S9T0U1V2W";

/// Everything any subscriber or logger in this process wrote.
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn captured() -> String {
    String::from_utf8_lossy(&CAPTURED.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

struct Capture;

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// reqwest logs through `log`, not `tracing`; its records go to the same
/// buffer so they are checked too.
struct LogBridge;

impl log::Log for LogBridge {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!(
            "{} {}: {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        io::Write::write_all(&mut Capture, line.as_bytes()).unwrap();
    }

    fn flush(&self) {}
}

static BRIDGE: LogBridge = LogBridge;

fn capture_everything() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| Capture)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log::set_logger(&BRIDGE).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

fn quick_retries() -> RetryConfig {
    RetryConfig {
        max_retries: 2,
        backoff_base: Duration::from_millis(10),
        jitter: false,
        ..Default::default()
    }
}

/// Fresh tokens per scenario, so a refresh in one does not change another.
fn tokens(refresher_works: bool) -> TokenManager {
    let tokens = TokenManager::new().with_refresher(move |refresh: String| async move {
        assert_eq!(refresh, REFRESH);
        if refresher_works {
            Ok(Tokens {
                access: NEW_ACCESS.into(),
                refresh: Some(NEW_REFRESH.into()),
            })
        } else {
            Err(io::Error::other("base refused the refresh token"))
        }
    });
    tokens.set_tokens(ACCESS, REFRESH);
    tokens
}

fn client(url: &str, tokens: TokenManager) -> Client {
    Client::builder(url)
        .token_manager(tokens)
        .retry(quick_retries())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// Every way an error can be shown, down its whole source chain.
fn every_rendering(e: &Error) -> String {
    let mut text = format!("{e}\n{e:?}\n{e:#?}\n");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!("{s}\n{s:?}\n{s:#?}\n"));
        source = s.source();
    }
    text
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

async fn bounded<F: std::future::Future>(call: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("a scenario neither finished nor failed within 20 s")
}

#[tokio::test]
async fn no_token_reaches_the_logs_or_any_error() {
    capture_everything();
    let mut errors: Vec<(&str, Error)> = Vec::new();

    // Success.
    let ok = ScriptedServer::start(vec![vec![json(200, SERVICES)]]).await;
    let page = bounded(client(&ok.url, tokens(true)).list_services().send())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    // The token did go out: only logs and errors must not show it.
    let bearer = format!("Bearer {ACCESS}");
    assert_eq!(
        ok.requests()[0].header("authorization"),
        Some(bearer.as_str())
    );

    // 503, retried, then 200.
    let busy = ScriptedServer::start(vec![
        vec![json(503, r#"{"error":"busy"}"#)],
        vec![json(200, SERVICES)],
    ])
    .await;
    bounded(client(&busy.url, tokens(true)).list_services().send())
        .await
        .unwrap();
    assert_eq!(busy.hits(), 2);

    // 401, refreshed, then 200 with the new token.
    let expired = ScriptedServer::start(vec![
        vec![json(401, r#"{"error":"token expired"}"#)],
        vec![json(200, SERVICE)],
    ])
    .await;
    bounded(
        client(&expired.url, tokens(true))
            .get_service()
            .service_id("svc-1")
            .send(),
    )
    .await
    .unwrap();
    let bearer = format!("Bearer {NEW_ACCESS}");
    assert_eq!(
        expired.requests()[1].header("authorization"),
        Some(bearer.as_str())
    );

    // 401 and a refresher that fails.
    let refused =
        ScriptedServer::start(vec![vec![json(401, r#"{"error":"token expired"}"#)]]).await;
    let e = Error::from(
        bounded(client(&refused.url, tokens(false)).list_services().send())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    errors.push(("failing refresher", e));

    // 404.
    let missing = ScriptedServer::start(vec![vec![json(
        404,
        r#"{"error":"no such service","code":"resource.not_found"}"#,
    )]])
    .await;
    let e = Error::from(
        bounded(
            client(&missing.url, tokens(true))
                .get_service()
                .service_id("nope")
                .send(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    errors.push(("404", e));

    // A log stream (its token also travels in the URL) dropped mid-event and
    // resumed.
    let stream = ScriptedServer::start(vec![
        vec![
            sse_head(),
            send("retry: 10\n\nid: 1\ndata: one\n\nid: 2\ndata: tw"),
        ],
        vec![
            sse_head(),
            send("id: 2\ndata: two\n\nevent: done\ndata: ok\n\n"),
        ],
    ])
    .await;
    let logs = bounded(
        client(&stream.url, tokens(true))
            .log_stream(DEPLOYMENT)
            .resume(Resume {
                max_attempts: 2,
                delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            })
            .open(),
    )
    .await
    .unwrap();
    let events: Vec<LogEvent> = bounded(logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(stream.requests()[1]
        .target
        .contains(&format!("token={ACCESS}")));

    // The same stream without resume: the drop is the caller's error.
    let dropped = ScriptedServer::start(vec![vec![sse_head(), send("id: 1\ndata: on")]]).await;
    let logs = bounded(client(&dropped.url, tokens(true)).stream_logs(DEPLOYMENT))
        .await
        .unwrap();
    let mut events: Vec<_> = bounded(logs.collect::<Vec<_>>()).await;
    let e = events.pop().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Stream, "{e}");
    errors.push(("dropped log stream", e));

    // Connection failures, retried first; the log stream's URL holds the token.
    let nobody = closed_port_url();
    let e = Error::from(
        bounded(client(&nobody, tokens(true)).list_services().send())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    errors.push(("connect failure", e));
    let e = bounded(client(&nobody, tokens(true)).stream_logs(DEPLOYMENT))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    errors.push(("log stream connect failure", e));

    for (what, e) in &errors {
        assert_no_secret(what, &every_rendering(e));
    }
    let logged = captured();
    // A capture that saw nothing would pass the check below for nothing.
    assert!(
        logged.contains("retrying"),
        "the retry was not captured:\n{logged}"
    );
    assert!(
        logged.contains("log stream lost, reconnecting"),
        "the reconnect was not captured:\n{logged}"
    );
    assert!(
        logged.contains("retrying with a refreshed token"),
        "the refresh was not captured:\n{logged}"
    );
    assert_no_secret("the captured logs", &logged);
    println!(
        "captured {} lines of logs; hyper-util events: {}, reqwest records: {}",
        logged.lines().count(),
        logged.contains("hyper_util"),
        logged.contains("reqwest"),
    );
}

// A bearer token must not follow a redirect anywhere, so the SDK follows
// none: the 3xx is the caller's error, and the other server sees nothing.
#[tokio::test]
async fn a_redirect_is_not_followed_and_is_an_unexpected_status() {
    capture_everything();
    let elsewhere = ScriptedServer::start(vec![vec![json(200, SERVICES)]]).await;
    let location = format!("{}/services", elsewhere.url);
    let redirecting =
        ScriptedServer::start(vec![vec![response(302, &[("location", &location)], "")]]).await;
    let client = client(&redirecting.url, tokens(true));

    let e = Error::from(bounded(client.list_services().send()).await.unwrap_err());
    assert_eq!(e.kind(), ErrorKind::UnexpectedStatus, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(302), "{e}");
    assert_no_secret("the redirect error", &every_rendering(&e));

    let e = bounded(client.stream_logs(DEPLOYMENT)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedStatus, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(302), "{e}");
    assert_no_secret("the log stream's redirect error", &every_rendering(&e));

    assert_eq!(redirecting.hits(), 2, "a 302 is not retried");
    assert_eq!(elsewhere.hits(), 0, "the redirect was followed");
}

#[test]
fn a_client_shows_no_token_in_debug() {
    let client = Client::builder("https://instance.example.com")
        .access_token(ACCESS)
        .refresh_token(REFRESH)
        .build()
        .unwrap();
    assert_no_secret("Client's Debug", &format!("{client:?}\n{client:#?}"));
    let tokens = client.tokens();
    assert_no_secret("TokenManager's Debug", &format!("{tokens:?}\n{tokens:#?}"));
}

#[test]
fn a_client_builder_shows_no_token_in_debug() {
    let builder = Client::builder("https://deployer:pw-Ux4Ge7Lo2Sa9@instance.example.com")
        .access_token(ACCESS)
        .refresh_token(REFRESH);
    assert_no_secret(
        "ClientBuilder's Debug",
        &format!("{builder:?}\n{builder:#?}"),
    );
    assert!(!format!("{builder:?}").contains("Ux4Ge7Lo2Sa9"));
}

// Basic-auth credentials in the base URL (a proxy prefix that needs them) are
// as secret as a token.
#[tokio::test]
async fn credentials_in_the_base_url_never_appear_in_errors() {
    let nobody = closed_port_url().replace("http://", "http://deployer:pw-Ux4Ge7Lo2Sa9@");
    let client = Client::builder(&nobody)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let e = Error::from(bounded(client.list_services().send()).await.unwrap_err());
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    let shown = every_rendering(&e);
    assert!(!shown.contains("Ux4Ge7Lo2Sa9"), "{shown}");
}

/// Decodes a value as `T`: its `Debug` (plain and pretty) and its
/// re-encoding.
fn shown<T: DeserializeOwned + Serialize + Debug>(
    value: &Value,
) -> Result<(String, Value), String> {
    let decoded: T = serde_json::from_value(value.clone()).map_err(|e| format!("decode: {e}"))?;
    let encoded = serde_json::to_value(&decoded).map_err(|e| format!("encode: {e}"))?;
    Ok((format!("{decoded:?}\n{decoded:#?}"), encoded))
}

/// Every component schema with its generated type, from build.rs's
/// inventory, so a secret added to any schema is checked here unasked.
macro_rules! every_type {
    ($($name:literal => $type:path),* $(,)?) => {
        const TYPES: &[(&str, fn(&Value) -> Result<(String, Value), String>)] =
            &[$(($name, shown::<$type>)),*];
    };
}

with_component_schemas!(every_type);

#[test]
fn no_generated_type_shows_a_secret_value_in_debug() {
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for (name, shown) in TYPES {
        if !holds_secret(spec::schema(name), 16) {
            continue;
        }
        let (example, planted) = plant_secrets(name);
        if planted.is_empty() {
            problems.push(format!(
                "{name}: its example holds none of its secret values; add one so their redaction is checked"
            ));
            continue;
        }
        let (debug, encoded) = match shown(&example) {
            Ok(shown) => shown,
            Err(why) => {
                problems.push(format!("{name}: {why}"));
                continue;
            }
        };
        for (place, value) in &planted {
            if debug.contains(value.as_str()) {
                problems.push(format!("{place}: its value shows in the Debug of {name}"));
            }
        }
        if !debug.contains("<redacted>") {
            problems.push(format!("{name}: its Debug does not say what was redacted"));
        }
        // Redacted for people, exact for the server.
        if encoded != example {
            problems.push(format!(
                "{name}: the secret values do not encode as they were:\n  sent {encoded}\n  want {example}"
            ));
        }
        checked.extend(planted.into_iter().map(|(place, _)| place));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The three kinds of secret the spec has today, so this cannot pass by
    // finding none.
    for expected in [
        "DeployRequest.secrets.",
        "RegisterInstanceRequest.claim",
        "RequestDomainRequest.token",
        "SecretMap.",
    ] {
        assert!(
            checked.iter().any(|place| place.starts_with(expected)),
            "no secret checked at {expected}: {checked:?}"
        );
    }
}

fn deploy_request() -> DeployRequest {
    let secrets = HashMap::from([("DB_PASSWORD".to_string(), Secret::from(DEPLOY_SECRET))]);
    DeployRequest::builder()
        .name("web")
        .user_id("user-1")
        .source(KnownSource::Image)
        .image(Some("nginx".to_string()))
        .runtime(RuntimeObj {
            type_: KnownRuntime::Docker.into(),
            version: None,
        })
        .secrets(Some(SecretMap::from(secrets)))
        .try_into()
        .expect("a complete DeployRequest")
}

fn register_request() -> RegisterInstanceRequest {
    RegisterInstanceRequest::builder()
        .claim(CLAIM)
        .instance_id("inst_01HXYZ")
        .try_into()
        .expect("a complete RegisterInstanceRequest")
}

fn domain_request() -> RequestDomainRequest {
    RequestDomainRequest::builder()
        .token(INSTALL_TOKEN)
        .try_into()
        .expect("a complete RequestDomainRequest")
}

/// Sends each request that carries a secret to a server answering
/// `status`: what the server received, and the error each call ended with.
async fn send_secrets(status: u16, body: &str) -> (Vec<Value>, Vec<(&'static str, Error)>) {
    let mut received = Vec::new();
    let mut errors = Vec::new();
    for what in ["createDeployment", "registerInstance", "requestDomain"] {
        let server = ScriptedServer::start(vec![vec![json(status, body)]]).await;
        let client = client(&server.url, tokens(true));
        let result = match what {
            "createDeployment" => client
                .create_deployment()
                .body(deploy_request())
                .send()
                .await
                .map(|_| ())
                .map_err(Error::from),
            "registerInstance" => client
                .register_instance()
                .body(register_request())
                .send()
                .await
                .map(|_| ())
                .map_err(Error::from),
            _ => client
                .request_domain()
                .body(domain_request())
                .send()
                .await
                .map(|_| ())
                .map_err(Error::from),
        };
        if let Err(e) = result {
            errors.push((what, e));
        }
        let seen = server.requests();
        let body = &seen.first().expect("the request reached the server").body;
        received.push(serde_json::from_slice(body).expect("a JSON body"));
    }
    (received, errors)
}

#[tokio::test]
async fn secret_values_reach_the_server_exactly_and_nothing_else() {
    capture_everything();

    let (received, errors) = bounded(send_secrets(200, r#"{"domain":"a.dployr.dev","success":true,"id":"d1","name":"web","created_at":"2024-01-01T12:00:00Z"}"#)).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(received[0]["secrets"]["DB_PASSWORD"], DEPLOY_SECRET);
    assert_eq!(received[1]["claim"], CLAIM);
    assert_eq!(received[2]["token"], INSTALL_TOKEN);

    // Refused by the server, and by nobody at all.
    let (_, refused) = bounded(send_secrets(
        422,
        r#"{"error":"Validation failed","details":[{"field":"token","message":"is not valid"}]}"#,
    ))
    .await;
    assert_eq!(refused.len(), 3, "every call failed");
    let mut errors = refused;
    let nobody = closed_port_url();
    let client = client(&nobody, tokens(true));
    let e = Error::from(
        bounded(client.request_domain().body(domain_request()).send())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    errors.push(("requestDomain to nobody", e));

    // Refused before sending: the secret is there, another field is not.
    let incomplete = RegisterInstanceRequest::builder()
        .claim(CLAIM)
        .instance_id("");
    let e = Error::from(
        client
            .register_instance()
            .body(incomplete)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    errors.push(("registerInstance without an instance id", e));
    let e = Error::from(
        client
            .request_domain()
            .body(RequestDomainRequest::builder().token(""))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("token"), "{e}");
    errors.push(("requestDomain with an empty token", e));

    for (what, e) in &errors {
        assert_no_secret(what, &every_rendering(e));
    }
    // What a caller might log before sending: the bodies and the builders.
    let builders = format!(
        "{:?}\n{:#?}\n{:?}\n{:?}\n{:?}",
        deploy_request(),
        register_request(),
        client.create_deployment().body(deploy_request()),
        client.register_instance().body(register_request()),
        client
            .request_domain()
            .body(RequestDomainRequest::builder().token(INSTALL_TOKEN)),
    );
    assert_no_secret("the requests' and builders' Debug", &builders);
    assert!(builders.contains("<redacted>"), "{builders}");
    assert_no_secret("the captured logs", &captured());
}
