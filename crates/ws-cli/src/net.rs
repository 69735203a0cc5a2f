//! Opening a client's transport directly: TCP (from a chosen local address, for `bench
//! --source-ips`), then TLS for `wss://`, with errors that say which step failed. The
//! WebSocket handshake runs on the result with `ConnectOptions::connect_on`. (Through a
//! proxy, `ws connect` leaves it all to `ConnectOptions::proxy`.)

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;
use ws_tokio::{ClientStream, ConnectOptions, WebSocket};

use crate::cli::WsUrl;
use crate::error::CliError;

/// How clients reach a server: the TLS configuration, built once and shared by every
/// connection.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    pub(crate) tls: Arc<ClientConfig>,
}

impl Transport {
    pub(crate) fn new(insecure: bool) -> Transport {
        if insecure {
            eprintln!("ws: warning: --insecure: TLS certificates are not checked");
        }
        Transport {
            tls: crate::tls::client_config(insecure),
        }
    }

    /// The transport to `url`, from local address `bind` if given.
    pub(crate) async fn open(
        &self,
        url: &WsUrl,
        bind: Option<IpAddr>,
    ) -> Result<ClientStream, CliError> {
        self.open_with(url, bind, self.tls.clone()).await
    }

    /// An HTTP/2 connection to `url` (RFC 8441), from local address `bind` if given: TLS
    /// asking for ALPN `h2` for `wss://`, HTTP/2 with prior knowledge for `ws://`; its
    /// driver runs on a task of its own.
    pub(crate) async fn open_http2(
        &self,
        url: &WsUrl,
        bind: Option<IpAddr>,
    ) -> Result<Http2Connection, CliError> {
        let mut tls = (*self.tls).clone();
        tls.alpn_protocols = vec![b"h2".to_vec()];
        let stream = self.open_with(url, bind, Arc::new(tls)).await?;
        if let ClientStream::Rustls(tls) = &stream {
            let chosen = tls.get_ref().1.alpn_protocol();
            if chosen != Some(b"h2") {
                let chosen = chosen.map(String::from_utf8_lossy);
                return Err(CliError::NoHttp2 {
                    host: url.host.clone(),
                    chosen: chosen.map_or("none".into(), |protocol| protocol.into_owned()),
                });
            }
        }
        let http2_error = |source| CliError::Http2 {
            host: url.host.clone(),
            source,
        };
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .map_err(http2_error)?;
        tokio::spawn(connection);
        Ok(sender)
    }

    async fn open_with(
        &self,
        url: &WsUrl,
        bind: Option<IpAddr>,
        tls: Arc<ClientConfig>,
    ) -> Result<ClientStream, CliError> {
        let tcp = tcp_connect(&url.host, url.port, bind).await?;
        // Output is already coalesced into one write per batch: Nagle only adds latency.
        // Failing to set it only costs latency, so it is not worth failing for.
        let _ = tcp.set_nodelay(true);
        if !url.secure {
            return Ok(ClientStream::Plain(tcp));
        }
        let tls_error = |source| CliError::Tls {
            host: url.host.clone(),
            source,
        };
        let name = ServerName::try_from(url.host.clone()).map_err(|error| {
            tls_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, error))
        })?;
        let tls = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(tls_error)?;
        Ok(ClientStream::Rustls(Box::new(tls)))
    }
}

/// A client's HTTP/2 connection; clones send on the same connection.
pub(crate) type Http2Connection = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;

/// A WebSocket on a new stream of `connection` (RFC 8441): the extended CONNECT that
/// `options` describe goes out through hyper, ws-tokio checks the answer.
pub(crate) async fn http2_websocket(
    mut connection: Http2Connection,
    url: &WsUrl,
    options: ConnectOptions,
) -> Result<(WebSocket<Http2Stream>, http::Response<()>), CliError> {
    let upgrade = options.extended_connect()?;
    let (parts, ()) = upgrade.request().clone().into_parts();
    let mut request = hyper::Request::from_parts(parts, Empty::<Bytes>::new());
    request
        .extensions_mut()
        .insert(hyper::ext::Protocol::from_static("websocket"));
    let http2_error = |source| CliError::Http2 {
        host: url.host.clone(),
        source,
    };
    let mut response = connection
        .send_request(request)
        .await
        .map_err(http2_error)?;
    let upgraded = if response.status().is_success() {
        Some(
            hyper::upgrade::on(&mut response)
                .await
                .map_err(http2_error)?,
        )
    } else {
        None
    };
    let (parts, _body) = response.into_parts();
    let head = http::Response::from_parts(parts, ());
    let Some(upgraded) = upgraded else {
        // The body of a refusal stays unread: HTTP/2 streams it separately.
        return Err(CliError::Rejected {
            status: head.status(),
            body: String::new(),
        });
    };
    let ws = upgrade
        .into_websocket(head.clone(), TokioIo::new(upgraded))
        .map_err(CliError::from_handshake)?;
    Ok((ws, head))
}

/// The stream of one WebSocket over HTTP/2.
pub(crate) type Http2Stream = TokioIo<hyper::upgrade::Upgraded>;

/// A TCP connection to `host:port`, trying each resolved address in turn.
async fn tcp_connect(host: &str, port: u16, bind: Option<IpAddr>) -> Result<TcpStream, CliError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| CliError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        match connect_from(addr, bind).await {
            Ok(tcp) => return Ok(tcp),
            Err(error) => last = Some((addr, error)),
        }
    }
    let (addr, source) = last.unwrap_or_else(|| {
        let none = std::io::Error::new(std::io::ErrorKind::NotFound, "no address found");
        (SocketAddr::from(([0, 0, 0, 0], port)), none)
    });
    Err(CliError::Connect {
        addr: format_addr(host, addr),
        source,
    })
}

/// `addr`, naming the host too when it is not the address itself.
fn format_addr(host: &str, addr: SocketAddr) -> String {
    if host == addr.ip().to_string() {
        addr.to_string()
    } else {
        format!("{host} ({addr})")
    }
}

async fn connect_from(addr: SocketAddr, bind: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(addr).await;
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn bound_source_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let local: IpAddr = "127.0.0.2".parse().unwrap();
        let connecting = tcp_connect("127.0.0.1", port, Some(local));
        let (tcp, accepted) = tokio::join!(connecting, listener.accept());
        assert_eq!(tcp.unwrap().local_addr().unwrap().ip(), local);
        assert_eq!(accepted.unwrap().1.ip(), local);
    }
}
