//! What the end-to-end benchmark relies on: every echo server echoes text and binary
//! messages, pipelined ones included, and `tcp-bench` measures the TCP echo.

use std::{process::Command, time::Duration};

use ws_tokio::{CloseCode, Message};

mod support;
use support::start;

const WEBSOCKET_SERVERS: [&str; 3] = [
    env!("CARGO_BIN_EXE_echo-ws-tokio"),
    env!("CARGO_BIN_EXE_echo-tokio-tungstenite"),
    env!("CARGO_BIN_EXE_echo-fastwebsockets"),
];

const TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn websocket_servers_echo() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for bin in WEBSOCKET_SERVERS {
        let (_server, addr) = start(bin);
        let echo = async {
            let (mut ws, _) = ws_tokio::connect(&format!("ws://{addr}/")).await?;
            let messages = [Message::text("hello"), Message::binary(vec![7u8; 70_000])];
            for message in messages {
                ws.send(message.clone()).await?;
                assert_eq!(ws.recv().await.unwrap()?, message, "{bin}");
            }
            // 64 in flight, sent in one write: every echo must come back, in order (the
            // README's server only queues replies, so this checks that they leave).
            for i in 0..64u8 {
                ws.feed(Message::binary(vec![i; 16])).await?;
            }
            ws.flush().await?;
            for i in 0..64u8 {
                assert_eq!(
                    ws.recv().await.unwrap()?,
                    Message::binary(vec![i; 16]),
                    "{bin}"
                );
            }
            ws.close(CloseCode::NORMAL, "").await
        };
        runtime
            .block_on(async { tokio::time::timeout(TIMEOUT, echo).await })
            .unwrap_or_else(|_| panic!("{bin}: no echo within {TIMEOUT:?}"))
            .unwrap_or_else(|error| panic!("{bin}: {error}"));
    }
}

#[test]
fn tcp_bench_measures_the_tcp_echo() {
    let (_server, addr) = start(env!("CARGO_BIN_EXE_echo-tcp"));
    let output = Command::new(env!("CARGO_BIN_EXE_tcp-bench"))
        .args([
            &addr,
            "--connections",
            "2",
            "--size",
            "1000",
            "--depth",
            "4",
        ])
        .args(["--duration", "1", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let number = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {report}"))
    };
    assert_eq!(number("connections"), 2.0);
    assert_eq!(number("errors"), 0.0);
    assert!(number("messages") > 0.0, "{report}");
    assert!(number("msgs_per_sec") > 0.0, "{report}");
    assert!(
        number("p50_us") > 0.0 && number("p50_us") <= number("p99_us"),
        "{report}"
    );
}

#[test]
fn tcp_bench_says_when_it_cannot_connect() {
    // A port nobody listens on: bound, then released.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tcp-bench"))
        .args([&addr.to_string(), "--duration", "1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}
