//! Whether every operation has its contract test: read from the test
//! file's source, so that deleting, commenting out or ignoring a test is
//! noticed.

use super::spec::snake_case;

/// A `*_contract` test function found in a test file's source.
#[derive(Debug)]
struct ContractTest {
    function: String,
    /// The `operationId` its body passes to `check_operation`.
    checks: Option<String>,
    /// Marked `#[tokio::test]` and not `#[ignore]`d.
    runs: bool,
}

/// The `*_contract` functions in `source`, skipping commented-out lines, so
/// that deleting, commenting out or ignoring a test is noticed.
fn contract_tests(source: &str) -> Vec<ContractTest> {
    let lines: Vec<&str> = source
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .collect();
    let is_fn = |l: &str| l.starts_with("fn ") || l.starts_with("async fn ");
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line
            .strip_prefix("async fn ")
            .or_else(|| line.strip_prefix("fn "))
        else {
            continue;
        };
        let function: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !function.ends_with("_contract") {
            continue;
        }
        let attributes: Vec<&str> = lines[..i]
            .iter()
            .rev()
            .take_while(|l| l.starts_with("#["))
            .copied()
            .collect();
        let runs = attributes.iter().any(|a| a.starts_with("#[tokio::test"))
            && !attributes.iter().any(|a| a.starts_with("#[ignore"));
        let checks = lines[i + 1..]
            .iter()
            .take_while(|l| !is_fn(l))
            .find_map(|l| l.split("check_operation(\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .map(String::from);
        found.push(ContractTest {
            function,
            checks,
            runs,
        });
    }
    found
}

/// What is wrong with the contract tests in `source` (a test file's text)
/// for the operations `operation_ids` (the spec's, as build.rs lists them):
/// an operation without exactly one runnable `<snake_case id>_contract`
/// test, or a `*_contract` test checking an operation the spec lacks.
pub fn contract_coverage(source: &str, operation_ids: &[&str]) -> Vec<String> {
    let tests = contract_tests(source);
    let mut problems = Vec::new();
    for id in operation_ids {
        let function = format!("{}_contract", snake_case(id));
        match tests.iter().filter(|t| t.function == function).count() {
            1 => {}
            0 => problems.push(format!(
                "{id}: no test named `{function}`; add one that calls check_operation(\"{id}\")"
            )),
            n => problems.push(format!("{id}: {n} tests named `{function}`")),
        }
    }
    for test in &tests {
        let name = &test.function;
        match &test.checks {
            None => problems.push(format!("`{name}` calls no check_operation(\"<id>\")")),
            Some(id) if !operation_ids.contains(&id.as_str()) => {
                problems.push(format!("`{name}` checks {id}, which the spec lacks"))
            }
            Some(id) if *name != format!("{}_contract", snake_case(id)) => {
                problems.push(format!("`{name}` checks {id}: name it after {id}"))
            }
            Some(_) => {}
        }
        if !test.runs {
            problems.push(format!(
                "`{name}` is not a #[tokio::test], or is #[ignore]d"
            ));
        }
    }
    problems
}
