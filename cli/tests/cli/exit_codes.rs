//! Each documented exit code, from the failure that calls for it.

use dployr::testing::Role;

use crate::support::{run, Instance};

#[test]
fn usage_and_invalid_input_exit_2() {
    run(&[], &[], None).expect(2);
    run(&["services", "frobnicate"], &[], None).expect(2);
    run(&["services", "get"], &[], None).expect(2);
    let no_url = run(&["services", "list"], &[], None);
    no_url.expect(2);
    assert!(no_url.stderr.contains("DPLOYR_URL"), "{}", no_url.stderr);
    let instance = Instance::start();
    let not_a_number = instance.run(&["services", "list", "--limit", "many"]);
    not_a_number.expect(2);
    let out_of_bounds = instance.run(&["services", "list", "--limit", "500"]);
    out_of_bounds.expect(2);
    assert!(
        out_of_bounds.stderr.contains("limit"),
        "{}",
        out_of_bounds.stderr
    );
    let not_a_port = instance.run(&["services", "patch", "svc", "--port", "many"]);
    not_a_port.expect(2);
    assert!(
        not_a_port.stderr.contains("--port"),
        "{}",
        not_a_port.stderr
    );
    let missing_field = instance.run(&["proxy", "add-route", "--domain", "a.example.com"]);
    missing_field.expect(2);
    assert!(
        missing_field.stderr.contains("upstream"),
        "{}",
        missing_field.stderr
    );
    assert_eq!(
        missing_field.stderr.lines().count(),
        1,
        "{}",
        missing_field.stderr
    );
    instance
        .run(&["proxy", "add-route", "--set", "domain=not json"])
        .expect(2);
}

#[test]
fn auth_failures_exit_3() {
    let instance = Instance::start();
    let url = instance.local.url();
    // In the command line's words: what to give, not the library's types.
    let no_token = run(&["services", "list"], &[("DPLOYR_URL", &url)], None);
    no_token.expect(3);
    for words in [
        "--token",
        "DPLOYR_TOKEN",
        "context use",
        "without an access token",
    ] {
        assert!(
            no_token.stderr.contains(words),
            "{words}: {}",
            no_token.stderr
        );
    }
    assert!(
        !no_token.stderr.contains("TokenManager"),
        "{}",
        no_token.stderr
    );
    let logs = run(&["logs", "some-id"], &[("DPLOYR_URL", &url)], None);
    logs.expect(3);
    assert!(logs.stderr.contains("--token"), "{}", logs.stderr);
    run(
        &["services", "list", "--url", &url, "--token", "not-a-token"],
        &[],
        None,
    )
    .expect(3);
    let service = instance.service("web");
    let forbidden = instance.run_as(Role::Viewer, &["services", "delete", &service]);
    forbidden.expect(3);
    assert!(
        forbidden.stderr.starts_with("error: "),
        "{}",
        forbidden.stderr
    );
    assert!(
        forbidden
            .stderr
            .contains("deleteService needs the admin role and the token has the viewer role"),
        "{}",
        forbidden.stderr
    );
}

#[test]
fn a_forbidden_call_exits_3_naming_the_role_it_needs() {
    let instance = Instance::start();
    let info = instance.run_as(Role::Developer, &["system", "get-info"]);
    info.expect(3);
    assert!(
        info.stderr
            .contains("getSystemInfo needs the admin role and the token has the developer role"),
        "{}",
        info.stderr
    );
    instance
        .run_as(Role::Admin, &["system", "get-info"])
        .expect(0);
    let logs = instance.run_as(Role::Viewer, &["logs", "any-id"]);
    logs.expect(3);
    assert!(
        logs.stderr
            .contains("openLogStream needs the developer role"),
        "{}",
        logs.stderr
    );
}

#[test]
fn a_missing_resource_exits_4_and_other_failures_1() {
    let instance = Instance::start();
    instance
        .run(&["services", "get", "no-such-service"])
        .expect(4);
    instance.run(&["proxy", "remove-route"]).expect(4);
    instance.local.fail_next(20, 500);
    let failed = instance.run(&["system", "get-status"]);
    failed.expect(1);
    assert!(failed.stderr.contains("500"), "{}", failed.stderr);
    assert_eq!(failed.stderr.lines().count(), 1, "{}", failed.stderr);
}
