//! Extra root certificates, checked when they are added, and the TLS
//! configuration of the `rustls-ring` feature.
//!
//! With rustls, reqwest keeps a root's bytes as they are and parses them only
//! when the client is built, where the platform verifier skips a root it
//! cannot read. A typo in a CA file would then surface much later, as a
//! handshake failure against the instance. Parsing each root here, the way
//! rustls will, turns that into a configuration error at the call that added
//! it.

#[cfg(feature = "rustls-ring")]
use rustls_pki_types::CertificateDer;

use crate::error::Error;

/// The root certificates added to a client, each checked as it was added.
#[derive(Default)]
pub(crate) struct Roots {
    /// As reqwest takes them.
    pub(crate) certificates: Vec<reqwest::Certificate>,
    /// As rustls takes them, for the configuration [`ring_config`] makes.
    #[cfg(feature = "rustls-ring")]
    ders: Vec<CertificateDer<'static>>,
}

impl Roots {
    /// Adds `bytes` (one DER certificate, or PEM holding one or more).
    pub(crate) fn add(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let invalid = |why: &str| Error::config("root certificate", why);
        let is_pem = memchr::memmem::find(bytes, b"-----BEGIN").is_some();
        #[cfg(any(feature = "rustls", feature = "rustls-ring"))]
        let _ders = check_for_rustls(bytes, is_pem).map_err(|why| invalid(&why))?;
        if !is_pem {
            let certificate = reqwest::Certificate::from_der(bytes)
                .map_err(|e| invalid("is neither PEM nor DER").with_source(e))?;
            self.certificates.push(certificate);
        } else {
            let certificates = reqwest::Certificate::from_pem_bundle(bytes)
                .map_err(|e| invalid("is PEM that could not be read").with_source(e))?;
            if certificates.is_empty() {
                return Err(invalid("is PEM that holds no certificate"));
            }
            self.certificates.extend(certificates);
        }
        #[cfg(feature = "rustls-ring")]
        self.ders.extend(_ders);
        Ok(())
    }

    /// How many certificates were added.
    pub(crate) fn len(&self) -> usize {
        self.certificates.len()
    }
}

/// Parses each certificate as rustls will when it becomes a trust anchor.
#[cfg(any(feature = "rustls", feature = "rustls-ring"))]
fn check_for_rustls(
    bytes: &[u8],
    is_pem: bool,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, String> {
    use rustls_pki_types::{pem::PemObject, CertificateDer};

    let ders = if is_pem {
        CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is PEM that could not be read ({e})"))?
    } else {
        vec![CertificateDer::from(bytes).into_owned()]
    };
    if ders.is_empty() {
        return Err("is PEM that holds no certificate".into());
    }
    for (n, der) in ders.iter().enumerate() {
        webpki::anchor_from_trusted_cert(der).map_err(|e| {
            let which = match ders.len() {
                1 => "it".to_string(),
                all => format!("certificate {} of {all}", n + 1),
            };
            format!(
                "is neither PEM nor DER of an X.509 certificate: {which} does not parse ({e:?})"
            )
        })?;
    }
    Ok(ders)
}

/// The TLS configuration of a client built with the `rustls-ring` feature:
/// rustls with the ring provider, verifying servers as reqwest's own rustls
/// does (the platform's verifier, trusting `roots` too), TLS 1.2 and 1.3,
/// offering HTTP/1.1.
#[cfg(feature = "rustls-ring")]
pub(crate) fn ring_config(roots: &Roots) -> Result<rustls::ClientConfig, Error> {
    use std::sync::Arc;

    let unusable = |e: rustls::Error| {
        Error::new(
            crate::ErrorKind::Config,
            "the TLS configuration could not be set up",
        )
        .with_source(e)
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = if roots.ders.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(unusable)?
    } else {
        with_extra_roots(roots.ders.clone(), provider.clone())?
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers without its `http2` feature, which this crate
    // leaves off.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(all(
    feature = "rustls-ring",
    any(all(unix, not(target_os = "android")), target_os = "windows")
))]
fn with_extra_roots(
    roots: Vec<CertificateDer<'static>>,
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, Error> {
    rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider).map_err(|e| {
        Error::new(
            crate::ErrorKind::Config,
            "the root certificates could not be added",
        )
        .with_source(e)
    })
}

// The platform verifier takes no extra roots here, as with reqwest's rustls.
#[cfg(all(
    feature = "rustls-ring",
    not(any(all(unix, not(target_os = "android")), target_os = "windows"))
))]
fn with_extra_roots(
    _roots: Vec<CertificateDer<'static>>,
    _provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, Error> {
    Err(Error::config(
        "root certificate",
        "extra roots are not supported on this platform",
    ))
}

#[cfg(all(test, feature = "rustls-ring"))]
mod tests {
    use super::*;

    #[test]
    fn the_ring_configuration_uses_ring_and_offers_http_1_1() {
        let config = ring_config(&Roots::default()).unwrap();
        // Each provider's key provider names it (aws-lc-rs's is `AwsLcRs`).
        let provider = config.crypto_provider();
        assert_eq!(format!("{:?}", provider.key_provider), "Ring");
        assert_eq!(format!("{:?}", provider.secure_random), "Ring");
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn roots_reach_the_ring_configuration_once_checked() {
        let mut roots = Roots::default();
        assert!(roots.add(b"not a certificate").is_err());
        assert_eq!(roots.len(), 0);
        assert!(roots.ders.is_empty());
    }
}
