//! The access token never shows: not in help, errors, `--verbose` output or
//! any answer, whichever way it was given.

use crate::support::{path, run, sample, Instance};

#[test]
fn the_token_appears_in_no_output() {
    let instance = Instance::start();
    let url = instance.local.url();
    let token = instance.local.owner_token().to_string();
    let bad = "sEcReT-not-a-valid-token-1234";
    let by_env = [
        ("DPLOYR_URL", url.as_str()),
        ("DPLOYR_TOKEN", token.as_str()),
    ];
    let service = instance.service("web");
    let mut outputs = Vec::new();
    for args in [
        vec!["--help"],
        vec!["services", "--help"],
        vec!["services", "get", "--help"],
        vec!["--verbose", "services", "list"],
        vec!["-v", "services", "get", &service, "--output", "table"],
        vec!["-v", "deploy", "--file", path(&sample()), "--wait"],
        vec!["-v", "logs", &service],
        vec!["-v", "api", "GET", "/services"],
        vec!["-v", "services", "get", "missing"],
        vec!["services", "list", "--limit", "0"],
        vec!["services", "nope"],
    ] {
        outputs.push(run(&args, &by_env, None));
        let mut by_flag = vec!["--url", url.as_str(), "--token", token.as_str()];
        by_flag.extend(&args);
        outputs.push(run(&by_flag, &[], None));
    }
    // A refused token is not quoted back either.
    outputs.push(run(
        &["-v", "services", "list", "--token", bad],
        &by_env[..1],
        None,
    ));
    outputs.push(run(
        &["-v", "logs", &service],
        &[("DPLOYR_URL", &url), ("DPLOYR_TOKEN", bad)],
        None,
    ));
    let mut verbose_lines = 0;
    for ran in &outputs {
        for text in [&ran.stdout, &ran.stderr] {
            assert!(!text.contains(&token), "the token leaked:\n{text}");
            assert!(!text.contains(bad), "a refused token leaked:\n{text}");
        }
        verbose_lines += ran.stderr.lines().filter(|l| l.starts_with("> ")).count();
    }
    assert!(verbose_lines >= 8, "--verbose showed its requests");
    assert_eq!(outputs.last().unwrap().code, Some(3));
}
