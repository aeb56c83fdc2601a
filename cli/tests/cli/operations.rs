//! Every operation of `dployr::operations()` as a command: each is run
//! once, and its JSON output must decode as the operation's answer type.

use dployr::Operation;
use serde_json::Value;

use crate::naming;
use crate::support::{path, sample_named, scratch, Instance};

fn operation(id: &str) -> &'static Operation {
    Operation::find(id).unwrap_or_else(|| panic!("the spec has no operation {id}"))
}

/// `NOUN VERB` of an operation, by the binary's own rule.
fn command(id: &str) -> Vec<String> {
    let op = operation(id);
    let name = naming::command_name(op.id(), op.tag());
    vec![name.noun, name.verb]
}

#[test]
fn every_operation_has_a_command_whose_json_decodes_as_its_answer() {
    let instance = Instance::start();
    let service = instance.service("web");
    let deployment = instance.run(&["deployments", "list"]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let request = scratch("operations-create.json", &sample_named("api"));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // In an order that works: deletes come last. The log stream, being a
    // stream, is `dployrctl logs`.
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("listDeployments", s(&["--limit", "5", "--offset", "0"])),
        ("createDeployment", s(&["--body", path(&request)])),
        ("listServices", s(&[])),
        ("getService", s(&[&service])),
        (
            "updateService",
            s(&[&service, "--name", "web", "--port", "3000"]),
        ),
        ("patchService", s(&[&service, "--set", "port=8080"])),
        ("getProxyStatus", s(&[])),
        ("restartProxy", s(&[])),
        (
            "addProxyRoute",
            s(&[
                "--domain",
                "web.example.com",
                "--upstream",
                "http://127.0.0.1:3000",
            ]),
        ),
        ("removeProxyRoute", s(&[])),
        ("getSystemStatus", s(&[])),
        ("getSystemInfo", s(&[])),
        ("runSystemDoctor", s(&[])),
        ("installSystem", s(&["--field", "version=v0.2.0"])),
        // The spec makes its body optional: none installs the latest.
        ("installSystem", s(&[])),
        (
            "registerInstance",
            s(&["--claim", "signed-claim", "--instance-id", "i-1"]),
        ),
        // `token` is taken by the global flag: the field goes by `--field`.
        ("requestDomain", s(&["--field", "token=installation-token"])),
        ("deleteService", s(&[&service])),
    ];
    let missing: Vec<&str> = dployr::operations()
        .iter()
        .filter(|op| !op.is_streaming() && !cases.iter().any(|(id, _)| *id == op.id()))
        .map(|op| op.id())
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a command test here: {missing:?}; add each to `cases`"
    );
    for (id, args) in &cases {
        let op = operation(id);
        let mut full = command(id);
        full.extend(args.iter().cloned());
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        // A deployment made by an earlier case moves its service on its own;
        // what this case prints is compared with a second read below.
        instance.settle();
        let ran = instance.run(&full);
        ran.expect(0);
        if let Ok(Value::Array(printed)) = serde_json::from_str::<Value>(&ran.stdout) {
            // A list prints its items: the page the instance answers, read
            // raw and decoded as the operation's type, holds the same.
            let raw = instance.run(&["api", op.method(), op.path()]);
            let page = op
                .decode_answer(raw.stdout.as_bytes())
                .unwrap_or_else(|e| panic!("{id}: {e}\n{}", raw.stdout));
            let items: Vec<&Value> = page
                .as_object()
                .unwrap()
                .values()
                .filter(|v| v.is_array())
                .collect();
            assert_eq!(items, [&Value::Array(printed)], "{id} prints its items");
        } else if op.answer_type().is_some() {
            let decoded = op
                .decode_answer(ran.stdout.as_bytes())
                .unwrap_or_else(|e| panic!("{id}: {e}\n{}", ran.stdout));
            assert_eq!(decoded, ran.json(), "{id} prints its answer as decoded");
        } else {
            assert!(ran.stdout.trim().is_empty(), "{id}: {}", ran.stdout);
        }
    }
    // What the commands did is visible to the next ones.
    let gone = instance.run(&["services", "get", &service]);
    gone.expect(4);
    let listed = instance.run(&["deployments", "list"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");

    // The streaming operations are commands of their own.
    let streaming: Vec<&str> = dployr::operations()
        .iter()
        .filter(|op| op.is_streaming())
        .map(|op| op.id())
        .collect();
    assert_eq!(
        streaming,
        ["openLogStream"],
        "a new stream needs a command of its own"
    );
    let logs = instance.run(&["logs", &deployment]);
    logs.expect(0);
    assert_eq!(
        logs.stdout.lines().collect::<Vec<_>>(),
        [
            "cloning https://github.com/example/hello-web.git (main)",
            "installing nodejs@20.11.0",
            "building",
            "starting web on port 3000",
        ]
    );
}

#[test]
fn help_lists_every_group_and_each_group_its_verbs() {
    let top = crate::support::run(&["--help"], &[], None);
    top.expect(0);
    for word in ["deploy", "logs", "api", "context", "completions"] {
        assert!(
            top.stdout.contains(&format!("\n  {word} ")),
            "{word}:\n{}",
            top.stdout
        );
    }
    let mut commands = 0;
    for op in dployr::operations().iter().filter(|op| !op.is_streaming()) {
        let name = naming::command_name(op.id(), op.tag());
        let listed = top
            .stdout
            .lines()
            .find(|line| line.starts_with(&format!("  {} ", name.noun)))
            .unwrap_or_else(|| panic!("no group {} in\n{}", name.noun, top.stdout));
        assert!(listed.contains(&name.verb), "{}: {listed}", op.id());
        let group = crate::support::run(&[&name.noun, "--help"], &[], None);
        group.expect(0);
        assert!(
            group.stdout.contains(&format!("  {} ", name.verb)),
            "{} has no `{}`:\n{}",
            name.noun,
            name.verb,
            group.stdout
        );
        commands += 1;
    }
    assert_eq!(commands + 1, dployr::operations().len());
}

#[test]
fn each_commands_help_says_the_role_its_operation_needs() {
    for op in dployr::operations().iter().filter(|op| !op.is_streaming()) {
        let command = command(op.id());
        let help = crate::support::run(&[&command[0], &command[1], "--help"], &[], None);
        help.expect(0);
        let note = match op.role() {
            Some(role) => format!("Needs a token with at least the {role} role."),
            None => "Needs no access token.".to_string(),
        };
        assert!(help.stdout.contains(&note), "{}:\n{}", op.id(), help.stdout);
    }
    let logs = crate::support::run(&["logs", "--help"], &[], None);
    assert!(
        logs.stdout
            .contains("openLogStream: Needs a token with at least the developer role."),
        "{}",
        logs.stdout
    );
}

#[test]
fn lists_read_as_one_array_of_their_typed_items_and_as_a_table() {
    let instance = Instance::start();
    instance.service("web");
    let json = instance.run(&["services", "list"]);
    let list: Vec<dployr::types::Service> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "web");
    // One page asked for: its items alone, still one array.
    let page = instance.run(&["services", "list", "--limit", "1", "--offset", "0"]);
    let page: Vec<dployr::types::Service> = serde_json::from_str(&page.stdout).unwrap();
    assert_eq!(page.len(), 1);

    let table = instance.run(&["services", "list", "--output", "table"]);
    table.expect(0);
    let header = table.stdout.lines().next().unwrap();
    assert!(
        header.starts_with("ID") || header.contains("NAME"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("web"), "{}", table.stdout);
    assert!(serde_json::from_str::<Value>(&table.stdout).is_err());
}

#[test]
fn the_escape_hatch_sends_any_path_with_the_same_auth() {
    let instance = Instance::start();
    let ran = instance.run(&["api", "get", "/system/status"]);
    ran.expect(0);
    operation("getSystemStatus")
        .decode_answer(ran.stdout.as_bytes())
        .unwrap();
    let added = instance.run(&["api", "POST", "/proxy/add", "--body", "-"]);
    // No body on stdin is not JSON: refused before sending.
    added.expect(2);
    instance.run(&["api", "GET", "/no/such/path"]).expect(4);
    instance
        .run(&["api", "GET", "/deployments", "-q", "limit=500"])
        .expect(2);
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let ran = crate::support::run(&["completions", shell], &[], None);
        ran.expect(0);
        assert!(ran.stdout.contains("services"), "{shell}");
        assert!(ran.stdout.contains("get-status"), "{shell}");
    }
    crate::support::run(&["completions", "tcsh"], &[], None).expect(2);
    let version = crate::support::run(&["--version"], &[], None);
    version.expect(0);
    assert_eq!(
        version.stdout.trim(),
        format!("dployrctl {}", env!("CARGO_PKG_VERSION"))
    );
}
