//! Connecting through an HTTP CONNECT proxy (a small one in the test, on 127.0.0.1).

mod support;

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use ws_endpoint::Config;
use ws_std::{ConnectOptions, Error, Message, TunnelError};

use support::{LIMIT, echo_server};
use ws_handshake::UsageError;
use ws_handshake::socks::SocksError;
use ws_test_proxies::{http_connect, read_head, socks4, socks5};

/// `user:pass` in Basic credentials (RFC 7617).
const AUTH: &str = "Basic dXNlcjpwYXNz";

#[test]
fn ws_through_an_authenticating_proxy() {
    let server = echo_server();
    let (proxy, targets) = http_connect(AUTH);
    let mut ws = ConnectOptions::new(&format!("ws://{server}/chat"))
        .unwrap()
        .proxy(&format!("http://user:pass@{proxy}"))
        .unwrap()
        .connect()
        .unwrap();
    assert_eq!(targets.next(), server.to_string());
    ws.send(Message::text("through the tunnel")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Some(Message::text("through the tunnel"))
    );
}

#[test]
fn ws_through_a_socks5_proxy() {
    let server = echo_server();
    let (proxy, targets) = socks5("user", "pass");
    let mut ws = ConnectOptions::new(&format!("ws://{server}/chat"))
        .unwrap()
        .proxy(&format!("socks5://user:pass@{proxy}"))
        .unwrap()
        .connect()
        .unwrap();
    assert_eq!(targets.next(), server.to_string());
    ws.send(Message::text("through SOCKS")).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::text("through SOCKS")));
}

/// SOCKS4 for an address, SOCKS4a for a name (the proxy resolves it); the proxy's
/// refusal of another user id comes back typed.
#[test]
fn ws_through_a_socks4_proxy() {
    let server = echo_server();
    let (proxy, targets) = socks4("alice");
    let name = format!("localhost:{}", server.port());
    for (target, proxy_url) in [
        (server.to_string(), format!("socks4://alice@{proxy}")),
        (name, format!("socks4a://alice@{proxy}")),
    ] {
        let options = ConnectOptions::new(&format!("ws://{target}/")).unwrap();
        let mut ws = options.proxy(&proxy_url).unwrap().connect().unwrap();
        assert_eq!(targets.next(), target);
        ws.send(Message::text("through SOCKS4")).unwrap();
        assert_eq!(ws.recv().unwrap(), Some(Message::text("through SOCKS4")));
    }
    let options = ConnectOptions::new(&format!("ws://{server}/")).unwrap();
    let refused = options
        .proxy(&format!("socks4://bob@{proxy}"))
        .unwrap()
        .connect();
    let Err(Error::Proxy(TunnelError::Socks(SocksError::Socks4Refused(93)))) = refused else {
        panic!("{refused:?}");
    };
}

#[test]
fn socks5_refusals_are_typed() {
    let (proxy, _targets) = socks5("user", "pass");
    for (credentials, expected) in [
        ("user:wrong@", SocksError::AuthenticationFailed(1)),
        ("", SocksError::NoAcceptableMethod),
    ] {
        let refused = ConnectOptions::new("ws://127.0.0.1:1/")
            .unwrap()
            .proxy(&format!("socks5://{credentials}{proxy}"))
            .unwrap()
            .connect();
        assert!(
            matches!(&refused, Err(Error::Proxy(TunnelError::Socks(error))) if *error == expected),
            "{refused:?}"
        );
    }
}

#[test]
fn a_proxy_refusal_carries_its_response() {
    let server = echo_server();
    let (proxy, _targets) = http_connect(AUTH);
    // No credentials, then wrong ones: both refused.
    for credentials in ["", "user:wrong@"] {
        let refused = ConnectOptions::new(&format!("ws://{server}/"))
            .unwrap()
            .proxy(&format!("http://{credentials}{proxy}"))
            .unwrap()
            .connect();
        match refused {
            Err(Error::Proxy(TunnelError::Refused(response))) => {
                assert_eq!(response.status(), 407);
                assert!(response.headers().contains_key("proxy-authenticate"));
                assert_eq!(response.body(), b"denied");
            }
            other => panic!("{other:?}"),
        }
    }
}

/// The URL rules are `ws_handshake::ClientSettings`'s (tested there); here, their errors
/// come back as `Error::Usage`, before anything is connected.
#[test]
fn an_unsupported_proxy_is_a_usage_error() {
    let refused = ConnectOptions::new("ws://a.example/")
        .unwrap()
        .proxy("ftp://proxy");
    let expected = UsageError::UnsupportedProxyScheme("ftp".into());
    assert!(
        matches!(&refused, Err(Error::Usage(e)) if *e == expected),
        "{refused:?}"
    );
}

