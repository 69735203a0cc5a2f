//! wss:// with a certificate generated for the test.
#![cfg(feature = "rustls")]

mod support;

use std::time::Duration;

use tokio::net::TcpListener;
use ws_tokio::tls::TlsAcceptor;
use ws_tokio::{ConnectOptions, Error, Message};

use support::{certificate, echo_server};

#[tokio::test]
async fn wss_echo_with_a_generated_certificate() {
    let (server_config, client_config) = certificate();
    let acceptor = TlsAcceptor::from(server_config.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        // The second connection is the client that does not trust the certificate.
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            let Ok(tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut ws = ws_tokio::accept(tls).await.unwrap();
            while let Some(Ok(message)) = ws.recv().await {
                if message.is_data() {
                    ws.send(message).await.unwrap();
                }
            }
        }
    });

    let url = format!("wss://localhost:{port}/");
    let (mut ws, _) = ConnectOptions::new(&url)
        .unwrap()
        .tls_config(client_config)
        .connect()
        .await
        .unwrap();
    let large = "secret ".repeat(100_000);
    ws.send(Message::text(large.clone())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(20), ws.recv())
        .await
        .unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text(large));
    ws.close(ws_tokio::CloseCode::NORMAL, "").await.unwrap();

    // The default roots do not know the generated certificate.
    let refused = tokio::time::timeout(Duration::from_secs(20), ws_tokio::connect(&url))
        .await
        .unwrap();
    match refused {
        Err(Error::Io(error)) => assert!(error.to_string().contains("certificate"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wss_through_a_proxy_runs_tls_inside_the_tunnel() {
    let (server_config, client_config) = certificate();
    let acceptor = TlsAcceptor::from(server_config.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        support::echo(acceptor.accept(tcp).await.unwrap()).await;
    });
    // `user:pass`; the password percent-encoded.
    let (proxy, targets) = ws_test_proxies::http_connect("Basic dXNlcjpwOnNz");
    let (mut ws, _) = ConnectOptions::new(&format!("wss://localhost:{port}/"))
        .unwrap()
        .tls_config(client_config)
        .proxy(&format!("http://user:p%3Ass@{proxy}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    // The proxy is asked for the host name, which the TLS certificate is checked against.
    assert_eq!(targets.next(), format!("localhost:{port}"));
    ws.send(Message::text("hidden from the proxy"))
        .await
        .unwrap();
    let reply = tokio::time::timeout(support::LIMIT, ws.recv())
        .await
        .unwrap();
    assert_eq!(
        reply.unwrap().unwrap(),
        Message::text("hidden from the proxy")
    );
}

#[tokio::test]
async fn an_https_proxy_is_reached_over_tls_for_ws_and_wss() {
    let (server_config, client_config) = certificate();
    let acceptor = TlsAcceptor::from(server_config.clone());
    let (proxy, targets) = ws_test_proxies::https_connect(server_config, "Basic dXNlcjpwYXNz");
    let proxy_url = format!("https://user:pass@localhost:{}", proxy.port());

    // ws:// through it: the tunnel is inside TLS with the proxy.
    let plain = echo_server().await;
    let (mut ws, _) = ConnectOptions::new(&format!("ws://{plain}/"))
        .unwrap()
        .tls_config(client_config.clone())
        .proxy(&proxy_url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(targets.next(), plain.to_string());
    ws.send(Message::text("ws in TLS")).await.unwrap();
    let reply = tokio::time::timeout(support::LIMIT, ws.recv())
        .await
        .unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text("ws in TLS"));

    // wss:// through it: TLS with the server inside TLS with the proxy.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        support::echo(acceptor.accept(tcp).await.unwrap()).await;
    });
    let (mut ws, _) = ConnectOptions::new(&format!("wss://localhost:{port}/"))
        .unwrap()
        .tls_config(client_config)
        .proxy(&proxy_url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(targets.next(), format!("localhost:{port}"));
    let large = "TLS in TLS ".repeat(10_000);
    ws.send(Message::text(large.clone())).await.unwrap();
    let reply = tokio::time::timeout(support::LIMIT, ws.recv())
        .await
        .unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text(large));

    // The proxy's certificate is checked: the default roots do not know it.
    let refused = ConnectOptions::new(&format!("ws://{plain}/"))
        .unwrap()
        .proxy(&proxy_url)
        .unwrap()
        .connect()
        .await;
    match refused {
        Err(Error::Io(error)) => assert!(error.to_string().contains("certificate"), "{error}"),
        other => panic!("{other:?}"),
    }
}

/// In the child process of `native_roots_come_from_the_platform_store`: the directory
/// holding the certificate and key files.
#[cfg(feature = "native-roots")]
const CHILD_DIR: &str = "WS_TOKIO_TEST_NATIVE_ROOTS_DIR";

#[cfg(feature = "native-roots")]
#[tokio::test]
async fn native_roots_come_from_the_platform_store() {
    use std::path::{Path, PathBuf};

    let Some(dir) = std::env::var_os(CHILD_DIR).map(PathBuf::from) else {
        // rustls-native-certs reads the store named by SSL_CERT_FILE, and a process cannot
        // safely change its own environment: run this test again in a child process.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("native-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(dir.join("store.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.join("cert.der"), cert.cert.der()).unwrap();
        std::fs::write(dir.join("key.der"), cert.signing_key.serialize_der()).unwrap();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["native_roots_come_from_the_platform_store", "--exact"])
            .env(CHILD_DIR, &dir)
            .env("SSL_CERT_FILE", dir.join("store.pem"))
            .env_remove("SSL_CERT_DIR")
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let output = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success(), "{output}");
        assert!(output.contains("1 passed"), "{output}");
        return;
    };

    // The child: the store is the generated certificate alone.
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let acceptor = TlsAcceptor::from(support::server_config(read("cert.der"), read("key.der")));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        support::echo(acceptor.accept(tcp).await.unwrap()).await;
    });
    let config = ws_tokio::tls::native_roots_config().unwrap();
    let (mut ws, _) = ConnectOptions::new(&format!("wss://localhost:{port}/"))
        .unwrap()
        .tls_config(config)
        .connect()
        .await
        .unwrap();
    ws.send(Message::text("trusted")).await.unwrap();
    let reply = tokio::time::timeout(support::LIMIT, ws.recv())
        .await
        .unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text("trusted"));

    // A store that cannot be read is a typed error naming the file.
    std::fs::remove_file(dir.join("store.pem")).unwrap();
    match ws_tokio::tls::native_roots_config() {
        Err(Error::NoNativeRoots(reason)) => assert!(reason.contains("store.pem"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
