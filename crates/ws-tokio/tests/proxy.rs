//! Connecting through HTTP CONNECT, SOCKS5 and SOCKS4 proxies (small ones in the test, on
//! 127.0.0.1).

mod support;

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;
use ws_handshake::UsageError;
use ws_tokio::{ClientStream, Config, ConnectOptions, Error, Message, TunnelError, WebSocket};

use support::{LIMIT, echo_server, read_head};
use ws_handshake::socks::SocksError;
use ws_test_proxies::{http_connect, socks4, socks5};

/// `user:pass` in Basic credentials (RFC 7617).
const AUTH: &str = "Basic dXNlcjpwYXNz";

#[tokio::test]
async fn ws_through_an_authenticating_proxy() {
    let server = echo_server().await;
    let (proxy, targets) = http_connect(AUTH);
    let (mut ws, _) = through(
        &format!("ws://{server}/chat"),
        &format!("http://user:pass@{proxy}"),
    )
    .await
    .unwrap();
    assert_eq!(targets.next(), server.to_string());
    ws.send(Message::text("through the tunnel")).await.unwrap();
    let reply = timeout(LIMIT, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(reply, Message::text("through the tunnel"));
}

#[tokio::test]
async fn ws_through_a_socks5_proxy() {
    let server = echo_server().await;
    let (proxy, targets) = socks5("user", "pass");
    let (mut ws, _) = through(
        &format!("ws://{server}/chat"),
        &format!("socks5://user:pass@{proxy}"),
    )
    .await
    .unwrap();
    assert_eq!(targets.next(), server.to_string());
    ws.send(Message::text("through SOCKS")).await.unwrap();
    let reply = timeout(LIMIT, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(reply, Message::text("through SOCKS"));
}

#[tokio::test]
async fn ws_through_a_socks4_proxy_by_address_and_by_name() {
    let server = echo_server().await;
    let (proxy, targets) = socks4("alice");
    // An IPv4 target goes as SOCKS4; a name as SOCKS4a, for the proxy to resolve.
    let name = format!("localhost:{}", server.port());
    for (target, scheme) in [(server.to_string(), "socks4"), (name, "socks4a")] {
        let (mut ws, _) = through(
            &format!("ws://{target}/chat"),
            &format!("{scheme}://alice@{proxy}"),
        )
        .await
        .unwrap();
        assert_eq!(targets.next(), target);
        ws.send(Message::text("through SOCKS4")).await.unwrap();
        let reply = timeout(LIMIT, ws.recv()).await.unwrap().unwrap().unwrap();
        assert_eq!(reply, Message::text("through SOCKS4"));
    }
    // Another user id is refused by the proxy; a password is refused before connecting.
    let url = format!("ws://{server}/");
    let refused = through(&url, &format!("socks4://bob@{proxy}")).await;
    let expected = SocksError::Socks4Refused(93);
    assert!(
        matches!(&refused, Err(Error::Proxy(TunnelError::Socks(e))) if *e == expected),
        "{refused:?}"
    );
    let refused = through(&url, &format!("socks4://alice:secret@{proxy}")).await;
    let expected = UsageError::UnsupportedBySocks4("a password");
    assert!(
        matches!(&refused, Err(Error::Usage(e)) if *e == expected),
        "{refused:?}"
    );
}

/// Connects to `url` through the proxy at `proxy`.
async fn through(
    url: &str,
    proxy: &str,
) -> Result<(WebSocket<ClientStream>, http::Response<()>), Error> {
    ConnectOptions::new(url)?.proxy(proxy)?.connect().await
}

#[tokio::test]
async fn socks5_refusals_are_typed() {
    let (proxy, _targets) = socks5("user", "pass");
    for (credentials, expected) in [
        ("user:wrong@", SocksError::AuthenticationFailed(1)),
        ("", SocksError::NoAcceptableMethod),
    ] {
        let refused = through(
            "ws://127.0.0.1:1/",
            &format!("socks5://{credentials}{proxy}"),
        )
        .await;
        assert!(
            matches!(&refused, Err(Error::Proxy(TunnelError::Socks(error))) if *error == expected),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn a_proxy_refusal_carries_its_response() {
    let server = echo_server().await;
    let (proxy, _targets) = http_connect(AUTH);
    // No credentials, then wrong ones: both refused.
    for credentials in ["", "user:wrong@"] {
        let refused = through(
            &format!("ws://{server}/"),
            &format!("http://{credentials}{proxy}"),
        )
        .await;
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

/// What a client gets from a proxy that answers `CONNECT` with `answer` and closes.
async fn answered_with(scheme: &'static str, answer: &'static [u8]) -> Error {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        if scheme == "http" {
            read_head(&mut tcp).await.unwrap();
        } else {
            tcp.read_exact(&mut [0; 3]).await.unwrap();
        }
        // A client that gave up early makes this fail, which the test expects.
        let _ = tcp.write_all(answer).await;
        if !answer.is_empty() {
            // Held until the client closes (closing now, with its later bytes unread,
            // could reset the connection before it read the answer).
            let _ = tcp.read_to_end(&mut Vec::new()).await;
        }
    });
    let result = ConnectOptions::new("ws://a.example/")
        .unwrap()
        .proxy(&format!("{scheme}://{proxy}"))
        .unwrap()
        .connect();
    timeout(LIMIT, result)
        .await
        .unwrap()
        .map(|_| ())
        .unwrap_err()
}

#[tokio::test]
async fn a_broken_proxy_answer_is_a_typed_error() {
    let error = answered_with("http", b"").await;
    assert!(
        matches!(&error, Error::Proxy(TunnelError::Closed)),
        "{error:?}"
    );
    let error = answered_with("http", b"HTTP/1.1 200 OK\r\n\r\nearly bytes").await;
    assert!(
        matches!(&error, Error::Proxy(TunnelError::EarlyData)),
        "{error:?}"
    );
    let error = answered_with("http", b"SSH-2.0-OpenSSH\r\n\r\n").await;
    assert!(
        matches!(error, Error::Proxy(TunnelError::InvalidResponse(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_broken_socks5_answer_is_a_typed_error() {
    let error = answered_with("socks5", b"").await;
    assert!(
        matches!(&error, Error::Proxy(TunnelError::Closed)),
        "{error:?}"
    );
    // Connected, then a byte from the target before the client sent any.
    let error = answered_with("socks5", &[5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0, b'x']).await;
    assert!(
        matches!(&error, Error::Proxy(TunnelError::EarlyData)),
        "{error:?}"
    );
    let error = answered_with("socks5", &[5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
    assert!(
        matches!(
            error,
            Error::Proxy(TunnelError::Socks(SocksError::Refused(5)))
        ),
        "{error:?}"
    );
    let error = answered_with("socks5", b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    assert!(
        matches!(
            error,
            Error::Proxy(TunnelError::Socks(SocksError::NotSocks5(b'H')))
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_silent_proxy_is_bounded_by_the_handshake_timeout() {
    // It accepts the connection, reads the CONNECT request and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        read_head(&mut tcp).await.unwrap();
        tokio::time::sleep(LIMIT).await;
    });
    let mut config = Config::default();
    config.handshake_timeout = Some(std::time::Duration::from_millis(200));
    let connect = ConnectOptions::new("ws://a.example/")
        .unwrap()
        .config(config)
        .proxy(&format!("http://{proxy}"))
        .unwrap()
        .connect();
    let error = timeout(std::time::Duration::from_secs(5), connect)
        .await
        .expect("connect waited for the silent proxy")
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(&error, Error::Io(e) if e.kind() == io::ErrorKind::TimedOut),
        "{error:?}"
    );
}

/// Without TLS support an `https://` proxy is refused before anything is connected (port
/// 1 has no listener): the request is not sent in the clear instead.
#[cfg(not(feature = "rustls"))]
#[tokio::test]
async fn an_https_proxy_needs_the_rustls_feature() {
    let refused = through("ws://a.example/", "https://127.0.0.1:1").await;
    assert!(matches!(refused, Err(Error::TlsNotEnabled)), "{refused:?}");
}
