//! `cargo xtask bench`: run the criterion benches and print one summary table;
//! `cargo xtask bench e2e`: the end-to-end echo benchmark (see [`end_to_end`]).
//!
//! Groups: `mask`, `decode`, `broadcast` (one message to many connections, each encoding
//! it or one prepared encoding shared).
//!
//! Everything runs in the `bench` profile (fat LTO, one codegen unit); the decode benchmark
//! runs a second time in `bench-no-lto`, as a default release build compiles it, because
//! cross-crate inlining changes both our figure and tungstenite's.
//!
//! Criterion leaves each result in `<criterion home>/<group>/<function>/<parameter>/new/
//! estimates.json`; the table reads the median time per iteration from there. It shows the
//! latest result of each benchmark: with a filter, the ones not selected keep their earlier
//! figures (a benchmark that never ran prints as `-`).

use std::{fmt::Write as _, fs, path::PathBuf, process::Command};

use crate::{Result, cargo, run_step, target_dir};

/// Buffer sizes of the `mask` group, in bytes.
const MASK_SIZES: [u64; 8] = [16, 125, 256, 512, 1024, 16 * 1024, 64 * 1024, 1024 * 1024];
/// Implementations in the `mask` group, in table order.
const MASK_FUNCTIONS: [&str; 8] = [
    "apply_mask",
    "avx512",
    "avx2",
    "sse2",
    "portable",
    "byte_loop",
    "fastwebsockets",
    "copy_from_slice",
];
/// Frames per iteration in the `decode` group.
const DECODE_FRAMES: u64 = 10_000;
const DECODE_FUNCTIONS: [&str; 4] = [
    "ws_frame",
    "tungstenite",
    "fastwebsockets",
    "bytes_split_floor",
];

/// Connections per iteration in the `broadcast` group.
const BROADCAST_CONNECTIONS: u64 = 100;

/// Criterion's output directory for the `bench` profile.
const LTO_HOME: &str = "criterion";
/// Criterion's output directory for the `bench-no-lto` profile.
const NO_LTO_HOME: &str = "criterion-no-lto";

pub(crate) fn run(args: &[String]) -> Result {
    if let Some(("e2e", rest)) = args
        .split_first()
        .map(|(first, rest)| (first.as_str(), rest))
    {
        return end_to_end(rest);
    }
    let mut bench = cargo();
    bench
        .args(["bench", "--package", "ws-benches", "--"])
        .args(args)
        .env("CRITERION_HOME", criterion_dir(LTO_HOME));
    run_step(bench)?;
    let mut no_lto = cargo();
    no_lto
        .args([
            "bench",
            "--package",
            "ws-benches",
            "--profile",
            "bench-no-lto",
        ])
        .args(["--bench", "decode", "--"])
        .args(args)
        .env("CRITERION_HOME", criterion_dir(NO_LTO_HOME));
    run_step(no_lto)?;
    print!("{}", report());
    Ok(())
}

/// Builds the echo servers, `tcp-bench` and the `e2e` orchestrator (`ws-benches`) and the
/// `ws` load generator (`ws-cli`) in release, as users ship them, then runs `e2e` with the
/// path of `ws`, the report going to `<target>/e2e-report.md`. `args` go to `e2e`
/// (`--rounds`, `--seconds`, `--scenario`, ...; `--help` lists them).
fn end_to_end(args: &[String]) -> Result {
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--package",
        "ws-benches",
        "--package",
        "ws-cli",
        "--bins",
    ]);
    run_step(build)?;
    let release = target_dir().join("release");
    let mut e2e = Command::new(release.join("e2e"));
    e2e.arg("--ws")
        .arg(release.join("ws"))
        .arg("--out")
        .arg(target_dir().join("e2e-report.md"))
        .args(args);
    run_step(e2e)
}

fn criterion_dir(home: &str) -> PathBuf {
    target_dir().join(home)
}

/// Median nanoseconds per iteration of one benchmark, if it has run.
fn median_ns(
    home: &str,
    group: &str,
    function: &str,
    parameter: impl std::fmt::Display,
) -> Option<f64> {
    let path = criterion_dir(home)
        .join(group)
        .join(function)
        .join(parameter.to_string())
        .join("new/estimates.json");
    let json = fs::read_to_string(path).ok()?;
    // The file is criterion's own small, fixed-shape JSON: take the number after
    // `"median":{…"point_estimate":` rather than pulling in a JSON parser.
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}x", n / d),
        _ => "-".into(),
    }
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

fn report() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## Masking throughput (GB/s, median)\n");
    let mask_columns = [
        &["size"][..],
        &MASK_FUNCTIONS,
        &["vs memcpy", "vs fastwebsockets", "vs byte loop"],
    ];
    table_head(&mut out, &mask_columns.concat());
    for size in MASK_SIZES {
        // Bytes per nanosecond is GB/s.
        let rate =
            |function| median_ns(LTO_HOME, "mask", function, size).map(|ns| size as f64 / ns);
        let rates: Vec<String> = MASK_FUNCTIONS.iter().map(|f| number(rate(f), 2)).collect();
        let best = rate("apply_mask");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            size_label(size),
            rates.join(" | "),
            ratio(best, rate("copy_from_slice")),
            ratio(best, rate("fastwebsockets")),
            ratio(best, rate("byte_loop")),
        );
    }

    let _ = writeln!(
        out,
        "\n## Decoding {DECODE_FRAMES} masked 16-byte frames (M frames/s, median)\n"
    );
    let decode_columns = [
        &["build"][..],
        &DECODE_FUNCTIONS,
        &["ws_frame vs tungstenite", "ws_frame vs fastwebsockets"],
    ];
    table_head(&mut out, &decode_columns.concat());
    for (build, home) in [("fat LTO", LTO_HOME), ("no LTO", NO_LTO_HOME)] {
        // Frames per nanosecond times 1000 is millions of frames per second.
        let rate = |function| {
            median_ns(home, "decode", function, DECODE_FRAMES)
                .map(|ns| DECODE_FRAMES as f64 * 1e3 / ns)
        };
        let rates: Vec<String> = DECODE_FUNCTIONS
            .iter()
            .map(|f| number(rate(f), 1))
            .collect();
        let _ = writeln!(
            out,
            "| {build} | {} | {} | {} |",
            rates.join(" | "),
            ratio(rate("ws_frame"), rate("tungstenite")),
            ratio(rate("ws_frame"), rate("fastwebsockets")),
        );
    }

    let _ = writeln!(
        out,
        "\n## One ~1 KiB text message to {BROADCAST_CONNECTIONS} server connections (µs per \
         broadcast, median)\n"
    );
    table_head(
        &mut out,
        &[
            "extensions",
            "per_connection",
            "prepared",
            "prepared speed-up",
        ],
    );
    for extensions in ["deflate", "plain"] {
        let micros =
            |function| median_ns(LTO_HOME, "broadcast", function, extensions).map(|ns| ns / 1e3);
        let _ = writeln!(
            out,
            "| {extensions} | {} | {} | {} |",
            number(micros("per_connection"), 1),
            number(micros("prepared"), 1),
            ratio(micros("per_connection"), micros("prepared")),
        );
    }
    out
}

/// A markdown table's header row and separator.
fn table_head(out: &mut String, columns: &[&str]) {
    let _ = writeln!(out, "| {} |", columns.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(columns.len()));
}

fn size_label(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}
