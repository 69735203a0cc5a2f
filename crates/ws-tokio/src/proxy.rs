//! A tunnel through a proxy (HTTP `CONNECT`, over TLS for an `https://` proxy; SOCKS5;
//! SOCKS4): ws-handshake's [`Tunnel`] says what to send and read; this loop does it.

use http::Uri;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_handshake::{Limits, Tunnel, TunnelError, TunnelStep};

use crate::Error;
use crate::client::tcp_connect;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// The client's TLS configuration, for an `https://` proxy (none without the `rustls`
/// feature, where such a proxy is [`Error::TlsNotEnabled`]).
#[cfg(feature = "rustls")]
pub(crate) type TlsSettings = std::sync::Arc<tokio_rustls::rustls::ClientConfig>;
#[cfg(not(feature = "rustls"))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TlsSettings;

/// The connection to a proxy, which leads to the target once the tunnel is open.
#[derive(Debug)]
pub(crate) enum ProxyStream {
    Tcp(TcpStream),
    /// To an `https://` proxy.
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Connects to `proxy` (TLS first for an `https://` one, checked against the proxy's
/// host with `tls`) and asks it for a tunnel to the host and port of `target`.
#[cfg_attr(not(feature = "rustls"), allow(unused_variables))]
pub(crate) async fn tunnel(
    proxy: &Uri,
    target: &Uri,
    limits: Limits,
    tls: TlsSettings,
) -> Result<ProxyStream, Error> {
    // Set up (and checked) before anything is connected.
    let tunnel = Tunnel::new(proxy, target, limits)?;
    if tunnel.kind().uses_tls() {
        #[cfg(not(feature = "rustls"))]
        return Err(Error::TlsNotEnabled);
        #[cfg(feature = "rustls")]
        {
            let tcp = tcp_connect(proxy, tunnel.kind().default_port()).await?;
            let (host, _) = ws_handshake::host_port(proxy, 0)?;
            let tls = crate::tls::connect(tls, &host, tcp).await?;
            return Ok(ProxyStream::Tls(Box::new(drive(tunnel, tls).await?)));
        }
    }
    let tcp = tcp_connect(proxy, tunnel.kind().default_port()).await?;
    Ok(ProxyStream::Tcp(drive(tunnel, tcp).await?))
}

/// Runs `tunnel`'s exchange over `io`; `io` once the tunnel is open.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    mut tunnel: Tunnel,
    mut io: S,
) -> Result<S, Error> {
    let mut chunk = [0; READ_CHUNK];
    loop {
        match tunnel.next_step()? {
            TunnelStep::Send(bytes) => {
                io.write_all(&bytes).await?;
                // TLS holds written bytes until flushed.
                io.flush().await?;
            }
            TunnelStep::Receive => match io.read(&mut chunk).await? {
                0 => return Err(TunnelError::Closed.into()),
                read => tunnel.receive(&chunk[..read]),
            },
            TunnelStep::Open => return Ok(io),
        }
    }
}
