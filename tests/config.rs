//! `Client::from_env`. Environment variables belong to the whole process, so
//! this binary holds one test that changes them step by step.

use std::env;

use dployr::{Client, ErrorKind};

const VARIABLES: [&str; 4] = [
    "DPLOYR_URL",
    "DPLOYR_TOKEN",
    "DPLOYR_REFRESH_TOKEN",
    "DPLOYR_TIMEOUT_SECS",
];

fn set(pairs: &[(&str, &str)]) {
    for name in VARIABLES {
        env::remove_var(name);
    }
    for (name, value) in pairs {
        env::set_var(name, value);
    }
}

#[test]
fn from_env_reads_and_checks_the_environment() {
    set(&[]);
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert_eq!(e.field(), Some("DPLOYR_URL"));
    assert!(e.to_string().contains("DPLOYR_URL"), "{e}");

    // Tokens alone do not make a client.
    set(&[("DPLOYR_TOKEN", "access")]);
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.field(), Some("DPLOYR_URL"), "{e}");

    for malformed in ["soon", "2.5", "-1", "0"] {
        set(&[
            ("DPLOYR_URL", "http://127.0.0.1:8080"),
            ("DPLOYR_TIMEOUT_SECS", malformed),
        ]);
        let e = Client::from_env().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{malformed}: {e}");
        assert_eq!(e.field(), Some("DPLOYR_TIMEOUT_SECS"), "{malformed}: {e}");
    }

    set(&[("DPLOYR_URL", "ftp://instance.example.com")]);
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("ftp"), "{e}");

    set(&[("DPLOYR_URL", "instance.example.com")]);
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");

    set(&[
        ("DPLOYR_URL", "https://instance.example.com"),
        ("DPLOYR_TOKEN", "access-from-env"),
        ("DPLOYR_REFRESH_TOKEN", "refresh-from-env"),
        ("DPLOYR_TIMEOUT_SECS", "45"),
    ]);
    let client = Client::from_env().unwrap();
    assert_eq!(
        client.tokens().access_token().as_deref(),
        Some("access-from-env")
    );
    assert_eq!(
        client.tokens().refresh_token().as_deref(),
        Some("refresh-from-env")
    );

    set(&[]);
}
