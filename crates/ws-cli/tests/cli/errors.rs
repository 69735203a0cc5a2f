//! Failures a user meets: nothing listening, a rejected handshake, TLS trouble, an
//! abnormal close, unusable files. Exit status 1 and a message naming the cause.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::support::{Certificate, Finished, Server, Spawned, free_port, run, ws};

fn failure(finished: &Finished, expected: &[&str]) {
    assert_eq!(finished.code(), Some(1), "{finished:?}");
    for text in expected {
        assert!(
            finished.stderr.contains(text),
            "{text:?} not in {}",
            finished.stderr
        );
    }
}

#[test]
fn connection_refused() {
    let url = format!("ws://127.0.0.1:{}/", free_port());
    let finished = run(&["connect", &url], "hello\n");
    failure(&finished, &["cannot connect to 127.0.0.1:", "refused"]);
    assert!(finished.stdout.is_empty());

    let finished = run(&["bench", &url, "--count", "1", "--connections", "2"], "");
    failure(&finished, &["2 of 2 connections failed", "refused"]);
}

/// A server that answers any request with 403 and reports the request it read.
fn forbidding_server() -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/room", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(crate::support::TIMEOUT)).unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before its request ended");
            request.extend_from_slice(&buf[..n]);
        }
        tcp.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 15\r\n\r\nnot on the list")
            .unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, thread)
}

#[test]
fn rejected_handshake_shows_the_status() {
    let (url, request) = forbidding_server();
    let finished = run(
        &[
            "connect",
            &url,
            "-H",
            "X-Token: secret",
            "--protocol",
            "chat",
        ],
        "hello\n",
    );
    failure(&finished, &["HTTP 403 Forbidden", "not on the list"]);
    let request = request.join().unwrap();
    assert!(request.starts_with("GET /room HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("x-token: secret\r\n"), "{request}");
    assert!(
        request.contains("sec-websocket-protocol: chat\r\n"),
        "{request}"
    );
}

#[test]
fn abnormal_close_shows_code_and_reason() {
    let server = Server::start(&["--max-message-size", "8"]);
    let finished = run(
        &["connect", &server.url("ws")],
        "short\nthis line is too long\n",
    );
    failure(&finished, &["1009"]);
    assert_eq!(finished.stdout, "short\n");
    server.wait_log("1009");
}

#[test]
fn tls_to_a_plain_server() {
    let server = Server::start(&[]);
    let finished = run(&["connect", &server.url("wss")], "hello\n");
    failure(&finished, &["TLS handshake with 127.0.0.1 failed"]);
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let certificate = Certificate::generate("self-signed");
    let server = Server::start(&["--cert", &certificate.cert, "--key", &certificate.key]);
    let url = server.url("wss");

    let finished = run(&["connect", &url], "hello\n");
    failure(
        &finished,
        &["TLS handshake with 127.0.0.1 failed", "certificate"],
    );

    let finished = run(&["connect", "--insecure", &url], "hello\n");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "hello\n");
    assert!(
        finished
            .stderr
            .contains("--insecure: TLS certificates are not checked")
    );
}

#[test]
fn unusable_certificate_files() {
    let finished = run(
        &[
            "serve",
            "127.0.0.1:0",
            "--cert",
            "/nonexistent/c.pem",
            "--key",
            "/nonexistent/k.pem",
        ],
        "",
    );
    failure(&finished, &["cannot read /nonexistent/c.pem"]);
}

#[test]
fn address_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let finished = run(&["serve", &addr], "");
    failure(&finished, &[&format!("cannot listen on {addr}")]);
}

#[test]
fn proxy_refusal_shows_the_status() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://user:secret@{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(crate::support::TIMEOUT)).unwrap();
        let mut buf = [0; 1024];
        let _ = tcp.read(&mut buf).unwrap();
        tcp.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let finished = run(
        &["connect", "--proxy", &proxy, "ws://127.0.0.1:1/"],
        "hello\n",
    );
    failure(&finished, &["through the proxy at 127.0.0.1:", "407"]);
    assert!(!finished.stderr.contains("secret"), "{}", finished.stderr);
    thread.join().unwrap();

    let proxy = format!("http://127.0.0.1:{}", free_port());
    let finished = run(
        &["connect", "--proxy", &proxy, "ws://127.0.0.1:1/"],
        "hello\n",
    );
    failure(&finished, &["through the proxy at 127.0.0.1:", "refused"]);
}

#[test]
fn an_unusable_proxy_in_the_environment_is_named_without_its_password() {
    let mut command = ws(&["connect", "ws://echo.example/"]);
    command
        .env("http_proxy", "")
        .env("all_proxy", "ftp://user:secret@127.0.0.1:1")
        .env("no_proxy", "");
    let finished = Spawned::start(command).wait();
    failure(
        &finished,
        &["all_proxy", "only http://, https://, socks5://"],
    );
    assert!(!finished.stderr.contains("secret"), "{}", finished.stderr);
}
