//! Project automation, run as `cargo xtask <command>`.
//!
//! Dependency-free on purpose: it has to build on a fresh machine before anything else.

mod autobahn;
mod bench;
mod browser;
mod ci;
mod fuzz;
mod interop;
mod python;
mod server;
mod system;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci               the whole test suite: fmt, clippy, tests, docs, interop, autobahn,
                   fuzz smoke run
  bench [FILTER]   criterion benchmarks, then one table of GB/s and ratios
  bench e2e [OPTIONS]
                   end-to-end echo servers (ours, tokio-tungstenite, fastwebsockets, TCP)
                   driven by `ws bench`: msgs/s, latency, CPU and idle memory, with
                   ratios, into target/e2e-report.md (`bench e2e --help`; not in ci)
  fuzz [TARGET] [SECONDS]
                   run a fuzz target (default: all, 60 s each) with cargo-fuzz
  interop          permessage-deflate against Python websockets (venv in the target dir)
  browser          headless Chromium's WebSocket client against `ws serve`
                   (installs Debian's chromium if missing)
  autobahn [--role server|client] [--cases 'N.*']
                   the Autobahn TestSuite (kosoku) against the adapters' testees
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("interop") => interop::run(),
        Some("browser") => browser::run(),
        Some("autobahn") => autobahn::run(&args[1..]),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The failure of one step, as a message for the user.
type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits one level below the root")
        .to_path_buf()
}

/// Where cargo builds: `CARGO_TARGET_DIR` if set, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}

/// `cargo` as invoked by the user (respects `CARGO` set by cargo itself).
fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Runs `command`, echoing it first; fails if it fails.
fn run_step(mut command: Command) -> Result {
    eprintln!("$ {}", describe(&command));
    let status = command
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(&command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(&command)))
    }
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
