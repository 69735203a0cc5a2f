//! `cargo xtask autobahn`: the Autobahn TestSuite (run by `kosoku`, its Python 3 port)
//! against the adapters' testees, as a conformance gate.
//!
//! Roles: the tokio and the std echo servers (`kosoku -m fuzzingclient` drives them, one
//! top-level case group per invocation so that a hang loses one group only), and the tokio
//! client (`kosoku -m fuzzingserver`, which the client drives). Every kosoku run is bounded
//! by `timeout`: kosoku has no handshake timeout and hangs on a stuck testee. Reports go to
//! `<target dir>/autobahn/<role>/`, emptied first (kosoku rewrites `index.json` per run but
//! leaves old case files).
//!
//! Results come from each `index.json`, read by the venv's Python: kosoku already needs
//! it, its `json` module is a real parser, and xtask stays dependency-free.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::server::{self, Guard, free_port};
use crate::{Result, cargo, describe, python::python_venv, run_step, target_dir};

/// The top-level case groups (there is no 8.* or 11.*).
const GROUPS: [&str; 11] = ["1", "2", "3", "4", "5", "6", "7", "9", "10", "12", "13"];

/// Cases in the full suite, per role.
const TOTAL_CASES: usize = 517;

/// The longest one case group may take against a server. Most take seconds; 12.* and 13.*
/// (deflate: thousands of messages, inflated by kosoku's Python side) take 1–3 minutes on
/// 2 shared cores, so this leaves a margin for a loaded CI machine. Measured totals are
/// in docs/conformance.md; the three roles together stay well under CI's 30 minutes.
const GROUP_TIMEOUT: Duration = Duration::from_secs(420);

/// The longest the whole client role may take (all groups in one kosoku run).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a testee or kosoku may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Behaviours that fail the gate: every one but OK and INFORMATIONAL (the cases where
/// the RFC leaves the choice open). NON-STRICT is a pass to Autobahn, but the project's
/// target is none; ERROR is a case that raised an exception inside kosoku.
const FAILING: [&str; 4] = ["NON-STRICT", "FAILED", "UNIMPLEMENTED", "ERROR"];

/// Every behaviour kosoku reports, in table order.
const BEHAVIORS: [&str; 6] = [
    "OK",
    "NON-STRICT",
    "INFORMATIONAL",
    "UNIMPLEMENTED",
    "FAILED",
    "ERROR",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

/// One program under test.
struct Testee {
    /// The name in the report and the report directory.
    name: &'static str,
    package: &'static str,
    example: &'static str,
    side: Side,
}

const TESTEES: [Testee; 3] = [
    Testee {
        name: "tokio-server",
        package: "ws-tokio",
        example: "autobahn_server",
        side: Side::Server,
    },
    Testee {
        name: "std-server",
        package: "ws-std",
        example: "autobahn_server",
        side: Side::Server,
    },
    Testee {
        name: "tokio-client",
        package: "ws-tokio",
        example: "autobahn_client",
        side: Side::Client,
    },
];

const USAGE: &str = "usage: cargo xtask autobahn [--role server|client] [--cases 'N.*']";

pub(crate) fn run(args: &[String]) -> Result {
    let mut side = None;
    let mut cases = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(String::as_str)) {
            ("--role", Some("server")) => side = Some(Side::Server),
            ("--role", Some("client")) => side = Some(Side::Client),
            ("--cases", Some(pattern)) => cases = Some(pattern.to_owned()),
            _ => return Err(USAGE.into()),
        }
    }

    let python = python_venv(&[("kosoku", "kosoku")])?;
    let kosoku = python.with_file_name(if cfg!(windows) {
        "kosoku.exe"
    } else {
        "kosoku"
    });

    let mut problems = Vec::new();
    let mut results = Vec::new();
    for testee in TESTEES.iter().filter(|t| side.is_none_or(|s| s == t.side)) {
        let source = crate::project_root()
            .join("crates")
            .join(testee.package)
            .join("examples")
            .join(format!("{}.rs", testee.example));
        if !source.exists() {
            problems.push(format!(
                "{}: testee missing ({} does not exist): not tested",
                testee.name,
                source.display()
            ));
            continue;
        }
        let mut build = cargo();
        build.args(["build", "--release", "-p", testee.package, "--example"]);
        build.arg(testee.example);
        run_step(build)?;

        let out = target_dir().join("autobahn").join(testee.name);
        if out.exists() {
            std::fs::remove_dir_all(&out)
                .map_err(|e| format!("cannot empty {}: {e}", out.display()))?;
        }
        let reports = match testee.side {
            Side::Server => run_server(testee, &kosoku, &out, cases.as_deref(), &mut problems)?,
            Side::Client => run_client(testee, &kosoku, &out, cases.as_deref(), &mut problems)?,
        };
        let mut behaviors = Vec::new();
        for index in reports {
            behaviors.extend(read_index(&python, &index)?);
        }
        results.push((testee.name, behaviors));
    }

    for (name, behaviors) in &results {
        report(name, behaviors, cases.is_none(), &mut problems);
    }
    if problems.is_empty() {
        eprintln!("autobahn: all roles pass");
        Ok(())
    } else {
        Err(format!("autobahn failed:\n  {}", problems.join("\n  ")))
    }
}

