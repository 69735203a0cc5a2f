//! Helpers shared by the tests: timing checks, and servers on 127.0.0.1 for the client
//! tests (an HTTP CONNECT proxy, a SOCKS5 proxy, a WebSocket server that answers each
//! request as told).
//! Each test binary uses some of them, so the rest would warn as dead code.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use http::HeaderMap;
use ws_endpoint::{Config, ConnectionError};
use ws_std::{Decision, Error, Message};

/// Every wait in a test gives up after this long rather than hang.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// The longest request head the test proxy reads.
const MAX_HEAD: usize = 8 << 10;

/// What a server's `recv` returned, and how long it waited.
pub(crate) type Outcome = (Result<Option<Message>, Error>, Duration);

/// Checks that a server with a 100 ms ping interval and a 200 ms pong timeout gave up on
/// a peer that never answers, in time: the first ping at 100 ms, the deadline 200 ms later.
pub(crate) fn assert_pong_timeout(done: &mpsc::Receiver<Outcome>) {
    let (result, elapsed) = done
        .recv_timeout(Duration::from_secs(10))
        .expect("the server gives up on a silent peer");
    assert!(
        matches!(result, Err(Error::Connection(ConnectionError::PongTimeout))),
        "{result:?}"
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// Runs `serve` on a thread for each connection to a new listener on 127.0.0.1; returns
/// its address. The listener lives as long as the test process.
pub(crate) fn listen(serve: impl Fn(TcpStream) + Clone + Send + 'static) -> SocketAddr {
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), serve)
}

/// [`listen`] on a listener bound already.
pub(crate) fn serve_on(
    listener: TcpListener,
    serve: impl Fn(TcpStream) + Clone + Send + 'static,
) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { break };
            let serve = serve.clone();
            std::thread::spawn(move || serve(tcp));
        }
    });
    addr
}

/// What a test server saw of one upgrade request: its path and headers.
pub(crate) type Seen = mpsc::Receiver<(String, HeaderMap)>;

/// A WebSocket server on 127.0.0.1 that answers each upgrade request with
/// `decide(path)`, reports the request on the returned channel, and echoes on the
/// connections it accepts.
pub(crate) fn server(
    decide: impl Fn(&str) -> Decision + Clone + Send + 'static,
) -> (SocketAddr, Seen) {
    let (seen, requests) = mpsc::channel();
    let addr = listen(move |tcp| {
        let accepted = ws_std::accept_with(tcp, Config::default(), |request| {
            let path = request.request().uri().path().to_owned();
            let headers = request.request().headers().clone();
            let decision = decide(&path);
            // Tests that do not look at the requests dropped the receiver.
            let _ = seen.send((path, headers));
            decision
        });
        if let Ok(mut ws) = accepted {
            while let Ok(Some(message)) = ws.recv() {
                if ws.send(message).is_err() {
                    break;
                }
            }
        }
    });
    (addr, requests)
}

/// An echo server on 127.0.0.1 that accepts every upgrade.
pub(crate) fn echo_server() -> SocketAddr {
    server(|_| Decision::Accept).0
}

/// An HTTP CONNECT proxy on 127.0.0.1 that demands `Proxy-Authorization: {auth}`
/// (answering 407 otherwise), then opens the tunnel and copies bytes both ways. Returns
/// its address and a channel that receives the target of each CONNECT request.
pub(crate) fn connect_proxy(auth: &'static str) -> (SocketAddr, mpsc::Receiver<String>) {
    connect_proxy_on(TcpListener::bind("127.0.0.1:0").unwrap(), auth, None)
}

/// [`connect_proxy`] on a listener bound already. With `forward_to`, every tunnel leads
/// there, whatever host the `CONNECT` names: a test can name hosts that resolve nowhere.
pub(crate) fn connect_proxy_on(
    listener: TcpListener,
    auth: &'static str,
    forward_to: Option<SocketAddr>,
) -> (SocketAddr, mpsc::Receiver<String>) {
    let (targets, seen) = mpsc::channel();
    let addr = serve_on(listener, move |tcp| {
        // A failed tunnel shows in the client's result, which the test checks.
        let _ = serve_connect(tcp, auth, &targets, forward_to);
    });
    (addr, seen)
}

/// One connection of the test proxy.
fn serve_connect(
    mut client: TcpStream,
    auth: &str,
    targets: &mpsc::Sender<String>,
    forward_to: Option<SocketAddr>,
) -> io::Result<()> {
    let Some(server) = answer_connect(&mut client, auth, targets, forward_to)? else {
        return client.shutdown(Shutdown::Both);
    };
    let (client_read, server_write) = (client.try_clone()?, server.try_clone()?);
    let upstream = std::thread::spawn(move || pipe(client_read, server_write));
    pipe(server, client);
    let _ = upstream.join();
    Ok(())
}

