//! `examples/deploy.rs` run as a process, for its exit codes.
//!
//! Cargo only hands tests the paths of `[[bin]]` targets, so the example is
//! built here with the `cargo` that runs the tests (`cargo build --example
//! deploy`, same manifest, target directory and profile as a plain `cargo
//! test`) and its path read from cargo's own JSON messages, which works from
//! a clean clone and wherever the target directory is.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::{json, Value};

use super::*;

fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let built = Command::new(env!("CARGO"))
            .args(["build", "--example", "deploy", "--message-format=json"])
            .arg("--manifest-path")
            .arg(&manifest)
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(built.status.success(), "building the example failed");
        String::from_utf8_lossy(&built.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["target"]["name"] == "deploy")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the example's executable")
    })
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the example on `file` with no instance configured (so against its
/// own `LocalInstance`) plus `env`, for at most 60 s.
fn run(file: &Path, env: &[(&str, &str)]) -> Ran {
    let mut command = Command::new(example());
    command
        .arg(file)
        .env_remove("DPLOYR_URL")
        .env_remove("DPLOYR_TOKEN")
        .env_remove("DPLOYR_REFRESH_TOKEN")
        .env_remove("DPLOYR_EXAMPLE_FAIL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the example starts");
    let started = Instant::now();
    while child
        .try_wait()
        .expect("the example can be waited for")
        .is_none()
    {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the example did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("the example's output");
    Ran {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deployment.json")
}

/// A file under the test's scratch directory holding `contents`.
fn scratch(name: &str, contents: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-example-{name}"));
    std::fs::write(&path, contents).unwrap();
    path
}

/// The sample request with `change` applied.
fn sample_with(change: impl FnOnce(&mut Value)) -> String {
    let mut request: Value =
        serde_json::from_str(&std::fs::read_to_string(sample()).unwrap()).unwrap();
    change(&mut request);
    request.to_string()
}

#[test]
fn a_completed_deployment_exits_0_after_its_live_log() {
    let ran = run(&sample(), &[]);
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("deploying hello-web as "),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("  | cloning https://github.com/example/hello-web.git (main)"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("  = completed"), "{}", ran.stdout);
}

#[test]
fn a_failed_deployment_exits_1_with_its_last_lines_and_the_error() {
    let ran = run(&sample(), &[("DPLOYR_EXAMPLE_FAIL", "1")]);
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("last log lines:\n"), "{}", ran.stderr);
    assert!(ran.stderr.contains("  | building\n"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("error: deployment hello-web (")
            && ran.stderr.contains("ended with status failed"),
        "{}",
        ran.stderr
    );
}

#[test]
fn unreadable_or_invalid_input_exits_2_naming_what_was_wrong() {
    let cases = [
        (
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("deploy-example-no-such-file.json"),
            "cannot read",
        ),
        (
            scratch("truncated.json", r#"{"name": "web""#),
            "is not a deploy request",
        ),
        (
            scratch(
                "no-runtime.json",
                &sample_with(|r| {
                    r.as_object_mut().unwrap().remove("runtime");
                }),
            ),
            "missing field `runtime`",
        ),
        // Rejected by the client before sending.
        (
            scratch("port.json", &sample_with(|r| r["port"] = json!(0))),
            "rejected field port",
        ),
        // Rejected by the instance (422).
        (
            scratch(
                "no-remote.json",
                &sample_with(|r| {
                    r.as_object_mut().unwrap().remove("remote");
                }),
            ),
            "rejected field remote: is required when source is remote",
        ),
    ];
    for (file, said) in cases {
        let ran = run(&file, &[]);
        assert_eq!(ran.code, Some(2), "{}: {}", file.display(), ran.stderr);
        assert!(
            ran.stderr.contains(said),
            "{}: {}",
            file.display(),
            ran.stderr
        );
    }
}