/// Runs the server testee, then kosoku's fuzzing client against it once per case group
/// (or once for `cases`); returns the `index.json` files written.
fn run_server(
    testee: &Testee,
    kosoku: &Path,
    out: &Path,
    cases: Option<&str>,
    problems: &mut Vec<String>,
) -> Result<Vec<PathBuf>> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let mut server = cargo();
    server
        .args(["run", "--quiet", "--release", "-p", testee.package])
        .args(["--example", testee.example, "--", &addr]);
    let _server = server::start(server, &format!("{} testee", testee.name))?;

    let patterns: Vec<String> = match cases {
        Some(pattern) => vec![pattern.to_owned()],
        None => GROUPS.iter().map(|group| format!("{group}.*")).collect(),
    };
    let mut reports = Vec::new();
    for pattern in patterns {
        let dir = out.join(format!("group-{}", pattern.trim_end_matches(".*")));
        let mut run = bounded(GROUP_TIMEOUT, kosoku);
        run.args(["-m", "fuzzingclient", "-p", "2", "-o"])
            .arg(&dir)
            .args(["-i", &pattern, &addr])
            .stdout(Stdio::null());
        let started = Instant::now();
        eprintln!("$ {}", describe(&run));
        let status = run
            .status()
            .map_err(|e| format!("cannot start kosoku: {e}"))?;
        // kosoku exits with 1 whenever a case is not OK; only the report says which.
        let label = format!("{} {pattern}", testee.name);
        note_run(&label, started, status, GROUP_TIMEOUT, problems);
        reports.push(dir.join("index.json"));
    }
    Ok(reports)
}

