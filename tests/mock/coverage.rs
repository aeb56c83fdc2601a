//! Which operations the mock tests call through their mock, read from the
//! tests' source so that deleting, commenting out or ignoring a test is
//! noticed.

/// What the sources cover.
pub struct Report {
    /// Operations some runnable test mocks.
    pub covered: usize,
    /// One line per operation no runnable test mocks.
    pub problems: Vec<String>,
}

/// A test function and the text of its body.
struct TestFn<'a> {
    runs: bool,
    body: Vec<&'a str>,
}

/// The `#[tokio::test]`/`#[test]` functions of `source`, skipping
/// commented-out lines.
fn tests(source: &str) -> Vec<TestFn<'_>> {
    let lines: Vec<&str> = source
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .collect();
    let is_fn = |l: &str| l.starts_with("fn ") || l.starts_with("async fn ");
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !is_fn(line) {
            continue;
        }
        let attributes: Vec<&str> = lines[..i]
            .iter()
            .rev()
            .take_while(|l| l.starts_with("#["))
            .copied()
            .collect();
        let is_test = attributes
            .iter()
            .any(|a| a.starts_with("#[tokio::test") || *a == "#[test]");
        if !is_test {
            continue;
        }
        let runs = !attributes.iter().any(|a| a.starts_with("#[ignore"));
        let body = lines[i + 1..]
            .iter()
            .take_while(|l| !is_fn(l))
            .copied()
            .collect();
        found.push(TestFn { runs, body });
    }
    found
}

/// For each `(operationId, mock method)`, whether a runnable test in
/// `sources` calls `.<mock method>(|` (a `MockServerExt` call; a client
/// call takes no closure).
pub fn mock_coverage(sources: &[&str], operations: &[(&str, &str)]) -> Report {
    let tests: Vec<TestFn> = sources.iter().flat_map(|s| tests(s)).collect();
    let mut problems = Vec::new();
    for (id, method) in operations {
        let call = format!(".{method}(|");
        let mocks = |t: &&TestFn| t.body.iter().any(|l| l.contains(&call));
        match (
            tests.iter().filter(mocks).any(|t| t.runs),
            tests.iter().any(|t| mocks(&t)),
        ) {
            (true, _) => {}
            (false, true) => problems.push(format!(
                "{id}: the only tests calling `server.{method}(|when, then| ..)` are #[ignore]d"
            )),
            (false, false) => problems.push(format!(
                "{id}: no test in tests/mock calls `server.{method}(|when, then| ..)`; add one"
            )),
        }
    }
    Report {
        covered: operations.len() - problems.len(),
        problems,
    }
}

#[test]
fn notices_a_missing_an_ignored_and_a_commented_out_mock() {
    let source = "
        #[tokio::test]
        async fn a() {
            server.get_service(|when, then| {});
            client.list_services().send();
        }
        #[tokio::test]
        #[ignore]
        async fn b() {
            server.delete_service(|when, then| {});
        }
        #[test]
        fn c() {
            // server.patch_service(|when, then| {});
        }
    ";
    let operations = [
        ("getService", "get_service"),
        ("listServices", "list_services"),
        ("deleteService", "delete_service"),
        ("patchService", "patch_service"),
    ];
    let report = mock_coverage(&[source], &operations);
    assert_eq!(report.covered, 1);
    let named: Vec<&str> = report
        .problems
        .iter()
        .map(|p| p.split(':').next().unwrap())
        .collect();
    assert_eq!(named, ["listServices", "deleteService", "patchService"]);
}
