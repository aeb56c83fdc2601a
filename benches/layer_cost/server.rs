//! The server `layer_cost` measures against: this same binary re-run as a
//! child process with `LAYER_COST_SERVE=1`, answering with static bodies.
//!
//! In another process its work never shows in the client's `getrusage`
//! figures and never competes with the client for a tokio runtime, as with a
//! real instance. A child of the bench itself rather than nginx, so that the
//! benchmark needs nothing installed.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Set in the child's environment: serve instead of measuring.
const SERVE_ENV: &str = "LAYER_COST_SERVE";

/// How many services the `ServiceList` answer holds, and the `limit` the
/// callers ask for (the API allows up to 100).
pub const SERVICES: usize = 60;
/// The `services.total` of the `SystemStatus` answer.
pub const STATUS_TOTAL: usize = 12;

/// The server child. Dropping it ends the child; if the parent dies without
/// dropping it, the child sees its stdin close and exits on its own.
pub struct Server {
    child: Child,
    /// Held open only so that the child can tell when the parent is gone.
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl Server {
    /// Starts the child and waits until it listens.
    pub fn start() -> Server {
        let exe = std::env::current_exe().expect("the path of this benchmark");
        let mut child = Command::new(exe)
            .env(SERVE_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the benchmark re-run as its server");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("a piped stdout");
        // The guard exists before anything can fail, so a failure below
        // still ends the child.
        let mut server = Server {
            child,
            stdin,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        };
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server's first line");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the server printed {line:?}, not its port"));
        server.addr.set_port(port);
        server
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // Either may fail only if the child is gone already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this process is the server child.
pub fn is_child() -> bool {
    std::env::var_os(SERVE_ENV).is_some()
}

/// The child's work: prints the port, then serves until stdin closes, when
/// it exits the process.
pub fn serve() {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a loopback port");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking socket");
    let port = listener.local_addr().expect("a bound address").port();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{port}").expect("the parent reads the port");
    stdout.flush().expect("the parent reads the port");
    // The parent never writes to stdin: its end closes when the parent
    // drops the guard or dies, however it dies.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });

    let (status, services) = (response(&system_status()), response(&service_list()));
    // One thread, as a small static server would use on a machine whose
    // cores the client shares.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        loop {
            let (socket, _) = listener.accept().await.expect("a connection");
            tokio::spawn(async move {
                // A connection the client drops ends here; nothing to report.
                let _ = answer(socket, status, services).await;
            });
        }
    })
}

/// A complete HTTP/1.1 answer with `body`, made once and kept for the
/// child's life.
fn response(body: &[u8]) -> &'static [u8] {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    Vec::leak(response)
}

/// Answers the requests of one keep-alive connection. Only what the callers
/// send is handled (bodiless GETs); any other path gets a 404, so a wrong
/// URL fails the run rather than being timed. `GET /system/info` is never
/// answered: the connection stays open and silent until the client gives
/// up, for `deadline_late` to time how late a deadline fires.
async fn answer(
    mut socket: TcpStream,
    status: &'static [u8],
    services: &'static [u8],
) -> std::io::Result<()> {
    const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    socket.set_nodelay(true)?;
    let mut input = Vec::with_capacity(4096);
    loop {
        while let Some(end) = memchr::memmem::find(&input, b"\r\n\r\n") {
            let head = &input[..end];
            if head.starts_with(b"GET /system/info ") {
                return silent(socket).await;
            }
            let response = if head.starts_with(b"GET /system/status ") {
                status
            } else if head.starts_with(b"GET /services?") || head.starts_with(b"GET /services ") {
                services
            } else {
                NOT_FOUND
            };
            input.drain(..end + 4);
            socket.write_all(response).await?;
        }
        if socket.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}

/// Reads and drops what the client sends until it closes the connection.
async fn silent(mut socket: TcpStream) -> std::io::Result<()> {
    let mut sink = [0; 1024];
    while socket.read(&mut sink).await? > 0 {}
    Ok(())
}

/// A `ServiceList` as an instance would send it: the fields a typical
/// service has set, values varied from service to service, about 26 kB.
pub fn service_list() -> Vec<u8> {
    const RUNTIMES: [(&str, &str); 4] = [
        ("nodejs", "20.11.1"),
        ("python", "3.12.2"),
        ("golang", "1.22.1"),
        ("ruby", "3.3.0"),
    ];
    let services: Vec<_> = (0..SERVICES)
        .map(|n| {
            let (runtime, version) = RUNTIMES[n % RUNTIMES.len()];
            let name = format!("service-{n:02}");
            json!({
                "id": format!("01HN2K3M4N5P6Q7R8S9T0U{n:04}"),
                "name": name,
                "source": if n % 5 == 0 { "image" } else { "remote" },
                "runtime": runtime,
                "runtime_version": version,
                "run_cmd": "npm start",
                "build_cmd": "npm run build",
                "port": 3000 + n,
                "working_dir": format!("/srv/{name}"),
                "env_vars": { "NODE_ENV": "production" },
                "status": if n % 7 == 0 { "stopped" } else { "running" },
                "remote": format!("https://github.com/example-org/{name}.git"),
                "branch": "main",
                "commit_hash": format!("{:012x}", 0x9e37_79b9_7f4a_u64.wrapping_mul(n as u64 + 1) & 0xffff_ffff_ffff),
                "created_at": format!("2024-01-{:02}T12:00:00Z", n % 28 + 1),
                "updated_at": format!("2024-02-{:02}T08:30:15Z", n % 28 + 1),
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "services": services, "total": SERVICES }))
        .expect("JSON values serialize")
}

/// A `SystemStatus` as an instance sends it: 128 bytes.
pub fn system_status() -> Vec<u8> {
    let body = serde_json::to_vec(&json!({
        "status": "healthy",
        "uptime": "3h2m1s",
        "services": { "total": STATUS_TOTAL, "running": STATUS_TOTAL - 1, "stopped": 1 },
        "proxy": { "status": "running", "routes": STATUS_TOTAL },
    }))
    .expect("JSON values serialize");
    assert_eq!(body.len(), 128, "the small answer is 128 bytes");
    body
}
