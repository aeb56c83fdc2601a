//! Tokens never leave through a side door: not through logs (every tracing
//! event at TRACE, and every `log` record reqwest emits, is captured), not
//! through errors (Display, Debug, pretty Debug, source chain), and not by
//! following a redirect to another server. The same holds for every value
//! the spec marks `x-dployr-secret` (deployment secrets, the registration
//! claim, the installation token), which the server still receives exactly.

// The inventory of the spec's schemas, written by build.rs; defined before
// the modules that use it.
include!(concat!(env!("OUT_DIR"), "/spec_inventory.rs"));

#[path = "../support/mod.rs"]
mod support;

mod tokens;
mod values;

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
    Client, Error, ErrorKind, LogEvent, Reconnect, RetryConfig, Secret, TokenManager, Tokens,
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
    RetryConfig::default()
        .max_retries(2)
        .backoff_base(Duration::from_millis(10))
        .jitter(false)
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
