//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use crate::{Result, cargo, run_step};

pub(crate) fn run() -> Result {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run_step(fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run_step(clippy)?;

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    run_step(test)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run_step(doc)?;

    Ok(())
}
