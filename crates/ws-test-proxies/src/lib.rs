//! Proxies for the adapters' tests, on 127.0.0.1: an HTTP `CONNECT` proxy (in the clear,
//! or inside TLS as an `https://` proxy), a SOCKS5 proxy with user name and password, and
//! a SOCKS4/4a proxy. Each serves every connection on a thread of its own, relays bytes
//! both ways once the tunnel is open, and reports each target it was asked for. Threads,
//! not a runtime, so that blocking and async clients alike can be tested against them.
//!
//! Tests only: every error ends that one connection, which the client under test sees.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::{TcpListener, TcpStream};
//!
//! // A target that greets whoever connects.
//! let target = TcpListener::bind("127.0.0.1:0")?;
//! let target_addr = target.local_addr()?;
//! std::thread::spawn(move || target.accept()?.0.write_all(b"hello"));
//!
//! // `user:pass` as Basic credentials.
//! let (proxy, targets) = ws_test_proxies::http_connect("Basic dXNlcjpwYXNz");
//! let mut tcp = TcpStream::connect(proxy)?;
//! write!(
//!     tcp,
//!     "CONNECT {target_addr} HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"
//! )?;
//! let head = ws_test_proxies::read_head(&mut tcp)?;
//! assert!(head.starts_with("HTTP/1.1 200"));
//! let mut greeting = String::new();
//! tcp.read_to_string(&mut greeting)?;
//! assert_eq!(greeting, "hello");
//! assert_eq!(targets.next(), target_addr.to_string());
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// The longest request head [`read_head`] reads.
const MAX_HEAD: usize = 8 << 10;

/// How long [`Targets::next`] waits.
const WAIT: Duration = Duration::from_secs(20);

/// The targets a proxy was asked for, in order, as `host:port`.
#[derive(Debug)]
pub struct Targets(mpsc::Receiver<String>);

impl Targets {
    /// The next target asked for; panics when none comes within 20 s.
    pub fn next(&self) -> String {
        self.0.recv_timeout(WAIT).expect("a tunnel was asked for")
    }

    /// Every target asked for so far.
    pub fn so_far(&self) -> Vec<String> {
        self.0.try_iter().collect()
    }
}

/// Runs `serve` on a thread for each connection to a new listener on 127.0.0.1; returns
/// its address. The listener lives as long as the test process.
pub fn listen(serve: impl Fn(TcpStream) + Clone + Send + 'static) -> SocketAddr {
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), serve)
}

