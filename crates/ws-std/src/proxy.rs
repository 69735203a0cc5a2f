//! A tunnel through a proxy: HTTP `CONNECT` or SOCKS5, built and checked by ws-handshake,
//! over a blocking `TcpStream` with a deadline for the proxy's answers.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use http::Uri;
use ws_endpoint::Config;
use ws_handshake::socks::{Socks5Connect, Socks5Step};
use ws_handshake::{ProxyConnect, ProxyKind, ProxyOutcome};

use crate::Error;
use crate::connect::{host_port, tcp_connect};
use crate::socket::is_timeout;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// Connects to `proxy` and asks it for a tunnel to the host and port of `target`: the TCP
/// stream, which then leads to the target. The exchange must end within
/// `config.handshake_timeout`, and the answer stay within `config.handshake_limits`.
pub(crate) fn tunnel(
    proxy: &Uri,
    target: &Uri,
    config: &Config,
    connect_timeout: Option<Duration>,
) -> Result<TcpStream, Error> {
    let kind = ProxyKind::of(proxy);
    let port = kind.unwrap_or(ProxyKind::Http).default_port();
    let (host, port) = host_port(proxy, port)?;
    let deadline = Deadline::new(config.handshake_timeout);
    // The exchange is set up (and checked) before anything is connected. Any scheme but
    // SOCKS5 goes to `ProxyConnect`, which refuses those it cannot use (`ConnectOptions`
    // keeps none of them anyway).
    let tcp = if kind == Some(ProxyKind::Socks5) {
        let socks = Socks5Connect::new(proxy, target)?;
        socks_tunnel(tcp_connect(&host, port, connect_timeout)?, socks, deadline)?
    } else {
        let connect = ProxyConnect::new(proxy, target)?.limits(config.handshake_limits);
        http_tunnel(
            tcp_connect(&host, port, connect_timeout)?,
            &connect,
            deadline,
        )?
    };
    // The WebSocket sets the read timeouts it needs; writes block again.
    tcp.set_read_timeout(None)?;
    tcp.set_write_timeout(None)?;
    Ok(tcp)
}

fn http_tunnel(
    mut tcp: TcpStream,
    connect: &ProxyConnect,
    deadline: Deadline,
) -> Result<TcpStream, Error> {
    let mut buf = Vec::new();
    connect.encode(&mut buf);
    tcp.set_write_timeout(deadline.remaining()?)?;
    tcp.write_all(&buf).map_err(|e| deadline.explain(e))?;
    buf.clear();
    let mut chunk = [0; READ_CHUNK];
    // `parse_response` fails once the head passes `max_head_bytes`, and waits for at most
    // `max_body` bytes of a refusal's body, so `buf` stays bounded.
    loop {
        if let Some((outcome, used)) = connect.parse_response(&buf).map_err(Error::ProxyResponse)? {
            return match outcome {
                ProxyOutcome::Connected(_) if used == buf.len() => Ok(tcp),
                ProxyOutcome::Connected(_) => Err(early_data()),
                ProxyOutcome::Rejected(response) => Err(Error::ProxyRefused(Box::new(response))),
            };
        }
        read_more(&mut tcp, &mut chunk, &mut buf, &deadline)?;
    }
}

/// The SOCKS5 exchange (RFC 1928, RFC 1929 with the URL's credentials); the target's
/// name goes to the proxy unresolved.
fn socks_tunnel(
    mut tcp: TcpStream,
    mut socks: Socks5Connect,
    deadline: Deadline,
) -> Result<TcpStream, Error> {
    tcp.set_write_timeout(deadline.remaining()?)?;
    tcp.write_all(&socks.greeting())
        .map_err(|e| deadline.explain(e))?;
    // Each answer is at most 262 bytes, and `buf` holds at most one answer and a read.
    let mut buf = Vec::new();
    let mut chunk = [0; 512];
    loop {
        match socks.advance(&buf).map_err(Error::Socks)? {
            Some((Socks5Step::Send(bytes), used)) => {
                buf.drain(..used);
                tcp.set_write_timeout(deadline.remaining()?)?;
                tcp.write_all(&bytes).map_err(|e| deadline.explain(e))?;
            }
            Some((Socks5Step::Connected, used)) if used == buf.len() => return Ok(tcp),
            Some((Socks5Step::Connected, _)) => return Err(early_data()),
            None => read_more(&mut tcp, &mut chunk, &mut buf, &deadline)?,
        }
    }
}

/// One read of the proxy's answer into `buf`, within the deadline; its end before the
/// answer is an error.
fn read_more(
    tcp: &mut TcpStream,
    chunk: &mut [u8],
    buf: &mut Vec<u8>,
    deadline: &Deadline,
) -> Result<(), Error> {
    tcp.set_read_timeout(deadline.remaining()?)?;
    let read = match tcp.read(chunk) {
        Ok(0) => {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before it opened the tunnel",
            )
            .into());
        }
        Ok(read) => read,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
        Err(e) => return Err(deadline.explain(e).into()),
    };
    buf.extend_from_slice(&chunk[..read]);
    Ok(())
}

/// Nothing was sent through the tunnel yet, so nothing can have come back.
fn early_data() -> Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the proxy sent data through the tunnel before it was used",
    )
    .into()
}

/// When the proxy's answer is due, if ever.
struct Deadline {
    timeout: Option<Duration>,
    at: Option<Instant>,
}

impl Deadline {
    fn new(timeout: Option<Duration>) -> Deadline {
        Deadline {
            timeout,
            at: timeout.map(|timeout| Instant::now() + timeout),
        }
    }

    /// The time left, for a socket timeout: `None` waits forever; once nothing is left,
    /// the timeout error.
    fn remaining(&self) -> io::Result<Option<Duration>> {
        let Some(at) = self.at else {
            return Ok(None);
        };
        match at.checked_duration_since(Instant::now()) {
            // A zero timeout is an error for the socket calls.
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(self.expired()),
        }
    }

    /// `error` from a socket call, or the timeout error if that is what it means.
    fn explain(&self, error: io::Error) -> io::Error {
        if self.at.is_some() && is_timeout(&error) {
            self.expired()
        } else {
            error
        }
    }

    fn expired(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the proxy did not open the tunnel within {:?}",
                self.timeout.unwrap_or_default()
            ),
        )
    }
}
