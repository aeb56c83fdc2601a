//! A local Dployr instance to try the `dployrctl` command against, without a
//! real one: it prints the two variables to export and serves until Ctrl-C.
//!
//! ```text
//! cargo run -p dployrctl --example local_instance
//! # in another shell, with the two lines it printed:
//! export DPLOYR_URL=http://127.0.0.1:PORT DPLOYR_TOKEN=...
//! dployrctl deploy --file examples/deployment.json --wait
//! dployrctl services list | jq
//! ```
//!
//! The token is a test instance's owner token, made for this process and
//! worthless once it stops. `DPLOYR_EXAMPLE_FAIL=NAME` makes deployments of
//! that name fail, to see `deploy --wait` exit 1.

use dployr::testing::LocalInstance;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let instance = LocalInstance::start().await?;
    if let Ok(name) = std::env::var("DPLOYR_EXAMPLE_FAIL") {
        instance.fail_deployments_named(name);
    }
    println!(
        "export DPLOYR_URL={} DPLOYR_TOKEN={}",
        instance.url(),
        instance.owner_token()
    );
    eprintln!(
        "serving; Ctrl-C stops it. In another shell, after the export above:\n  \
         dployrctl deploy --file examples/deployment.json --wait\n  \
         dployrctl services list"
    );
    // Ctrl-C ends the process, and with it the instance.
    std::future::pending::<()>().await;
    Ok(())
}
