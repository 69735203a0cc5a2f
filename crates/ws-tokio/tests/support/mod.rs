//! Helpers shared by the client tests: an echo server, an HTTP CONNECT proxy, a SOCKS5
//! proxy, a test certificate. Each test binary uses some of them, so the rest would warn as dead code.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Every wait in a test gives up after this long rather than hang.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// The longest request head the test proxy reads.
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

/// Spawns an HTTP CONNECT proxy on 127.0.0.1 that demands `Proxy-Authorization: {auth}`
/// (answering 407 otherwise), then opens the tunnel and copies bytes both ways. Returns
/// its address and a channel that receives the target of each CONNECT request.
pub(crate) async fn connect_proxy(
    auth: &'static str,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    connect_proxy_on(listener, auth, None)
}

/// [`connect_proxy`] on a listener bound already. With `forward_to`, every tunnel leads
/// there, whatever host the `CONNECT` names: a test can name hosts that resolve nowhere.
pub(crate) fn connect_proxy_on(
    listener: TcpListener,
    auth: &'static str,
    forward_to: Option<SocketAddr>,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    serve_proxy(listener, move |tcp, targets| {
        serve_connect(tcp, auth, targets, forward_to)
    })
}

/// Runs `serve` on a task of its own for each connection to `listener`, with a sender
/// for the targets it tunnels to; returns the listener's address and their receiver.
fn serve_proxy<F, Fut>(
    listener: TcpListener,
    serve: F,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>)
where
    F: Fn(TcpStream, mpsc::UnboundedSender<String>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let addr = listener.local_addr().unwrap();
    let (targets, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let served = serve(tcp, targets.clone());
            // A failed tunnel shows in the client's result, which the test checks.
            tokio::spawn(async move { drop(served.await) });
        }
    });
    (addr, seen)
}

/// An `https://` proxy: [`connect_proxy`] inside TLS with `acceptor`'s certificate.
#[cfg(feature = "rustls")]
pub(crate) async fn connect_proxy_tls(
    acceptor: ws_tokio::tls::TlsAcceptor,
    auth: &'static str,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_proxy(listener, move |tcp, targets| {
        let acceptor = acceptor.clone();
        async move { serve_connect(acceptor.accept(tcp).await?, auth, targets, None).await }
    })
}

/// One connection of the test proxy.
async fn serve_connect<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut client: S,
    auth: &str,
    targets: mpsc::UnboundedSender<String>,
    forward_to: Option<SocketAddr>,
) -> std::io::Result<()> {
    let head = read_head(&mut client).await?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let target = match request_line.split(' ').collect::<Vec<_>>()[..] {
        ["CONNECT", target, "HTTP/1.1"] => target.to_owned(),
        _ => panic!("not a CONNECT request: {request_line:?}"),
    };
    let authorized = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("proxy-authorization") && value.trim() == auth
        })
    });
    let _ = targets.send(target.clone());
    if !authorized {
        client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"test\"\r\n\
                  Content-Length: 6\r\n\r\ndenied",
            )
            .await?;
        return client.shutdown().await;
    }
    let mut server = match forward_to {
        Some(addr) => TcpStream::connect(addr).await?,
        None => TcpStream::connect(target).await?,
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

/// A SOCKS5 proxy on 127.0.0.1 (RFC 1928) that demands `user` and `password` (RFC 1929),
/// then connects to the target and copies bytes both ways. Returns its address and a
/// channel that receives each target as `host:port`.
pub(crate) async fn socks5_proxy(
    user: &'static str,
    password: &'static str,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_proxy(listener, move |tcp, targets| {
        serve_socks5(tcp, (user, password), targets)
    })
}

/// One connection of the test SOCKS5 proxy.
async fn serve_socks5(
    mut client: TcpStream,
    (user, password): (&str, &str),
    targets: mpsc::UnboundedSender<String>,
) -> std::io::Result<()> {
    async fn read_field(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
        let len = client.read_u8().await?;
        let mut field = vec![0; usize::from(len)];
        client.read_exact(&mut field).await?;
        Ok(field)
    }
    let _version = client.read_u8().await?;
    if !read_field(&mut client).await?.contains(&2) {
        return client.write_all(&[5, 0xFF]).await;
    }
    client.write_all(&[5, 2]).await?;
    let _version = client.read_u8().await?;
    let credentials = (
        read_field(&mut client).await?,
        read_field(&mut client).await?,
    );
    if credentials != (user.as_bytes().to_vec(), password.as_bytes().to_vec()) {
        return client.write_all(&[1, 1]).await;
    }
    client.write_all(&[1, 0]).await?;
    // Version, command, reserved, address type.
    let mut request = [0; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => String::from_utf8_lossy(&read_field(&mut client).await?).into_owned(),
        _ => return client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]).await,
    };
    let port = client.read_u16().await?;
    let target = format!("{host}:{port}");
    let _ = targets.send(target.clone());
    let mut server = TcpStream::connect(target).await?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

/// A SOCKS4 / SOCKS4a proxy that grants only `user_id`; it reports each target it connects
/// to (`host:port`, the name as the client sent it).
pub(crate) async fn socks4_proxy(
    user_id: &'static str,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_proxy(listener, move |tcp, targets| {
        serve_socks4(tcp, user_id, targets)
    })
}

/// One connection of the test SOCKS4 proxy.
async fn serve_socks4(
    mut client: TcpStream,
    user_id: &str,
    targets: mpsc::UnboundedSender<String>,
) -> std::io::Result<()> {
    async fn read_string(client: &mut TcpStream) -> std::io::Result<String> {
        let mut text = Vec::new();
        loop {
            match client.read_u8().await? {
                0 => return Ok(String::from_utf8_lossy(&text).into_owned()),
                byte => text.push(byte),
            }
        }
    }
    // Version, command, port, address.
    let mut request = [0; 8];
    client.read_exact(&mut request).await?;
    let port = u16::from_be_bytes([request[2], request[3]]);
    let given_user = read_string(&mut client).await?;
    let host = match request[4..8] {
        // SOCKS4a: the name follows the user id.
        [0, 0, 0, last] if last != 0 => read_string(&mut client).await?,
        [a, b, c, d] => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
        _ => unreachable!(),
    };
    if given_user != user_id {
        return client.write_all(&[0, 93, 0, 0, 0, 0, 0, 0]).await;
    }
    let target = format!("{host}:{port}");
    let _ = targets.send(target.clone());
    let mut server = TcpStream::connect(target).await?;
    client.write_all(&[0, 90, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
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

/// A certificate for `localhost`, generated now: the server's TLS acceptor and a client
/// configuration that trusts only that certificate.
#[cfg(feature = "rustls")]
pub(crate) fn certificate() -> (
    ws_tokio::tls::TlsAcceptor,
    std::sync::Arc<ws_tokio::tls::rustls::ClientConfig>,
) {
    use ws_tokio::tls::rustls::{self, RootCertStore};

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let acceptor = acceptor(cert.cert.der().to_vec(), cert.signing_key.serialize_der());
    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client_config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (acceptor, std::sync::Arc::new(client_config))
}

/// A server's TLS acceptor for a certificate and its PKCS #8 key, both DER.
#[cfg(feature = "rustls")]
pub(crate) fn acceptor(cert: Vec<u8>, key: Vec<u8>) -> ws_tokio::tls::TlsAcceptor {
    use ws_tokio::tls::rustls::ServerConfig;
    use ws_tokio::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
    let server_config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.into()], key)
        .unwrap();
    ws_tokio::tls::TlsAcceptor::from(std::sync::Arc::new(server_config))
}
