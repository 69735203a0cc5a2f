//! A tunnel through a proxy (HTTP `CONNECT` or SOCKS5): ws-handshake's [`Tunnel`] says
//! what to send and read; this loop does it over a blocking `TcpStream`, with a deadline
//! for the proxy's answers.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use http::Uri;
use ws_endpoint::Config;
use ws_handshake::{Tunnel, TunnelError, TunnelStep};

use crate::Error;
use crate::connect::{host_port, tcp_connect};
use crate::socket::is_timeout;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// Connects to `proxy` and asks it for a tunnel to the host and port of `target`: the TCP
/// stream, which then leads to the target. The exchange must end within
/// `config.handshake_timeout`, and an HTTP proxy's answer stay within
/// `config.handshake_limits`.
pub(crate) fn tunnel(
    proxy: &Uri,
    target: &Uri,
    config: &Config,
    connect_timeout: Option<Duration>,
) -> Result<TcpStream, Error> {
    // Set up (and checked) before anything is connected.
    let mut tunnel = Tunnel::new(proxy, target, config.handshake_limits)?;
    let (host, port) = host_port(proxy, tunnel.kind().default_port())?;
    let mut tcp = tcp_connect(&host, port, connect_timeout)?;
    let deadline = Deadline::new(config.handshake_timeout);
    let mut chunk = [0; READ_CHUNK];
    loop {
        match tunnel.next_step()? {
            TunnelStep::Send(bytes) => {
                tcp.set_write_timeout(deadline.remaining()?)?;
                tcp.write_all(&bytes).map_err(|e| deadline.explain(e))?;
            }
            TunnelStep::Receive => {
                tcp.set_read_timeout(deadline.remaining()?)?;
                match tcp.read(&mut chunk) {
                    Ok(0) => return Err(TunnelError::Closed.into()),
                    Ok(read) => tunnel.receive(&chunk[..read]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(deadline.explain(e).into()),
                }
            }
            TunnelStep::Open => break,
        }
    }
    // The WebSocket sets the read timeouts it needs; writes block again.
    tcp.set_read_timeout(None)?;
    tcp.set_write_timeout(None)?;
    Ok(tcp)
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
