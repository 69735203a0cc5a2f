//! `ws bench` against `ws serve`: the JSON other scripts parse, and `--idle`.

use serde_json::Value;

use crate::support::{Server, run};

const KEYS: [&str; 11] = [
    "connections",
    "size",
    "depth",
    "messages",
    "seconds",
    "msgs_per_sec",
    "mb_per_sec",
    "p50_us",
    "p99_us",
    "p999_us",
    "errors",
];

/// Runs `ws bench URL args --json`; the parsed line, checked to be the only output.
fn bench_json(url: &str, args: &[&str]) -> Value {
    let mut all = vec!["bench", url, "--json"];
    all.extend_from_slice(args);
    let finished = run(&all, "");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout.lines().count(), 1, "{finished:?}");
    serde_json::from_str(&finished.stdout).unwrap()
}

fn number(report: &Value, key: &str) -> f64 {
    report[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {report}"))
}

#[test]
fn count_mode_json() {
    let server = Server::start(&["--quiet"]);
    let report = bench_json(
        &server.url("ws"),
        &[
            "--count",
            "500",
            "--depth",
            "8",
            "--connections",
            "3",
            "--size",
            "100",
        ],
    );
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = KEYS.to_vec();
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(report["connections"], 3);
    assert_eq!(report["size"], 100);
    assert_eq!(report["depth"], 8);
    assert_eq!(report["messages"], 1500);
    assert_eq!(report["errors"], 0);
    let seconds = number(&report, "seconds");
    assert!(seconds > 0.0);
    let rate = number(&report, "msgs_per_sec");
    assert!((rate * seconds - 1500.0).abs() < 1.0, "{report}");
    assert!((number(&report, "mb_per_sec") - rate * 100.0 / 1e6).abs() < 1e-6);
    let (p50, p99, p999) = (
        number(&report, "p50_us"),
        number(&report, "p99_us"),
        number(&report, "p999_us"),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= p999, "{report}");
}

#[test]
fn compressed_text_and_duration() {
    let server = Server::start(&[]);
    let report = bench_json(
        &server.url("ws"),
        &[
            "--text",
            "--compression",
            "--size",
            "1K",
            "--duration",
            "0.3",
            "--depth",
            "4",
        ],
    );
    assert!(number(&report, "messages") > 0.0, "{report}");
    assert_eq!(report["errors"], 0);
    // The run ends when the last echo is in: about the duration, plus the drain.
    assert!(number(&report, "seconds") >= 0.3, "{report}");
    server.wait_log("compression=permessage-deflate");
}

#[test]
fn plain_report() {
    let server = Server::start(&["--quiet"]);
    let finished = run(&["bench", &server.url("ws"), "--count", "10"], "");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert!(finished.stdout.contains("10 echoes"), "{finished:?}");
    assert!(finished.stdout.contains("msgs/s"), "{finished:?}");
    assert!(finished.stdout.contains("p99.9"), "{finished:?}");
}

#[test]
fn idle_connections_from_several_source_addresses() {
    let server = Server::start(&[]);
    let finished = run(
        &[
            "bench",
            &server.url("ws"),
            "--idle",
            "--connections",
            "20",
            "--duration",
            "0.5",
            "--source-ips",
            "127.0.0.1,127.0.0.2",
            "--json",
        ],
        "",
    );
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "{\"connections\":20,\"open\":20}\n");
    server.wait_log("127.0.0.2:");
    let log = server.log();
    let opened = |ip: &str| {
        log.lines()
            .filter(|l| l.starts_with(ip) && l.contains(" open "))
            .count()
    };
    assert_eq!(
        (opened("127.0.0.1:"), opened("127.0.0.2:")),
        (10, 10),
        "{log}"
    );
}

#[test]
fn http2_streams_share_connections() {
    let server = Server::start(&[]);
    let report = bench_json(
        &server.url("ws"),
        &[
            "--http2",
            "--streams",
            "2",
            "--connections",
            "5",
            "--count",
            "200",
            "--depth",
            "4",
        ],
    );
    assert_eq!(report["messages"], 1000, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    // Five WebSockets, two to an HTTP/2 connection: three connections, from three ports.
    server.wait_log_count(" (HTTP/2 stream) ", 5);
    let log = server.log();
    let mut peers: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" open ") && line.contains("(HTTP/2 stream)"))
        .filter_map(|line| line.split(' ').next())
        .collect();
    peers.sort_unstable();
    let streams: Vec<usize> = peers.chunk_by(|a, b| a == b).map(<[&str]>::len).collect();
    assert_eq!(streams.iter().sum::<usize>(), 5, "{log}");
    assert_eq!(streams.len(), 3, "{log}");
    assert!(streams.iter().all(|&count| count <= 2), "{log}");
}
