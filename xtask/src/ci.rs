//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use crate::{Result, cargo, fuzz, run_step};

/// Seconds each fuzz target runs in CI: enough to catch a regression on the corpus
/// libFuzzer rebuilds from scratch, short enough to keep CI quick.
const FUZZ_SMOKE_SECONDS: u64 = 15;

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

    fuzz::smoke(None, FUZZ_SMOKE_SECONDS)
}
