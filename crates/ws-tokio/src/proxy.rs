//! A tunnel through a proxy: HTTP `CONNECT` or SOCKS5, built and checked by ws-handshake.

use std::io;

use http::Uri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_handshake::socks::{Socks5Connect, Socks5Step};
use ws_handshake::{Limits, ProxyConnect, ProxyKind, ProxyOutcome};

use crate::Error;
use crate::client::tcp_connect;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// Connects to `proxy` and asks it for a tunnel to the host and port of `target`: the TCP
/// stream, which then leads to the target.
pub(crate) async fn tunnel(proxy: &Uri, target: &Uri, limits: Limits) -> Result<TcpStream, Error> {
    // Any scheme but SOCKS5 goes to `ProxyConnect`, which refuses those it cannot use
    // (`ConnectOptions` keeps none of them anyway).
    if ProxyKind::of(proxy) == Some(ProxyKind::Socks5) {
        socks_tunnel(proxy, target).await
    } else {
        http_tunnel(proxy, target, limits).await
    }
}

async fn http_tunnel(proxy: &Uri, target: &Uri, limits: Limits) -> Result<TcpStream, Error> {
    let connect = ProxyConnect::new(proxy, target)?.limits(limits);
    let mut tcp = tcp_connect(proxy, ProxyKind::Http.default_port()).await?;
    let mut buf = Vec::new();
    connect.encode(&mut buf);
    tcp.write_all(&buf).await?;
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
        read_more(&mut tcp, &mut chunk, &mut buf).await?;
    }
}

/// The SOCKS5 exchange (RFC 1928, RFC 1929 with the URL's credentials); the target's
/// name goes to the proxy unresolved.
async fn socks_tunnel(proxy: &Uri, target: &Uri) -> Result<TcpStream, Error> {
    let mut socks = Socks5Connect::new(proxy, target)?;
    let mut tcp = tcp_connect(proxy, ProxyKind::Socks5.default_port()).await?;
    tcp.write_all(&socks.greeting()).await?;
    // Each answer is at most 262 bytes, and `buf` holds at most one answer and a read.
    let mut buf = Vec::new();
    let mut chunk = [0; 512];
    loop {
        match socks.advance(&buf).map_err(Error::Socks)? {
            Some((Socks5Step::Send(bytes), used)) => {
                buf.drain(..used);
                tcp.write_all(&bytes).await?;
            }
            Some((Socks5Step::Connected, used)) if used == buf.len() => return Ok(tcp),
            Some((Socks5Step::Connected, _)) => return Err(early_data()),
            None => read_more(&mut tcp, &mut chunk, &mut buf).await?,
        }
    }
}

/// One read of the proxy's answer into `buf`; its end before the answer is an error.
async fn read_more(tcp: &mut TcpStream, chunk: &mut [u8], buf: &mut Vec<u8>) -> Result<(), Error> {
    let read = tcp.read(chunk).await?;
    if read == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the proxy closed the connection before it opened the tunnel",
        )
        .into());
    }
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
