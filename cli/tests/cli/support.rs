//! Runs the built `dployrctl` against a `LocalInstance` served from this
//! process, on a runtime of its own so the test thread can block on the
//! child.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use dployr::testing::{LocalInstance, Role};
use serde_json::Value;

/// A local instance and the runtime serving it.
pub struct Instance {
    // Declared first, so it is dropped (and stopped) before its runtime.
    pub local: LocalInstance,
    runtime: tokio::runtime::Runtime,
}

impl Instance {
    /// An instance whose deployments take 20 ms per step.
    pub fn start() -> Instance {
        Instance::start_with(Duration::from_millis(20))
    }

    /// An instance whose deployments take `phase` per step.
    pub fn start_with(phase: Duration) -> Instance {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let local = runtime
            .block_on(LocalInstance::builder().phase_delay(phase).start())
            .unwrap();
        Instance { local, runtime }
    }

    /// Blocks until no deployment of the instance is still building, so
    /// what the next commands read does not move under them.
    pub fn settle(&self) {
        self.runtime.block_on(self.local.settled());
    }

    /// `dployrctl ARGS` with the owner's token in `DPLOYR_TOKEN`.
    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_as(Role::Owner, args)
    }

    /// `dployrctl ARGS` with the token of `role` in `DPLOYR_TOKEN`.
    pub fn run_as(&self, role: Role, args: &[&str]) -> Ran {
        run(
            args,
            &[
                ("DPLOYR_URL", &self.local.url()),
                ("DPLOYR_TOKEN", self.local.token(role)),
            ],
            None,
        )
    }

    /// The id of a service made by a completed deployment named `name`.
    pub fn service(&self, name: &str) -> String {
        let file = scratch(&format!("{name}.json"), &sample_named(name));
        let ran = self.run(&["deploy", "--file", path(&file), "--wait"]);
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
        let list = self.run(&["services", "list", "--output", "json"]);
        // A list prints as one array of its items.
        let services = list.json().as_array().cloned().unwrap();
        let found = services.iter().find(|s| s["name"] == name).unwrap();
        found["id"].as_str().unwrap().to_string()
    }
}

/// What a run of the binary left.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn expect(&self, code: i32) -> &Ran {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The variables that change what the binary does, none of them inherited
/// from the shell that runs the tests.
const CLEARED: [&str; 9] = [
    "DPLOYR_URL",
    "DPLOYR_TOKEN",
    "DPLOYR_REFRESH_TOKEN",
    "DPLOYR_TIMEOUT_SECS",
    "DPLOYR_CONTEXT",
    "NO_COLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "XDG_CONFIG_HOME",
];

/// A configuration folder of no contexts, so no test reads the contexts of
/// whoever runs it (a test that keeps contexts sets its own).
fn no_contexts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dployrctl-no-contexts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with the variables above cleared and `env` set.
pub fn binary(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dployrctl"));
    command.args(args);
    with_env(&mut command, env);
    command
}

fn with_env(command: &mut Command, env: &[(&str, &str)]) {
    for name in CLEARED {
        command.env_remove(name);
    }
    command.env("XDG_CONFIG_HOME", no_contexts());
    for (key, value) in env {
        command.env(key, value);
    }
}

/// `dployrctl ARGS` with only `env` of the DPLOYR_ variables set, stdin from
/// `stdin` (else empty), stdout a pipe (so JSON unless told otherwise).
pub fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Ran {
    let mut command = binary(args, env);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    let mut input = child.stdin.take().unwrap();
    // A command refused before it reads its input may have closed the pipe
    // already; what it printed and its exit code are what the test reads.
    if let Err(e) = input.write_all(stdin.unwrap_or_default().as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The repository's sample deploy request.
pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/deployment.json")
}

/// The sample with another name, so tests can tell deployments apart.
pub fn sample_named(name: &str) -> String {
    let mut request: Value =
        serde_json::from_str(&std::fs::read_to_string(sample()).unwrap()).unwrap();
    request["name"] = Value::from(name);
    request.to_string()
}

/// A file holding `contents` in the tests' scratch directory.
pub fn scratch(name: &str, contents: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dployrctl-{name}"));
    std::fs::write(&path, contents).unwrap();
    path
}

pub fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `dployrctl ARGS` on a real pseudo-terminal `columns` wide, made by
/// `script(1)`: stdout and stderr are the terminal, whose bytes come back
/// as `stdout` (lines end in `\r\n` there, `\n` here).
pub fn run_in_terminal(args: &[&str], env: &[(&str, &str)], columns: u16) -> Ran {
    let quote = |word: &str| format!("'{}'", word.replace('\'', "'\\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_dployrctl"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let inner = format!("stty cols {columns} rows 50 && exec {line}");
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", &inner, "/dev/null"]);
    with_env(&mut script, env);
    let output = script
        .stdin(Stdio::null())
        .output()
        .expect("script(1) runs");
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
