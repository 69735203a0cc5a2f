//! `ConnectOptions::proxy_from_env`, in a test binary of its own: the test sets the
//! process's environment, which must not change while other threads may read it.

mod support;

use tokio::time::timeout;
use ws_tokio::{ConnectOptions, Message};

use support::{LIMIT, echo_server};
use ws_test_proxies::http_connect_on;

/// `user:pass` in Basic credentials (RFC 7617).
const AUTH: &str = "Basic dXNlcjpwYXNz";

#[test]
fn the_environment_names_the_proxy_and_loopback_stays_direct() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    // SAFETY: this is the binary's only test and no thread of its own runs yet (the
    // runtime starts below), so nothing reads the environment while it changes.
    // Lowercase names take precedence over whatever uppercase ones the machine sets.
    unsafe {
        std::env::set_var("http_proxy", format!("http://user:pass@{proxy}"));
        std::env::set_var("no_proxy", "");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = echo_server().await;
        let (_, targets) = http_connect_on(listener, AUTH, Some(server));

        // A name that resolves nowhere: only the proxy can reach it (it tunnels to
        // `server`).
        let url = format!("ws://echo.example:{}/chat", server.port());
        let (mut ws, _) = ConnectOptions::new(&url)
            .unwrap()
            .proxy_from_env()
            .connect()
            .await
            .unwrap();
        assert_eq!(targets.next(), format!("echo.example:{}", server.port()));
        let text = Message::text("via the environment's proxy");
        ws.send(text.clone()).await.unwrap();
        let echo = timeout(LIMIT, ws.recv()).await.unwrap().unwrap().unwrap();
        assert_eq!(echo, text);

        // Loopback is reached directly: the proxy sees no second CONNECT.
        let (mut ws, _) = ConnectOptions::new(&format!("ws://{server}/"))
            .unwrap()
            .proxy_from_env()
            .connect()
            .await
            .unwrap();
        ws.send(Message::text("direct")).await.unwrap();
        let echo = timeout(LIMIT, ws.recv()).await.unwrap().unwrap().unwrap();
        assert_eq!(echo, Message::text("direct"));
        assert!(targets.so_far().is_empty());
    });
}
