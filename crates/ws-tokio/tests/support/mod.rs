//! Helpers shared by the client tests: an echo server and a test certificate (the proxies
//! are `ws_test_proxies`, shared with ws-std). Each test binary uses some of them, so the
//! rest would warn as dead code.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// Every wait in a test gives up after this long rather than hang.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// The longest request head [`read_head`] reads.
const MAX_HEAD: usize = 8 << 10;

/// Spawns a server on 127.0.0.1 that accepts WebSocket connections and echoes data
/// messages; returns its address.
pub(crate) async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(echo(tcp));
        }
    });
    addr
}

/// Accepts a WebSocket connection on `io` and echoes data messages until it ends.
pub(crate) async fn echo<S>(io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Ok(ws) = ws_tokio::accept(io).await {
        echo_open(ws).await;
    }
}

/// Echoes data messages on an open server connection until it ends.
pub(crate) async fn echo_open<S>(mut ws: ws_tokio::WebSocket<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(Ok(message)) = ws.recv().await {
        if message.is_data() && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// Reads an HTTP head, byte by byte so that nothing after it is consumed.
pub(crate) async fn read_head<S: tokio::io::AsyncRead + Unpin>(
    tcp: &mut S,
) -> std::io::Result<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < MAX_HEAD, "request head too long");
        head.push(tcp.read_u8().await?);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// A certificate for `localhost`, generated now: the server's TLS configuration and a
/// client configuration that trusts only that certificate.
#[cfg(feature = "rustls")]
pub(crate) fn certificate() -> (
    std::sync::Arc<ws_tokio::tls::rustls::ServerConfig>,
    std::sync::Arc<ws_tokio::tls::rustls::ClientConfig>,
) {
    use ws_tokio::tls::rustls::{self, RootCertStore};

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let server_config = server_config(cert.cert.der().to_vec(), cert.signing_key.serialize_der());
    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client_config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server_config, std::sync::Arc::new(client_config))
}

/// A server's TLS configuration for a certificate and its PKCS #8 key, both DER.
#[cfg(feature = "rustls")]
pub(crate) fn server_config(
    cert: Vec<u8>,
    key: Vec<u8>,
) -> std::sync::Arc<ws_tokio::tls::rustls::ServerConfig> {
    use ws_tokio::tls::rustls::ServerConfig;
    use ws_tokio::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
    let server_config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.into()], key)
        .unwrap();
    std::sync::Arc::new(server_config)
}
