//! A tunnel through a proxy (HTTP `CONNECT` or SOCKS5): ws-handshake's [`Tunnel`] says
//! what to send and read; this loop does it.

use http::Uri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_handshake::{Limits, Tunnel, TunnelError, TunnelStep};

use crate::Error;
use crate::client::tcp_connect;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// Connects to `proxy` and asks it for a tunnel to the host and port of `target`: the TCP
/// stream, which then leads to the target.
pub(crate) async fn tunnel(proxy: &Uri, target: &Uri, limits: Limits) -> Result<TcpStream, Error> {
    // Set up (and checked) before anything is connected.
    let mut tunnel = Tunnel::new(proxy, target, limits)?;
    let mut tcp = tcp_connect(proxy, tunnel.kind().default_port()).await?;
    let mut chunk = [0; READ_CHUNK];
    loop {
        match tunnel.next_step()? {
            TunnelStep::Send(bytes) => tcp.write_all(&bytes).await?,
            TunnelStep::Receive => match tcp.read(&mut chunk).await? {
                0 => return Err(TunnelError::Closed.into()),
                read => tunnel.receive(&chunk[..read]),
            },
            TunnelStep::Open => return Ok(tcp),
        }
    }
}
