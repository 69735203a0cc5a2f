//! Opening a client's transport: TCP (from a chosen local address, or through an HTTP
//! proxy's CONNECT tunnel), then TLS for `wss://`. The WebSocket handshake runs on the
//! result with `ConnectOptions::connect_on`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::Uri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;
use ws_handshake::{ProxyConnect, ProxyOutcome};
use ws_tokio::ClientStream;

use crate::cli::WsUrl;
use crate::error::CliError;

/// How clients reach a server: the TLS configuration (built once, shared by every
/// connection) and an optional proxy.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) proxy: Option<Uri>,
}

impl Transport {
    pub(crate) fn new(args: &crate::cli::TransportArgs) -> Transport {
        if args.insecure {
            eprintln!("ws: warning: --insecure: TLS certificates are not checked");
        }
        Transport {
            tls: crate::tls::client_config(args.insecure),
            proxy: args.proxy.clone(),
        }
    }

    /// The transport to `url`, from local address `bind` if given.
    pub(crate) async fn open(
        &self,
        url: &WsUrl,
        bind: Option<IpAddr>,
    ) -> Result<ClientStream, CliError> {
        let tcp = match &self.proxy {
            Some(proxy) => tunnel(proxy, url, bind).await?,
            None => tcp_connect(&url.host, url.port, bind).await?,
        };
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
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(tls_error)?;
        Ok(ClientStream::Rustls(Box::new(tls)))
    }
}

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

/// The most bytes of a proxy's answer read before giving up on it.
const MAX_PROXY_RESPONSE: usize = 64 * 1024;

/// A CONNECT tunnel to `url`'s host and port through `proxy`.
async fn tunnel(proxy: &Uri, url: &WsUrl, bind: Option<IpAddr>) -> Result<TcpStream, CliError> {
    let proxy_error = |what: String| CliError::Proxy {
        proxy: proxy.to_string(),
        what,
    };
    let connect = ProxyConnect::new(proxy, &url.uri).map_err(|e| proxy_error(e.to_string()))?;
    // The CLI checked the proxy URL has a host; http:// proxies default to port 80.
    let host = proxy.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut tcp = tcp_connect(host, proxy.port_u16().unwrap_or(80), bind).await?;

    let mut request = Vec::new();
    connect.encode(&mut request);
    tcp.write_all(&request)
        .await
        .map_err(|e| proxy_error(format!("sending CONNECT: {e}")))?;

    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() >= MAX_PROXY_RESPONSE {
            return Err(proxy_error("the answer to CONNECT is too long".into()));
        }
        let read = tcp
            .read_buf(&mut buf)
            .await
            .map_err(|e| proxy_error(format!("reading the answer to CONNECT: {e}")))?;
        if read == 0 {
            return Err(proxy_error("closed the connection before answering".into()));
        }
        let parsed = connect
            .parse_response(&buf)
            .map_err(|e| proxy_error(format!("bad answer to CONNECT: {e}")))?;
        match parsed {
            None => continue,
            Some((ProxyOutcome::Rejected(response), _)) => {
                return Err(proxy_error(format!(
                    "refused the tunnel: HTTP {}",
                    response.status()
                )));
            }
            // The client speaks first on a new connection, so the target cannot have sent
            // anything yet: bytes past the answer are the proxy's mistake.
            Some((ProxyOutcome::Connected(_), used)) if used != buf.len() => {
                return Err(proxy_error("sent bytes after its answer to CONNECT".into()));
            }
            Some((ProxyOutcome::Connected(_), _)) => return Ok(tcp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn url(text: &str) -> WsUrl {
        crate::cli::parse_ws_url(text).unwrap()
    }

    /// A proxy that answers the CONNECT with `answer` and reports the request it read.
    async fn fake_proxy(answer: &'static [u8]) -> (Uri, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://u:p@{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 4096];
            let n = tcp.read(&mut buf).await.unwrap();
            tcp.write_all(answer).await.unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        (uri.parse().unwrap(), task)
    }

    fn transport(proxy: Uri) -> Transport {
        Transport {
            tls: crate::tls::client_config(false),
            proxy: Some(proxy),
        }
    }

    #[tokio::test]
    async fn tunnel_through_a_proxy() {
        let (proxy, request) = fake_proxy(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
        let stream = transport(proxy)
            .open(&url("ws://example.test:81/x"), None)
            .await;
        assert!(matches!(stream, Ok(ClientStream::Plain(_))));
        let request = request.await.unwrap();
        assert!(
            request.starts_with("CONNECT example.test:81 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("proxy-authorization: Basic dTpw\r\n"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn proxy_refusal_shows_the_status() {
        let (proxy, _) = fake_proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
        let error = transport(proxy)
            .open(&url("ws://example.test/"), None)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("refused the tunnel: HTTP 407"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn proxy_extra_bytes_are_an_error() {
        let (proxy, _) = fake_proxy(b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101").await;
        let error = transport(proxy)
            .open(&url("ws://example.test/"), None)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("sent bytes after"), "{error}");
    }

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
