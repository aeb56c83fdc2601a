//! Contexts kept in a temporary configuration folder: the token read from
//! stdin into a 0600 file and shown nowhere, a command reaching the current
//! context's instance with no URL given, a context's token never sent to a
//! URL given otherwise (a second real server records what it got), and
//! files others can read or that are malformed refused with exit 2.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::support::{run, Instance, Ran};

/// A fresh configuration folder (also `HOME`) for one test.
fn config_home(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dployrctl-ctx-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server that answers every request with an empty list of services and
/// keeps each request's head (request line and headers).
struct Recorder {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                seen.lock().unwrap().push(head);
                let body = r#"{"services":[],"total":0}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Recorder { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn in_home<'a>(home: &'a Path, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let home = home.to_str().unwrap();
    let mut env = vec![("XDG_CONFIG_HOME", home), ("HOME", home)];
    env.extend_from_slice(more);
    env
}

fn assert_no_token(ran: &Ran, token: &str) {
    assert!(
        !ran.stdout.contains(token),
        "token on stdout:\n{}",
        ran.stdout
    );
    assert!(
        !ran.stderr.contains(token),
        "token on stderr:\n{}",
        ran.stderr
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_context_keeps_its_token_private_and_sends_it_to_its_own_url_alone() {
    let instance = Instance::start();
    let url = instance.local.url();
    let token = instance.local.owner_token().to_string();
    let home = config_home("keeps");
    let env = in_home(&home, &[]);
    let folder = home.join("dployrctl");

    let added = run(
        &["context", "add", "local", "--url", &url],
        &env,
        Some(&format!("{token}\n")),
    );
    added.expect(0);
    assert_no_token(&added, &token);
    let tokens = folder.join("tokens.toml");
    #[cfg(unix)]
    assert_eq!(mode(&tokens), 0o600);
    assert!(std::fs::read_to_string(&tokens).unwrap().contains(&token));
    let settings = std::fs::read_to_string(folder.join("contexts.toml")).unwrap();
    assert!(!settings.contains(&token), "{settings}");
    assert!(settings.contains(&url), "{settings}");

    let listed = run(&["context", "list"], &env, None);
    listed.expect(0);
    assert_no_token(&listed, &token);
    assert_eq!(
        listed.json(),
        serde_json::json!([{"name": "local", "url": url, "current": true}])
    );
    let shown = run(&["context", "show"], &env, None);
    shown.expect(0);
    assert_no_token(&shown, &token);
    assert_eq!(shown.json()["token"], "kept");

    // `context use`, then a command with neither --url nor DPLOYR_URL.
    run(&["context", "use", "local"], &env, None).expect(0);
    let before = instance.local.requests_seen();
    let listed = run(&["--verbose", "services", "list"], &env, None);
    listed.expect(0);
    assert_no_token(&listed, &token);
    assert_eq!(listed.json(), serde_json::json!([]));
    assert!(
        instance.local.requests_seen() > before,
        "the instance was reached"
    );
    assert!(
        listed
            .stderr
            .contains("* instance from context local (current)"),
        "{}",
        listed.stderr
    );
    assert!(
        listed
            .stderr
            .contains("> GET /services?limit=100&offset=0  200"),
        "{}",
        listed.stderr
    );

    // --url of another server, with a context current: no token goes there,
    // and neither with --context beside it.
    let other = Recorder::start();
    run(&["--url", &other.url, "services", "list"], &env, None).expect(0);
    run(
        &[
            "--context",
            "local",
            "--url",
            &other.url,
            "services",
            "list",
        ],
        &env,
        None,
    )
    .expect(0);
    let heads = other.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for head in &heads {
        assert!(head.starts_with("GET /services?"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "{head}"
        );
        assert!(!head.contains(&token), "{head}");
    }
    // DPLOYR_CONTEXT picks a context when no URL is given.
    let by_variable = run(
        &["services", "list"],
        &in_home(&home, &[("DPLOYR_CONTEXT", "local")]),
        None,
    );
    by_variable.expect(0);

    run(&["context", "remove", "local"], &env, None).expect(0);
    assert!(!std::fs::read_to_string(&tokens).unwrap().contains(&token));
    let gone = run(&["services", "list"], &env, None);
    gone.expect(2);
    assert!(gone.stderr.contains("context add"), "{}", gone.stderr);
}

#[test]
fn unusable_files_and_tokens_are_refused_before_anything_is_sent() {
    let instance = Instance::start();
    let url = instance.local.url();
    let token = instance.local.owner_token().to_string();
    let home = config_home("refused");
    let env = in_home(&home, &[]);
    let folder = home.join("dployrctl");
    run(
        &["context", "add", "local", "--url", &url],
        &env,
        Some(&token),
    )
    .expect(0);
    let requests = instance.local.requests_seen();

    // A tokens file others can read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let tokens = folder.join("tokens.toml");
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = run(&["services", "list"], &env, None);
        refused.expect(2);
        assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
        assert!(refused.stderr.contains("tokens.toml"), "{}", refused.stderr);
        assert_no_token(&refused, &token);
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // A malformed settings file, named with its line.
    let settings = folder.join("contexts.toml");
    let good = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(&settings, format!("{good}\n[contexts.broken\nurl = 1\n")).unwrap();
    let malformed = run(&["services", "list"], &env, None);
    malformed.expect(2);
    let line = good.lines().count() + 2;
    assert!(
        malformed
            .stderr
            .contains(&format!("contexts.toml:{line}: malformed")),
        "line {line}: {}",
        malformed.stderr
    );
    std::fs::write(&settings, &good).unwrap();

    // An expired token: said, with how to set a new one.
    // {"alg":"none"} . {"exp":1700000000} . (no signature)
    let expired = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.";
    run(
        &["context", "add", "old", "--url", &url],
        &env,
        Some(expired),
    )
    .expect(0);
    let refused = run(&["--context", "old", "services", "list"], &env, None);
    refused.expect(3);
    assert!(refused.stderr.contains("expired"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("context add old"),
        "{}",
        refused.stderr
    );
    assert_eq!(instance.local.requests_seen(), requests, "nothing was sent");

    // A token is never an argument.
    let argument = run(
        &["context", "add", "x", "--url", &url, "--token", "t"],
        &env,
        Some(&token),
    );
    argument.expect(2);
    assert!(
        argument.stderr.contains("standard input"),
        "{}",
        argument.stderr
    );
    let empty = run(&["context", "add", "x", "--url", &url], &env, Some(""));
    empty.expect(2);
    assert!(empty.stderr.contains("standard input"), "{}", empty.stderr);
}
