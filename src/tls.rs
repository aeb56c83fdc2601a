//! Extra root certificates, checked when they are added.
//!
//! With rustls, reqwest keeps a root's bytes as they are and parses them only
//! when the client is built, where the platform verifier skips a root it
//! cannot read. A typo in a CA file would then surface much later, as a
//! handshake failure against the instance. Parsing each root here, the way
//! rustls will, turns that into a configuration error at the call that added
//! it.

use crate::error::Error;

/// Reads `bytes` (one DER certificate, or PEM holding one or more) as roots.
pub(crate) fn root_certificates(bytes: &[u8]) -> Result<Vec<reqwest::Certificate>, Error> {
    let invalid = |why: &str| Error::config("root certificate", why);
    let is_pem = memchr::memmem::find(bytes, b"-----BEGIN").is_some();
    #[cfg(feature = "rustls")]
    check_for_rustls(bytes, is_pem).map_err(|why| invalid(&why))?;
    if !is_pem {
        let certificate = reqwest::Certificate::from_der(bytes)
            .map_err(|e| invalid("is neither PEM nor DER").with_source(e))?;
        return Ok(vec![certificate]);
    }
    let certificates = reqwest::Certificate::from_pem_bundle(bytes)
        .map_err(|e| invalid("is PEM that could not be read").with_source(e))?;
    if certificates.is_empty() {
        return Err(invalid("is PEM that holds no certificate"));
    }
    Ok(certificates)
}

/// Parses each certificate as rustls will when it becomes a trust anchor.
#[cfg(feature = "rustls")]
fn check_for_rustls(bytes: &[u8], is_pem: bool) -> Result<(), String> {
    use rustls_pki_types::{pem::PemObject, CertificateDer};

    let ders = if is_pem {
        CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is PEM that could not be read ({e})"))?
    } else {
        vec![CertificateDer::from(bytes)]
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
    Ok(())
}