/// Runs kosoku's fuzzing server and the client testee against it; returns the
/// `index.json` written.
fn run_client(
    testee: &Testee,
    kosoku: &Path,
    out: &Path,
    cases: Option<&str>,
    problems: &mut Vec<String>,
) -> Result<Vec<PathBuf>> {
    let port = free_port()?;
    let mut server = bounded(CLIENT_TIMEOUT, kosoku);
    server.args(["-m", "fuzzingserver", "-o"]).arg(out);
    if let Some(pattern) = cases {
        server.args(["-i", pattern]);
    }
    server
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null());
    eprintln!("$ {}", describe(&server));
    let mut server = Guard(
        server
            .spawn()
            .map_err(|e| format!("cannot start kosoku: {e}"))?,
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > START_TIMEOUT {
            return Err("kosoku's fuzzing server did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut client = bounded(CLIENT_TIMEOUT, Path::new(cargo().get_program()));
    client
        .current_dir(crate::project_root())
        .args(["run", "--quiet", "--release", "-p", testee.package])
        .args(["--example", testee.example, "--"])
        .arg(format!("ws://127.0.0.1:{port}"))
        .arg(testee.package);
    eprintln!("$ {}", describe(&client));
    let status = client
        .status()
        .map_err(|e| format!("cannot start the {} testee: {e}", testee.name))?;
    if !status.success() {
        problems.push(format!(
            "{}: the client testee exited with {status}",
            testee.name
        ));
    }
    // After updateReports kosoku writes the report and exits by itself.
    let status = server
        .0
        .wait()
        .map_err(|e| format!("waiting for kosoku: {e}"))?;
    note_run(testee.name, started, status, CLIENT_TIMEOUT, problems);
    Ok(vec![out.join("index.json")])
}

/// Prints how long a bounded run took, and records it as a problem if it was killed.
fn note_run(
    label: &str,
    started: Instant,
    status: ExitStatus,
    limit: Duration,
    problems: &mut Vec<String>,
) {
    eprintln!(
        "autobahn: {label}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if timed_out(status) {
        problems.push(format!(
            "{label}: timed out after {} s (no report)",
            limit.as_secs()
        ));
    }
}

/// `program` under coreutils `timeout`, killed (and its report lost) past `limit`.
fn bounded(limit: Duration, program: &Path) -> Command {
    let mut command = Command::new("timeout");
    command
        .args(["--kill-after=10", &format!("{}s", limit.as_secs())])
        .arg(program);
    command
}

/// `timeout`'s exit status when it had to stop the program.
fn timed_out(status: ExitStatus) -> bool {
    matches!(status.code(), Some(124 | 137))
}

/// `(case id, behavior)` for every case in a kosoku `index.json`; none if it is missing
/// (a run that timed out, already reported).
fn read_index(python: &Path, index: &Path) -> Result<Vec<(String, String)>> {
    if !index.exists() {
        return Ok(Vec::new());
    }
    const SUMMARY: &str = "import json, sys\n\
        for cases in json.load(open(sys.argv[1])).values():\n\
        \x20   for case, result in cases.items():\n\
        \x20       print(case, result['behavior'])";
    let output = Command::new(python)
        .args(["-c", SUMMARY])
        .arg(index)
        .output()
        .map_err(|e| format!("cannot run python: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cannot read {}: {}",
            index.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(case, behavior)| (case.to_owned(), behavior.to_owned()))
        .collect())
}

/// Prints one role's table and the cases that are not OK; records what fails the gate.
fn report(name: &str, behaviors: &[(String, String)], full: bool, problems: &mut Vec<String>) {
    let mut cases: Vec<&(String, String)> = behaviors.iter().collect();
    cases.sort_by_key(|(case, _)| case_key(case));
    println!("\n{name}: {} cases", cases.len());
    for behavior in BEHAVIORS {
        let ids: Vec<&str> = cases
            .iter()
            .filter(|(_, b)| b == behavior)
            .map(|(case, _)| case.as_str())
            .collect();
        print!("  {behavior:<14} {:>4}", ids.len());
        if behavior != "OK" && !ids.is_empty() {
            print!("  {}", ids.join(" "));
        }
        println!();
        if FAILING.contains(&behavior) && !ids.is_empty() {
            problems.push(format!("{name}: {} {behavior}", ids.len()));
        }
    }
    let unknown = cases
        .iter()
        .filter(|(_, b)| !BEHAVIORS.contains(&b.as_str()))
        .count();
    if unknown > 0 {
        problems.push(format!("{name}: {unknown} cases with an unknown behavior"));
    }
    if full && cases.len() != TOTAL_CASES {
        problems.push(format!(
            "{name}: {} cases reported, expected {TOTAL_CASES}",
            cases.len()
        ));
    }
}

/// Sorts case ids numerically, `9.10.1` after `9.2.1`.
fn case_key(case: &str) -> Vec<u32> {
    case.split('.').map(|n| n.parse().unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(case, behavior)| ((*case).to_owned(), (*behavior).to_owned()))
            .collect()
    }

    #[test]
    fn ok_and_informational_pass_the_gate() {
        let mut problems = Vec::new();
        let cases = outcomes(&[("1.1.1", "OK"), ("7.1.6", "INFORMATIONAL")]);
        report("role", &cases, false, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn every_other_behaviour_fails_it() {
        for behavior in ["NON-STRICT", "FAILED", "UNIMPLEMENTED", "ERROR", "SURPRISE"] {
            let mut problems = Vec::new();
            let cases = outcomes(&[("1.1.1", "OK"), ("6.4.3", behavior)]);
            report("role", &cases, false, &mut problems);
            assert_eq!(problems.len(), 1, "{behavior}: {problems:?}");
        }
    }

    #[test]
    fn a_full_run_must_report_every_case() {
        let mut problems = Vec::new();
        report("role", &outcomes(&[("1.1.1", "OK")]), true, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn case_ids_sort_numerically() {
        let mut ids = ["9.10.1", "9.2.1", "10.1.1", "1.1.10", "1.1.2"];
        ids.sort_by_key(|id| case_key(id));
        assert_eq!(ids, ["1.1.2", "1.1.10", "9.2.1", "9.10.1", "10.1.1"]);
    }
}
