//! A tunnel through an HTTP proxy: `CONNECT`, built and checked by ws-handshake.

use std::io;

use http::Uri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_handshake::{Limits, ProxyConnect, ProxyOutcome};

use crate::Error;
use crate::client::tcp_connect;

/// How much each read of the proxy's answer asks for.
const READ_CHUNK: usize = 4096;

/// Connects to `proxy` and asks it for a tunnel to the host and port of `target`: the TCP
/// stream, which then leads to the target.
pub(crate) async fn tunnel(proxy: &Uri, target: &Uri, limits: Limits) -> Result<TcpStream, Error> {
    let connect = ProxyConnect::new(proxy, target)?.limits(limits);
    let mut tcp = tcp_connect(proxy, 80).await?;
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
                // Nothing was sent through the tunnel yet, so nothing can have come back.
                ProxyOutcome::Connected(_) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the proxy sent data through the tunnel before it was used",
                )
                .into()),
                ProxyOutcome::Rejected(response) => Err(Error::ProxyRefused(Box::new(response))),
            };
        }
        let read = tcp.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before it answered CONNECT",
            )
            .into());
        }
        buf.extend_from_slice(&chunk[..read]);
    }
}
