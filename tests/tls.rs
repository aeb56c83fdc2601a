//! HTTPS against a local server whose CA and certificates are made at test
//! time: a private CA added with `add_root_certificate` is trusted, nothing
//! else is, and a certificate for another name is refused. Also
//! `https_only_for_remote_hosts`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use dployr::{Client, Error, ErrorKind, RetryConfig};

const TOKEN: &str = "tls-token-Rb8Kq3Wz6Jm1";
const SERVICES: &str = r#"{"services":[{"id":"svc-1","name":"web"}],"total":1}"#;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca() -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "dployr test CA");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A certificate for `names`, signed by `ca`, and its key.
fn server_certificate(
    ca: &Ca,
    names: &[&str],
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), key)
}

/// An HTTPS server answering every request with a service list; records the
/// `Authorization` header of each request that got through the handshake.
struct TlsServer {
    port: u16,
    authorizations: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsServer {
    async fn start(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> Self {
        // The backend reqwest already uses, named explicitly so the test does
        // not depend on a process-wide default provider.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let seen = authorizations.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    // A refused handshake is one of the expected outcomes.
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let authorization = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("authorization")
                                .then(|| v.trim().to_string())
                        })
                        .unwrap_or_default();
                    seen.lock().unwrap().push(authorization);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{SERVICES}",
                        SERVICES.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        TlsServer {
            port,
            authorizations,
            task,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.authorizations.lock().unwrap().clone()
    }
}

fn builder(url: &str) -> dployr::ClientBuilder {
    Client::builder(url)
        .access_token(TOKEN)
        .retry(RetryConfig::disabled())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
}

async fn list(client: &Client) -> Result<dployr::types::ServiceList, Error> {
    tokio::time::timeout(Duration::from_secs(20), client.list_services().send())
        .await
        .expect("no answer nor error within 20 s")
        .map(|page| page.into_inner())
}

fn assert_no_token(e: &Error) {
    let mut shown = format!("{e}\n{e:?}\n{e:#?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        shown.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn a_private_ca_added_as_root_is_trusted() {
    let ca = ca();
    let (cert, key) = server_certificate(&ca, &["localhost", "127.0.0.1"]);
    let server = TlsServer::start(cert, key).await;

    for host in ["localhost", "127.0.0.1"] {
        let client = builder(&format!("https://{host}:{}", server.port))
            .add_root_certificate(ca.pem.as_bytes())
            .unwrap()
            .build()
            .unwrap();
        let page = list(&client)
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(page.total, 1, "{host}");
    }
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(server.requests(), [bearer.clone(), bearer]);
}

#[tokio::test]
async fn without_the_ca_the_connection_is_refused_and_nothing_is_sent() {
    let ca = ca();
    let (cert, key) = server_certificate(&ca, &["localhost", "127.0.0.1"]);
    let server = TlsServer::start(cert, key).await;
    let client = builder(&format!("https://localhost:{}", server.port))
        .build()
        .unwrap();

    let e = list(&client).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert_no_token(&e);
    assert!(
        server.requests().is_empty(),
        "a request went out over an untrusted connection"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = ca();
    let (cert, key) = server_certificate(&ca, &["instance.example.com"]);
    let server = TlsServer::start(cert, key).await;
    let client = builder(&format!("https://localhost:{}", server.port))
        .add_root_certificate(ca.pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();

    let e = list(&client).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert_no_token(&e);
    assert!(server.requests().is_empty());
}

// A bad root is refused by the call that adds it, not later by `build` or
// the first handshake.
#[test]
fn a_pem_root_that_holds_no_certificate_is_a_config_error() {
    let pem = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let e = builder("https://localhost:1")
        .add_root_certificate(pem)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert_eq!(e.field(), Some("root certificate"), "{e}");
}

#[test]
fn bytes_that_are_no_certificate_are_refused_as_a_root() {
    let e = builder("https://localhost:1")
        .add_root_certificate(b"not a certificate at all")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("neither PEM nor DER"), "{e}");
}

#[test]
fn der_and_pem_bundles_are_accepted_as_roots() {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let (first, second) = (ca(), ca());
    let der = CertificateDer::from_pem_slice(first.pem.as_bytes()).unwrap();
    let from_der = builder("https://localhost:1")
        .add_root_certificate(&der)
        .unwrap();
    assert!(
        format!("{from_der:?}").contains("root_certificates: 1"),
        "{from_der:?}"
    );
    let bundle = format!("{}{}", first.pem, second.pem);
    let one = builder("https://localhost:1")
        .add_root_certificate(first.pem.as_bytes())
        .unwrap();
    let both = builder("https://localhost:1")
        .add_root_certificate(bundle.as_bytes())
        .unwrap();
    assert!(
        format!("{one:?}").contains("root_certificates: 1"),
        "{one:?}"
    );
    assert!(
        format!("{both:?}").contains("root_certificates: 2"),
        "{both:?}"
    );
}

#[tokio::test]
async fn plain_http_is_refused_for_remote_hosts_only() {
    let e = builder("http://example.com")
        .https_only_for_remote_hosts(true)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert_no_token(&e);

    // Loopback is exempt, and the call goes through.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let plain = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&chunk[..n]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{SERVICES}",
            SERVICES.len()
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
    });
    let client = builder(&url)
        .https_only_for_remote_hosts(true)
        .build()
        .unwrap();
    assert_eq!(list(&client).await.unwrap().total, 1);
    plain.await.unwrap();

    assert!(builder("https://example.com")
        .https_only_for_remote_hosts(true)
        .build()
        .is_ok());
}
