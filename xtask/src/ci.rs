//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use std::process::Command;

use crate::{Result, autobahn, browser, cargo, fuzz, interop, run_step, target_dir};

/// Seconds each fuzz target runs in CI: enough to catch a regression on the corpus
/// libFuzzer rebuilds from scratch, short enough to keep CI quick.
const FUZZ_SMOKE_SECONDS: u64 = 15;

pub(crate) fn run() -> Result {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run_step(fmt)?;
    // The fuzz crate is a workspace of its own (sanitizer flags), which `--all` skips.
    let mut fmt_fuzz = cargo();
    fmt_fuzz.args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]);
    run_step(fmt_fuzz)?;

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

    optional_features()?;

    interop::run()?;

    browser::run()?;

    autobahn::run(&[])?;

    simd_variants()?;

    fuzz::smoke(None, FUZZ_SMOKE_SECONDS)
}

/// Crates whose optional features the workspace-wide steps (default features) never
/// compile: ws-tokio's `rustls` and `native-roots` (wss://, server TLS, the platform's
/// roots) and ws-std's `rustls` (wss:// over rustls' blocking stream), each tested with an
/// rcgen certificate.
const CRATES_WITH_FEATURES: [&str; 2] = ["ws-tokio", "ws-std"];

/// Lints, tests and documents each crate of `CRATES_WITH_FEATURES` with all its features.
fn optional_features() -> Result {
    for krate in CRATES_WITH_FEATURES {
        let mut clippy = cargo();
        clippy
            .args([
                "clippy",
                "--package",
                krate,
                "--all-targets",
                "--all-features",
            ])
            .args(["--", "-D", "warnings"]);
        run_step(clippy)?;
        let mut test = cargo();
        test.args(["test", "--package", krate, "--all-features"]);
        run_step(test)?;
        let mut doc = cargo();
        doc.args(["doc", "--package", krate, "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings");
        run_step(doc)?;
    }
    Ok(())
}

/// The masking code paths the main test run does not build: ws-frame without `std` (its
/// `no_std` build, where the build target decides the SIMD backend), the portable fallback
/// alone (`--cfg ws_frame_disable_simd`), and NEON, which is compiled and linted for
/// aarch64 when that target's standard library is installed.
fn simd_variants() -> Result {
    let mut no_std = cargo();
    no_std.args(["test", "--package", "ws-frame", "--no-default-features"]);
    run_step(no_std)?;

    let mut portable = cargo();
    portable
        .args(["test", "--package", "ws-frame"])
        .env("RUSTFLAGS", "--cfg ws_frame_disable_simd")
        .env("CARGO_TARGET_DIR", target_dir().join("no-simd"));
    run_step(portable)?;

    const AARCH64: &str = "aarch64-unknown-linux-gnu";
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(AARCH64));
    if !installed {
        eprintln!("xtask: {AARCH64} not installed; NEON masking not checked");
        return Ok(());
    }
    let mut neon = cargo();
    neon.args([
        "clippy",
        "--package",
        "ws-frame",
        "--all-targets",
        "--target",
        AARCH64,
    ])
    .args(["--", "-D", "warnings"]);
    run_step(neon)
}
