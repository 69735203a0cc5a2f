//! Both commands against other implementations with permessage-deflate: Python
//! `websockets` and Node's `ws`. Ignored in normal runs: `cargo xtask interop` installs
//! them (a venv; an npm prefix) and runs the ignored tests with `WS_INTEROP_PYTHON`, and
//! `WS_INTEROP_NODE` with `NODE_PATH`, saying where they are.

use std::process::Command;

use crate::support::{Server, Spawned, run};

/// Another implementation, run as `PROGRAM SCRIPT server` or `PROGRAM SCRIPT client URL`
/// (both scripts in `tests/interop`).
struct Peer {
    program: String,
    script: &'static str,
}

impl Peer {
    fn python() -> Peer {
        Peer {
            program: std::env::var("WS_INTEROP_PYTHON").expect(
                "WS_INTEROP_PYTHON: the Python with websockets (cargo xtask interop sets it)",
            ),
            script: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/peer.py"),
        }
    }

    /// `ws` itself is found through `NODE_PATH`, which the child inherits.
    fn node() -> Peer {
        Peer {
            program: std::env::var("WS_INTEROP_NODE")
                .expect("WS_INTEROP_NODE: node, with ws on NODE_PATH (cargo xtask interop)"),
            script: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/peer.cjs"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command.arg(self.script).args(args);
        command
    }

    /// `ws connect` to this peer's echo server: short, long compressible and final lines
    /// come back intact, permessage-deflate negotiated.
    fn serves_ws_connect(&self) {
        let server = Spawned::start(self.command(&["server"]));
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

    /// This peer's client against `ws serve`: its messages echoed, deflate negotiated, a
    /// clean close.
    fn connects_to_ws_serve(&self) {
        let server = Server::start(&[]);
        let finished = Spawned::start(self.command(&["client", &server.url("ws")])).wait();
        assert_eq!(finished.code(), Some(0), "{finished:?}");
        assert!(
            finished.stdout.starts_with("ok permessage-deflate"),
            "{finished:?}"
        );
        server.wait_log("compression=permessage-deflate");
        server.wait_log("closed 1000");
    }
}

#[test]
#[ignore = "needs Python websockets: cargo xtask interop"]
fn ws_connect_to_a_python_server() {
    Peer::python().serves_ws_connect();
}

#[test]
#[ignore = "needs Python websockets: cargo xtask interop"]
fn python_client_to_ws_serve() {
    Peer::python().connects_to_ws_serve();
}

#[test]
#[ignore = "needs Node and its ws package: cargo xtask interop"]
fn ws_connect_to_a_node_server() {
    Peer::node().serves_ws_connect();
}

#[test]
#[ignore = "needs Node and its ws package: cargo xtask interop"]
fn node_client_to_ws_serve() {
    Peer::node().connects_to_ws_serve();
}
