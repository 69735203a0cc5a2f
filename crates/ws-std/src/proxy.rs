//! A tunnel through a proxy (HTTP `CONNECT`, over TLS for an `https://` proxy; SOCKS5;
//! SOCKS4): ws-handshake's [`Tunnel`] says what to send and read; this loop does it over
//! a blocking `TcpStream`, with a deadline for the proxy's answers.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use http::Uri;
use ws_endpoint::Config;
use ws_handshake::{Tunnel, TunnelError, TunnelStep, host_port};

use crate::Error;
use crate::connect::tcp_connect;
use crate::socket::is_timeout;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// The client's TLS configuration, for an `https://` proxy (none without the `rustls`
/// feature, where such a proxy is [`Error::TlsNotEnabled`]).
#[cfg(feature = "rustls")]
pub(crate) type TlsSettings = std::sync::Arc<rustls::ClientConfig>;
#[cfg(not(feature = "rustls"))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TlsSettings;

/// The connection to a proxy, which leads to the target once the tunnel is open.
#[derive(Debug)]
pub(crate) enum ProxyStream {
    Tcp(TcpStream),
    /// To an `https://` proxy.
    #[cfg(feature = "rustls")]
    Tls(Box<crate::tls::ClientTlsStream>),
}

impl ProxyStream {
    /// The socket underneath, for its options and timeouts.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            ProxyStream::Tcp(tcp) => tcp,
            #[cfg(feature = "rustls")]
            ProxyStream::Tls(tls) => &tls.get_ref().sock,
        }
    }
}

/// Connects to `proxy` (TLS first for an `https://` one, checked against the proxy's
/// host with `tls`) and asks it for a tunnel to the host and port of `target`. The
/// exchange (TLS with the proxy included) must end within `config.handshake_timeout`,
/// and an HTTP proxy's answer stay within `config.handshake_limits`.
#[cfg_attr(not(feature = "rustls"), allow(unused_variables))]
pub(crate) fn tunnel(
    proxy: &Uri,
    target: &Uri,
    config: &Config,
    connect_timeout: Option<Duration>,
    tls: TlsSettings,
) -> Result<ProxyStream, Error> {
    // Set up (and checked) before anything is connected.
    let tunnel = Tunnel::new(proxy, target, config.handshake_limits)?;
    let (host, port) = host_port(proxy, tunnel.kind().default_port())?;
    if tunnel.kind().uses_tls() {
        #[cfg(not(feature = "rustls"))]
        return Err(Error::TlsNotEnabled);
        #[cfg(feature = "rustls")]
        {
            let tcp = tcp_connect(&host, port, connect_timeout)?;
            let tls = crate::tls::TlsStream::client(tcp, tls, &host)?;
            let stream = ProxyStream::Tls(Box::new(tls));
            return drive(tunnel, stream, config.handshake_timeout);
        }
    }
    let stream = ProxyStream::Tcp(tcp_connect(&host, port, connect_timeout)?);
    drive(tunnel, stream, config.handshake_timeout)
}

/// Runs `tunnel`'s exchange over `stream`, each step within what is left of `timeout`;
/// `stream` once the tunnel is open.
fn drive(
    mut tunnel: Tunnel,
    mut stream: ProxyStream,
    timeout: Option<Duration>,
) -> Result<ProxyStream, Error> {
    let deadline = Deadline::new(timeout);
    let mut chunk = [0; READ_CHUNK];
    loop {
        // Both timeouts: a TLS write may read (its handshake), and a read may write.
        let left = deadline.remaining()?;
        stream.tcp().set_write_timeout(left)?;
        stream.tcp().set_read_timeout(left)?;
        match tunnel.next_step()? {
            TunnelStep::Send(bytes) => {
                let sent = stream.write_all(&bytes).and_then(|()| stream.flush());
                sent.map_err(|e| deadline.explain(e))?;
            }
            TunnelStep::Receive => match stream.read(&mut chunk) {
                Ok(0) => return Err(TunnelError::Closed.into()),
                Ok(read) => tunnel.receive(&chunk[..read]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(deadline.explain(e).into()),
            },
            TunnelStep::Open => break,
        }
    }
    // The WebSocket sets the read timeouts it needs; writes block again.
    stream.tcp().set_read_timeout(None)?;
    stream.tcp().set_write_timeout(None)?;
    Ok(stream)
}

impl Read for ProxyStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ProxyStream::Tcp(tcp) => tcp.read(buf),
            #[cfg(feature = "rustls")]
            ProxyStream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for ProxyStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ProxyStream::Tcp(tcp) => tcp.write(buf),
            #[cfg(feature = "rustls")]
            ProxyStream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            ProxyStream::Tcp(tcp) => tcp.flush(),
            #[cfg(feature = "rustls")]
            ProxyStream::Tls(tls) => tls.flush(),
        }
    }
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