/// An `https://` proxy: [`connect_proxy`] inside TLS with `config`'s certificate.
#[cfg(feature = "rustls")]
pub(crate) fn connect_proxy_tls(
    config: std::sync::Arc<ws_std::tls::rustls::ServerConfig>,
    auth: &'static str,
) -> (SocketAddr, mpsc::Receiver<String>) {
    let (targets, seen) = mpsc::channel();
    let addr = listen(move |tcp| {
        // A failed tunnel shows in the client's result, which the test checks.
        let _ = serve_connect_tls(tcp, config.clone(), auth, &targets);
    });
    (addr, seen)
}

/// One connection of the `https://` test proxy. A TLS stream cannot be read and written
/// from two threads, so one thread relays both ways, polling each side with a short
/// read timeout.
#[cfg(feature = "rustls")]
fn serve_connect_tls(
    tcp: TcpStream,
    config: std::sync::Arc<ws_std::tls::rustls::ServerConfig>,
    auth: &str,
    targets: &mpsc::Sender<String>,
) -> io::Result<()> {
    let mut client = ws_std::tls::TlsStream::server(tcp, config).map_err(io::Error::other)?;
    let Some(mut server) = answer_connect(&mut client, auth, targets, None)? else {
        return Ok(());
    };
    let poll = Some(Duration::from_millis(2));
    client.get_ref().sock.set_read_timeout(poll)?;
    server.set_read_timeout(poll)?;
    let mut buf = [0; 16 << 10];
    let is_timeout = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    };
    loop {
        match client.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(read) => server.write_all(&buf[..read])?,
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
        match server.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(read) => {
                client.write_all(&buf[..read])?;
                client.flush()?;
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a `CONNECT` request from `client` and answers it: 407 without the credentials
/// `auth`, else 200 and the connection to the target (or to `forward_to`).
fn answer_connect<S: Read + Write>(
    client: &mut S,
    auth: &str,
    targets: &mpsc::Sender<String>,
    forward_to: Option<SocketAddr>,
) -> io::Result<Option<TcpStream>> {
    let head = read_head(client)?;
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
        client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"test\"\r\n\
              Content-Length: 6\r\n\r\ndenied",
        )?;
        client.flush()?;
        return Ok(None);
    }
    let server = match forward_to {
        Some(addr) => TcpStream::connect(addr)?,
        None => TcpStream::connect(target)?,
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.flush()?;
    Ok(Some(server))
}

/// A SOCKS5 proxy on 127.0.0.1 (RFC 1928) that demands `user` and `password` (RFC 1929),
/// then connects to the target and copies bytes both ways. Returns its address and a
/// channel that receives each target as `host:port`.
pub(crate) fn socks5_proxy(
    user: &'static str,
    password: &'static str,
) -> (SocketAddr, mpsc::Receiver<String>) {
    let (targets, seen) = mpsc::channel();
    let addr = listen(move |tcp| {
        // A failed tunnel shows in the client's result, which the test checks.
        let _ = serve_socks5(tcp, (user, password), &targets);
    });
    (addr, seen)
}

/// One connection of the test SOCKS5 proxy.
fn serve_socks5(
    mut client: TcpStream,
    (user, password): (&str, &str),
    targets: &mpsc::Sender<String>,
) -> io::Result<()> {
    let read_field = |client: &mut TcpStream| -> io::Result<Vec<u8>> {
        let mut len = [0];
        client.read_exact(&mut len)?;
        let mut field = vec![0; usize::from(len[0])];
        client.read_exact(&mut field)?;
        Ok(field)
    };
    let mut version = [0];
    client.read_exact(&mut version)?;
    if !read_field(&mut client)?.contains(&2) {
        return client.write_all(&[5, 0xFF]);
    }
    client.write_all(&[5, 2])?;
    client.read_exact(&mut version)?;
    let credentials = (read_field(&mut client)?, read_field(&mut client)?);
    if credentials != (user.as_bytes().to_vec(), password.as_bytes().to_vec()) {
        return client.write_all(&[1, 1]);
    }
    client.write_all(&[1, 0])?;
    // Version, command, reserved, address type.
    let mut request = [0; 4];
    client.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0; 4];
            client.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => String::from_utf8_lossy(&read_field(&mut client)?).into_owned(),
        _ => return client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let mut port = [0; 2];
    client.read_exact(&mut port)?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    let _ = targets.send(target.clone());
    let server = TcpStream::connect(target)?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    let (client_read, server_write) = (client.try_clone()?, server.try_clone()?);
    let upstream = std::thread::spawn(move || pipe(client_read, server_write));
    pipe(server, client);
    let _ = upstream.join();
    Ok(())
}

/// Copies `from` to `to` until `from` ends, then ends `to`'s writing side.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// Reads an HTTP head, byte by byte so that nothing after it is consumed.
pub(crate) fn read_head(tcp: &mut impl Read) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < MAX_HEAD, "request head too long");
        tcp.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
