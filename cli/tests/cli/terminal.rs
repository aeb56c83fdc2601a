//! What a person at a terminal sees, on a real pseudo-terminal (made by
//! `script(1)`): tables that fit its width with a NAME column, colours
//! unless `NO_COLOR`, the live line of `deploy --wait`; and on a pipe, the
//! same commands' JSON.

use std::time::Duration;

use dployr::types::{Deployment, Service};
use unicode_width::UnicodeWidthStr;

use crate::support::{path, run, run_in_terminal, sample, sample_named, scratch, Instance};

/// `text` without its terminal escape sequences (`ESC [ ... letter`).
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// An instance with a few services and deployments, names long and wide.
fn busy_instance() -> Instance {
    let instance = Instance::start();
    for name in [
        "web",
        "api-server-with-a-rather-long-descriptive-name",
        "サービス-日本語の名前",
    ] {
        let file = scratch(
            &format!("terminal-{}.json", name.len()),
            &sample_named(name),
        );
        instance
            .run(&["deploy", "--file", path(&file), "--wait"])
            .expect(0);
    }
    instance
}

#[test]
fn lists_fit_an_80_column_terminal_in_colour_and_a_pipe_gets_json() {
    let instance = busy_instance();
    let url = instance.local.url();
    let env = [
        ("DPLOYR_URL", url.as_str()),
        ("DPLOYR_TOKEN", instance.local.owner_token()),
    ];
    for list in [["services", "list"], ["deployments", "list"]] {
        let ran = run_in_terminal(&list, &env, 80);
        ran.expect(0);
        let text = plain(&ran.stdout);
        let header = text.lines().next().unwrap();
        assert!(header.starts_with("NAME "), "{list:?}:\n{text}");
        assert!(
            header.contains("ID") && header.contains("STATUS"),
            "{header}"
        );
        for line in text.lines() {
            assert!(
                line.width() <= 80,
                "{list:?}: {} columns: {line}",
                line.width()
            );
        }
        assert_eq!(
            text.lines().count(),
            4,
            "{list:?}: a header and three rows:\n{text}"
        );
        assert!(text.contains('…'), "a long name is cut:\n{text}");
        assert!(text.contains("サービス"), "{text}");
        assert!(text.contains(" ago"), "{text}");
        assert!(
            ran.stdout.contains("\x1b[32m"),
            "statuses in colour:\n{}",
            ran.stdout
        );

        let no_color = [env[0], env[1], ("NO_COLOR", "1")];
        let ran = run_in_terminal(&list, &no_color, 80);
        ran.expect(0);
        assert!(!ran.stdout.contains('\x1b'), "{list:?}: {:?}", ran.stdout);
        assert!(ran.stdout.starts_with("NAME "), "{}", ran.stdout);
    }
    // A deployment's NAME is the config.name it deploys.
    let deployments = plain(&run_in_terminal(&["deployments", "list"], &env, 80).stdout);
    assert!(
        deployments.lines().any(|l| l.starts_with("web ")),
        "{deployments}"
    );

    // On a pipe: the JSON of every item, typed, and no colour.
    let services: Vec<Service> =
        serde_json::from_str(&instance.run(&["services", "list"]).stdout).unwrap();
    assert_eq!(services.len(), 3);
    let deployments: Vec<Deployment> =
        serde_json::from_str(&instance.run(&["deployments", "list"]).stdout).unwrap();
    assert_eq!(deployments.len(), 3);
}

#[test]
fn clicolor_force_colours_a_piped_table_and_no_color_still_wins() {
    let instance = busy_instance();
    let url = instance.local.url();
    let token = instance.local.owner_token();
    let table = ["services", "list", "--output", "table"];
    let forced = run(
        &table,
        &[
            ("DPLOYR_URL", &url),
            ("DPLOYR_TOKEN", token),
            ("CLICOLOR_FORCE", "1"),
        ],
        None,
    );
    forced.expect(0);
    assert!(
        forced.stdout.contains("\x1b[32mrunning\x1b[0m"),
        "{:?}",
        forced.stdout
    );
    let both = run(
        &table,
        &[
            ("DPLOYR_URL", &url),
            ("DPLOYR_TOKEN", token),
            ("CLICOLOR_FORCE", "1"),
            ("NO_COLOR", ""),
        ],
        None,
    );
    assert!(!both.stdout.contains('\x1b'), "{:?}", both.stdout);
    let json = run(
        &["services", "list"],
        &[
            ("DPLOYR_URL", &url),
            ("DPLOYR_TOKEN", token),
            ("CLICOLOR_FORCE", "1"),
        ],
        None,
    );
    assert!(!json.stdout.contains('\x1b'));
    json.json();
    // COLUMNS bounds a table wherever it goes.
    let narrow = run(
        &table,
        &[
            ("DPLOYR_URL", &url),
            ("DPLOYR_TOKEN", token),
            ("COLUMNS", "50"),
        ],
        None,
    );
    assert!(
        narrow.stdout.lines().all(|l| l.width() <= 50),
        "{}",
        narrow.stdout
    );
    // Wide: every column, nested ones too.
    let wide = instance.run(&["services", "list", "--output", "wide"]);
    let header = wide.stdout.lines().next().unwrap();
    for column in ["NAME", "ID", "ENV_VARS", "BLUEPRINT", "UPDATED_AT"] {
        assert!(header.contains(column), "{column}: {header}");
    }
}

#[test]
fn deploy_wait_keeps_a_live_line_on_a_terminal_and_none_on_a_pipe() {
    // Phases long enough for the line to be drawn while it runs.
    let instance = Instance::start_with(Duration::from_millis(300));
    let url = instance.local.url();
    let env = [
        ("DPLOYR_URL", url.as_str()),
        ("DPLOYR_TOKEN", instance.local.owner_token()),
    ];
    let sample = sample();
    let args = [
        "deploy",
        "--file",
        path(&sample),
        "--wait",
        "--output",
        "json",
    ];
    let ran = run_in_terminal(&args, &env, 100);
    ran.expect(0);
    assert!(ran.stdout.contains("since created"), "{:?}", ran.stdout);
    assert!(ran.stdout.contains("  | building"), "{:?}", ran.stdout);

    let piped = run(&args, &env, None);
    piped.expect(0);
    assert!(!piped.stderr.contains("since created"), "{}", piped.stderr);
    assert!(!piped.stderr.contains('\x1b'), "{:?}", piped.stderr);
    assert!(piped.stderr.contains("  | building\n"), "{}", piped.stderr);
}
