//! Both commands against Python `websockets` with permessage-deflate. Ignored in normal
//! runs: `cargo xtask interop` installs websockets in a venv and runs the ignored tests
//! with `WS_INTEROP_PYTHON` pointing at its interpreter.

use std::process::Command;

use crate::support::{Server, Spawned, run};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/peer.py");

fn python() -> String {
    std::env::var("WS_INTEROP_PYTHON")
        .expect("WS_INTEROP_PYTHON: the Python with websockets (cargo xtask interop sets it)")
}

#[test]
#[ignore = "needs Python websockets: cargo xtask interop"]
fn ws_connect_to_a_python_server() {
    let mut command = Command::new(python());
    command.args([SCRIPT, "server"]);
    let server = Spawned::start(command);
    let port = server.next_line();
    let url = format!("ws://127.0.0.1:{port}/");
    let long = "{\"id\":1,\"text\":\"compressible\"},".repeat(5_000);
    let input = format!("hello\n{long}\nworld\n");
    let finished = run(&["connect", &url], &input);
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, input);
    assert!(
        finished.stderr.contains("extensions: permessage-deflate"),
        "{}",
        finished.stderr
    );
}

#[test]
#[ignore = "needs Python websockets: cargo xtask interop"]
fn python_client_to_ws_serve() {
    let server = Server::start(&[]);
    let mut command = Command::new(python());
    command.args([SCRIPT, "client", &server.url("ws")]);
    let finished = Spawned::start(command).wait();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert!(
        finished.stdout.starts_with("ok permessage-deflate"),
        "{finished:?}"
    );
    server.wait_log("compression=permessage-deflate");
    server.wait_log("closed 1000");
}
