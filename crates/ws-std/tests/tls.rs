//! wss:// over rustls' blocking stream, with a certificate generated for the test.
#![cfg(feature = "rustls")]

mod support;

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ws_endpoint::{CloseCode, Config, ConnectionError};
use ws_std::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_std::tls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use ws_std::tls::{ServerTlsStream, TlsStream};
use ws_std::{ConnectOptions, Error, Message};

/// A certificate for `localhost`, generated once per test process (so that a proxy and a
/// server can share it): the server's configuration and a client configuration that
/// trusts only that certificate.
fn certificate() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    static CERTIFICATE: OnceLock<(Arc<ServerConfig>, Arc<ClientConfig>)> = OnceLock::new();
    CERTIFICATE
        .get_or_init(|| {
            let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
            let key_der = cert.signing_key.serialize_der();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der));
            let server = ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![cert.cert.der().clone()], key)
                .unwrap();
            let mut roots = RootCertStore::empty();
            roots.add(cert.cert.der().clone()).unwrap();
            let client = ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            (Arc::new(server), Arc::new(client))
        })
        .clone()
}

/// A TLS listener on 127.0.0.1 that runs `serve` on each of `connections` connections, in
/// turn; returns the `wss://localhost` URL and the client configuration that trusts it.
fn serve_tls<T: Send + 'static>(
    connections: usize,
    serve: impl Fn(ServerTlsStream) -> T + Send + 'static,
) -> (String, Arc<ClientConfig>, JoinHandle<Vec<T>>) {
    let (server_config, client_config) = certificate();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://localhost:{}/", listener.local_addr().unwrap().port());
    let handle = std::thread::spawn(move || {
        (0..connections)
            .map(|_| {
                let tcp = listener.accept().unwrap().0;
                serve(TlsStream::server(tcp, server_config.clone()).unwrap())
            })
            .collect()
    });
    (url, client_config, handle)
}

#[test]
fn wss_echo_and_clean_close() {
    let (url, client_config, server) = serve_tls(2, |tls| -> Result<(), Error> {
        let mut ws = ws_std::accept(tls, Config::default())?;
        while let Some(message) = ws.recv()? {
            ws.send(message)?;
        }
        Ok(())
    });
    let mut ws = ws_std::tls::connect(&url, Config::default(), client_config).unwrap();
    // Larger than a TLS record (16 KiB) and than one read.
    let large = Message::text("encrypted ".repeat(300_000));
    for message in [Message::text("hello"), large] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.recv().unwrap(), Some(message));
    }
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(ws.close_info().unwrap().clean);
    assert_eq!(ws.recv().unwrap(), None);

    // `connect` checks against the webpki roots, which do not know the certificate.
    match ws_std::connect(&url, Config::default()) {
        Err(Error::Io(error)) => assert!(error.to_string().contains("certificate"), "{error}"),
        other => panic!("{other:?}"),
    }
    let results = server.join().unwrap();
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(Error::Io(_))), "{:?}", results[1]);
}

#[test]
fn heartbeat_runs_through_tls() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_millis(100));
    config.pong_timeout = Duration::from_millis(200);
    let (done_tx, done_rx) = mpsc::channel();
    let (url, client_config, _server) = serve_tls(1, move |tls| {
        let mut ws = ws_std::accept(tls, config.clone()).unwrap();
        let started = Instant::now();
        let result = ws.recv();
        done_tx.send((result, started.elapsed())).unwrap();
    });
    // The client never calls `recv`, so it never answers the server's pings.
    let _client = ws_std::tls::connect(&url, Config::default(), client_config).unwrap();
    support::assert_pong_timeout(&done_rx);
}

#[test]
fn the_handshake_timeout_covers_the_tls_handshake() {
    let mut config = Config::default();
    config.handshake_timeout = Some(Duration::from_millis(200));
    let (url, _, server) = serve_tls(1, move |tls| {
        let started = Instant::now();
        (
            ws_std::accept(tls, config.clone()).map(|_| ()),
            started.elapsed(),
        )
    });
    // A client that opens TCP and sends nothing, not even a TLS ClientHello.
    let port = url
        .trim_start_matches("wss://localhost:")
        .trim_end_matches('/');
    let _silent = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let (result, elapsed) = server.join().unwrap().pop().unwrap();
    assert!(
        matches!(
            result,
            Err(Error::Connection {
                error: ConnectionError::HandshakeTimeout,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn an_https_proxy_is_reached_over_tls_for_ws_and_wss() {
    let (server_config, client_config) = certificate();
    let (proxy, targets) = ws_test_proxies::https_connect(server_config, "Basic dXNlcjpwYXNz");
    let proxy_url = format!("https://user:pass@localhost:{}", proxy.port());

    // ws:// through it: the tunnel is inside TLS with the proxy.
    let plain = support::echo_server();
    let mut ws = ConnectOptions::new(&format!("ws://{plain}/"))
        .unwrap()
        .proxy(&proxy_url)
        .unwrap()
        .tls_config(client_config.clone())
        .connect()
        .unwrap();
    assert_eq!(targets.next(), plain.to_string());
    ws.send(Message::text("ws in TLS")).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::text("ws in TLS")));
    ws.close(CloseCode::NORMAL, "").unwrap();

    // wss:// through it: TLS with the server inside TLS with the proxy.
    let (url, wss_config, server) = serve_tls(1, |tls| -> Result<(), Error> {
        let mut ws = ws_std::accept(tls, Config::default())?;
        while let Some(message) = ws.recv()? {
            ws.send(message)?;
        }
        Ok(())
    });
    let mut ws = ConnectOptions::new(&url)
        .unwrap()
        .proxy(&proxy_url)
        .unwrap()
        .tls_config(wss_config)
        .connect()
        .unwrap();
    let target = targets.next();
    assert_eq!(format!("wss://{target}/"), url);
    let large = "TLS in TLS ".repeat(10_000);
    ws.send(Message::text(large.clone())).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::text(large)));
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(ws.close_info().unwrap().clean);
    server.join().unwrap().pop().unwrap().unwrap();

    // The proxy's certificate is checked: the default roots do not know it.
    let refused = ConnectOptions::new(&format!("ws://{plain}/"))
        .unwrap()
        .proxy(&proxy_url)
        .unwrap()
        .connect();
    match refused {
        Err(Error::Io(error)) => assert!(error.to_string().contains("certificate"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wss_through_a_proxy_runs_tls_inside_the_tunnel() {
    let (url, client_config, server) = serve_tls(1, |tls| -> Result<(), Error> {
        let mut ws = ws_std::accept(tls, Config::default())?;
        while let Some(message) = ws.recv()? {
            ws.send(message)?;
        }
        Ok(())
    });
    // `user:p:ss`, the colon percent-encoded in the URL.
    let (proxy, targets) = ws_test_proxies::http_connect("Basic dXNlcjpwOnNz");
    let mut ws = ConnectOptions::new(&url)
        .unwrap()
        .proxy(&format!("http://user:p%3Ass@{proxy}"))
        .unwrap()
        .tls_config(client_config)
        .connect()
        .unwrap();
    // The proxy is asked for the host name, which the certificate is checked against.
    let target = targets.next();
    assert_eq!(format!("wss://{target}/"), url);
    ws.send(Message::text("hidden from the proxy")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Some(Message::text("hidden from the proxy"))
    );
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(ws.close_info().unwrap().clean);
    server.join().unwrap().pop().unwrap().unwrap();
}