/// What a client with `config` gets from a proxy of `scheme` (`http` or `socks5`) that
/// reads the client's first message (the `CONNECT` head, or the SOCKS5 greeting), answers
/// `answer` and then holds the connection open until the client is done.
fn answered_with(scheme: &'static str, answer: &[u8], config: Config) -> Error {
    let answer = answer.to_vec();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        if scheme == "http" {
            read_head(&mut tcp).unwrap();
        } else {
            tcp.read_exact(&mut [0; 3]).unwrap();
        }
        // A client that gave up early makes this fail, which the test expects.
        let _ = tcp.write_all(&answer);
        if answer.is_empty() {
            return; // closing is the answer
        }
        // Held until the client's result is in (the sender is dropped), at most LIMIT.
        let _ = finished.recv_timeout(LIMIT);
    });
    let result = ConnectOptions::new("ws://a.example/")
        .unwrap()
        .proxy(&format!("{scheme}://{proxy}"))
        .unwrap()
        .config(config)
        .connect();
    drop(done);
    result.map(|_| ()).unwrap_err()
}

#[test]
fn a_broken_proxy_answer_is_a_typed_error() {
    let error = answered_with("http", b"", Config::default());
    assert!(
        matches!(&error, Error::Proxy(TunnelError::Closed)),
        "{error:?}"
    );
    let error = answered_with(
        "http",
        b"HTTP/1.1 200 OK\r\n\r\nearly bytes",
        Config::default(),
    );
    assert!(
        matches!(&error, Error::Proxy(TunnelError::EarlyData)),
        "{error:?}"
    );
    let error = answered_with("http", b"SSH-2.0-OpenSSH\r\n\r\n", Config::default());
    assert!(
        matches!(error, Error::Proxy(TunnelError::InvalidResponse(_))),
        "{error:?}"
    );
}

#[test]
fn a_broken_socks5_answer_is_a_typed_error() {
    let error = answered_with("socks5", b"", Config::default());
    assert!(
        matches!(&error, Error::Proxy(TunnelError::Closed)),
        "{error:?}"
    );
    // Connected, then a byte from the target before the client sent any.
    let early = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0, b'x'];
    let error = answered_with("socks5", &early, Config::default());
    assert!(
        matches!(&error, Error::Proxy(TunnelError::EarlyData)),
        "{error:?}"
    );
    let refused = [5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0];
    let error = answered_with("socks5", &refused, Config::default());
    assert!(
        matches!(
            error,
            Error::Proxy(TunnelError::Socks(SocksError::Refused(5)))
        ),
        "{error:?}"
    );
    let error = answered_with(
        "socks5",
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        Config::default(),
    );
    assert!(
        matches!(
            error,
            Error::Proxy(TunnelError::Socks(SocksError::NotSocks5(b'H')))
        ),
        "{error:?}"
    );
}

#[test]
fn a_proxy_answer_is_read_within_the_handshake_limits() {
    // A header line that goes on and on: refused once the head passes its limit
    // (16 KiB), not buffered on.
    let endless = format!(
        "HTTP/1.1 200 OK\r\nx-filler: {}",
        "0123456789".repeat(10_000)
    );
    let error = answered_with("http", endless.as_bytes(), Config::default());
    assert!(
        matches!(
            &error,
            Error::Proxy(TunnelError::InvalidResponse(
                ws_handshake::ResponseError::HeadTooLarge { .. }
            ))
        ),
        "{error:?}"
    );
}

#[test]
fn a_silent_proxy_times_out() {
    let mut config = Config::default();
    config.handshake_timeout = Some(Duration::from_millis(200));
    let started = Instant::now();
    // The proxy takes the request and says nothing.
    let error = answered_with("http", b"HTTP/1.1 200 OK\r\n", config);
    let elapsed = started.elapsed();
    assert!(
        matches!(&error, Error::Io(e) if e.kind() == io::ErrorKind::TimedOut),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("did not open the tunnel"),
        "{error}"
    );
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// Without TLS support an `https://` proxy is refused before anything is connected (port
/// 1 has no listener): the request is not sent in the clear instead.
#[cfg(not(feature = "rustls"))]
#[test]
fn an_https_proxy_needs_the_rustls_feature() {
    let refused = ConnectOptions::new("ws://a.example/")
        .unwrap()
        .proxy("https://127.0.0.1:1")
        .unwrap()
        .connect();
    assert!(matches!(refused, Err(Error::TlsNotEnabled)), "{refused:?}");
}
