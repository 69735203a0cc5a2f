//! `ConnectOptions::proxy_from_env`, in a test binary of its own: the test sets the
//! process's environment, which must not change while other threads may read it.

mod support;

use std::net::TcpListener;

use ws_std::{ConnectOptions, Message};

use support::echo_server;
use ws_test_proxies::http_connect_on;

/// `user:pass` in Basic credentials (RFC 7617).
const AUTH: &str = "Basic dXNlcjpwYXNz";

#[test]
fn the_environment_names_the_proxy_and_loopback_stays_direct() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    // SAFETY: this is the binary's only test and no thread of its own runs yet, so
    // nothing reads the environment while it changes. Lowercase names take precedence
    // over whatever uppercase ones the machine sets.
    unsafe {
        std::env::set_var("http_proxy", format!("user:pass@{proxy}"));
        std::env::set_var("no_proxy", "");
    }
    let server = echo_server();
    let (_, targets) = http_connect_on(listener, AUTH, Some(server));

    // A name that resolves nowhere: only the proxy can reach it (it tunnels to `server`).
    let url = format!("ws://echo.example:{}/chat", server.port());
    let mut ws = ConnectOptions::new(&url)
        .unwrap()
        .proxy_from_env()
        .connect()
        .unwrap();
    assert_eq!(targets.next(), format!("echo.example:{}", server.port()));
    ws.send(Message::text("via the environment's proxy"))
        .unwrap();
    let echo = ws.recv().unwrap();
    assert_eq!(echo, Some(Message::text("via the environment's proxy")));

    // Loopback is reached directly: the proxy sees no second CONNECT.
    let mut ws = ConnectOptions::new(&format!("ws://{server}/"))
        .unwrap()
        .proxy_from_env()
        .connect()
        .unwrap();
    ws.send(Message::text("direct")).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::text("direct")));
    assert!(targets.so_far().is_empty());
}
