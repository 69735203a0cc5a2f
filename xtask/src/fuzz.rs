//! `cargo xtask fuzz [TARGET] [SECONDS]`: run cargo-fuzz targets for a while each.
//!
//! Installs cargo-fuzz if it is missing. libFuzzer needs nightly-only compiler flags;
//! `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them.

use std::process::Command;

use crate::{Result, cargo, project_root, run_step};

const DEFAULT_SECONDS: u64 = 60;

pub(crate) fn run(args: &[String]) -> Result {
    let (target, seconds) = match args {
        [] => (None, DEFAULT_SECONDS),
        [one] => match one.parse() {
            Ok(seconds) => (None, seconds),
            Err(_) => (Some(one.as_str()), DEFAULT_SECONDS),
        },
        [target, seconds] => (
            Some(target.as_str()),
            seconds
                .parse()
                .map_err(|_| format!("not a number of seconds: {seconds}"))?,
        ),
        _ => return Err("usage: cargo xtask fuzz [TARGET] [SECONDS]".into()),
    };
    smoke(target, seconds)
}

/// Runs `target` (or every target) for `seconds` each; fails on the first crash.
pub(crate) fn smoke(target: Option<&str>, seconds: u64) -> Result {
    ensure_cargo_fuzz()?;
    let targets = match target {
        Some(target) => vec![target.to_owned()],
        None => list_targets()?,
    };
    for target in targets {
        let mut fuzz = fuzz_command();
        fuzz.args(["run", &target, "--"])
            .arg(format!("-max_total_time={seconds}"));
        run_step(fuzz)?;
    }
    Ok(())
}

fn fuzz_command() -> Command {
    let mut command = cargo();
    command
        .arg("fuzz")
        .current_dir(project_root().join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1");
    command
}

fn list_targets() -> Result<Vec<String>> {
    let output = fuzz_command()
        .arg("list")
        .output()
        .map_err(|e| format!("cannot run cargo fuzz list: {e}"))?;
    if !output.status.success() {
        return Err("cargo fuzz list failed".into());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

fn ensure_cargo_fuzz() -> Result {
    let installed = cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if installed {
        return Ok(());
    }
    let mut install = cargo();
    install.args(["install", "cargo-fuzz", "--locked"]);
    run_step(install)
}