/// [`listen`] on a listener bound already.
pub fn serve_on(
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

/// Serves each connection to `listener` with `serve`, which reports targets to the sender
/// it is given; the listener's address and those targets.
fn proxy_on(
    listener: TcpListener,
    serve: impl Fn(TcpStream, &mpsc::Sender<String>) -> io::Result<()> + Clone + Send + 'static,
) -> (SocketAddr, Targets) {
    let (targets, seen) = mpsc::channel();
    let addr = serve_on(listener, move |tcp| {
        // A failed tunnel shows in the client's result, which the test checks.
        let _ = serve(tcp, &targets);
    });
    (addr, Targets(seen))
}

fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// An HTTP `CONNECT` proxy that demands `Proxy-Authorization: {auth}` (answering 407
/// with the body `denied` otherwise), then opens the tunnel.
pub fn http_connect(auth: &'static str) -> (SocketAddr, Targets) {
    http_connect_on(bind(), auth, None)
}

/// [`http_connect`] on a listener bound already. With `forward_to`, every tunnel leads
/// there, whatever host the `CONNECT` names: a test can name hosts that resolve nowhere.
pub fn http_connect_on(
    listener: TcpListener,
    auth: &'static str,
    forward_to: Option<SocketAddr>,
) -> (SocketAddr, Targets) {
    proxy_on(listener, move |mut client, targets| {
        match answer_connect(&mut client, auth, targets, forward_to)? {
            Some(server) => relay(client, server),
            None => client.shutdown(Shutdown::Both),
        }
    })
}

/// An `https://` proxy: [`http_connect`] inside TLS with `config`'s certificate.
#[cfg(feature = "tls")]
pub fn https_connect(
    config: std::sync::Arc<rustls::ServerConfig>,
    auth: &'static str,
) -> (SocketAddr, Targets) {
    proxy_on(bind(), move |tcp, targets| {
        let connection = rustls::ServerConnection::new(config.clone()).map_err(io::Error::other)?;
        let mut client = rustls::StreamOwned::new(connection, tcp);
        match answer_connect(&mut client, auth, targets, None)? {
            Some(server) => relay_tls(client, server),
            None => Ok(()),
        }
    })
}

/// Relays between a TLS client and `server` until either side ends. A TLS stream cannot
/// be read and written from two threads, so one thread relays both ways, polling each
/// side with a short read timeout.
#[cfg(feature = "tls")]
fn relay_tls(
    mut client: rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    mut server: TcpStream,
) -> io::Result<()> {
    let poll = Some(Duration::from_millis(2));
    client.sock.set_read_timeout(poll)?;
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
    let server = TcpStream::connect(match forward_to {
        Some(addr) => addr.to_string(),
        None => target,
    })?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.flush()?;
    Ok(Some(server))
}

/// A SOCKS5 proxy (RFC 1928) that demands `user` and `password` (RFC 1929), then opens
/// the tunnel. Targets given by name are reported by name.
pub fn socks5(user: &'static str, password: &'static str) -> (SocketAddr, Targets) {
    proxy_on(bind(), move |client, targets| {
        serve_socks5(client, (user, password), targets)
    })
}

fn serve_socks5(
    mut client: TcpStream,
    (user, password): (&str, &str),
    targets: &mpsc::Sender<String>,
) -> io::Result<()> {
    let read_field = |client: &mut TcpStream| -> io::Result<Vec<u8>> {
        let [len] = read_array(client)?;
        let mut field = vec![0; usize::from(len)];
        client.read_exact(&mut field)?;
        Ok(field)
    };
    let [_version] = read_array(&mut client)?;
    if !read_field(&mut client)?.contains(&2) {
        return client.write_all(&[5, 0xFF]);
    }
    client.write_all(&[5, 2])?;
    let [_version] = read_array(&mut client)?;
    let credentials = (read_field(&mut client)?, read_field(&mut client)?);
    if credentials != (user.as_bytes().to_vec(), password.as_bytes().to_vec()) {
        return client.write_all(&[1, 1]);
    }
    client.write_all(&[1, 0])?;
    let [_version, _command, _reserved, address_type] = read_array(&mut client)?;
    let host = match address_type {
        1 => Ipv4Addr::from(read_array::<4>(&mut client)?).to_string(),
        3 => String::from_utf8_lossy(&read_field(&mut client)?).into_owned(),
        _ => return client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let port = u16::from_be_bytes(read_array(&mut client)?);
    let target = format!("{host}:{port}");
    let _ = targets.send(target.clone());
    let server = TcpStream::connect(target)?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    relay(client, server)
}

/// A SOCKS4 / SOCKS4a proxy that grants only `user_id`; targets given by name (SOCKS4a)
/// are reported by name.
pub fn socks4(user_id: &'static str) -> (SocketAddr, Targets) {
    proxy_on(bind(), move |client, targets| {
        serve_socks4(client, user_id, targets)
    })
}

fn serve_socks4(
    mut client: TcpStream,
    user_id: &str,
    targets: &mpsc::Sender<String>,
) -> io::Result<()> {
    let read_string = |client: &mut TcpStream| -> io::Result<String> {
        let mut text = Vec::new();
        loop {
            match read_array(client)? {
                [0] => return Ok(String::from_utf8_lossy(&text).into_owned()),
                [byte] => text.push(byte),
            }
        }
    };
    let [_version, _command, port @ .., a, b, c, d] = read_array::<8>(&mut client)?;
    let port = u16::from_be_bytes(port);
    let given_user = read_string(&mut client)?;
    let host = match [a, b, c, d] {
        // SOCKS4a: 0.0.0.x, and the name follows the user id.
        [0, 0, 0, last] if last != 0 => read_string(&mut client)?,
        ip => Ipv4Addr::from(ip).to_string(),
    };
    if given_user != user_id {
        return client.write_all(&[0, 93, 0, 0, 0, 0, 0, 0]);
    }
    let target = format!("{host}:{port}");
    let _ = targets.send(target.clone());
    let server = TcpStream::connect(target)?;
    client.write_all(&[0, 90, 0, 0, 0, 0, 0, 0])?;
    relay(client, server)
}

fn read_array<const N: usize>(from: &mut impl Read) -> io::Result<[u8; N]> {
    let mut bytes = [0; N];
    from.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Copies bytes both ways between `client` and `server` until both directions end.
fn relay(client: TcpStream, server: TcpStream) -> io::Result<()> {
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

/// Reads an HTTP head, byte by byte so that nothing after it is consumed; panics on a
/// head longer than 8 KiB.
pub fn read_head(from: &mut impl Read) -> io::Result<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < MAX_HEAD, "request head too long");
        head.extend(read_array::<1>(from)?);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
