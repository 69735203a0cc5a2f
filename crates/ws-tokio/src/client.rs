//! The client's side of opening a connection: `connect`, through an HTTP proxy if asked.

use std::future::poll_fn;
use std::task::Poll;

use http::Uri;
use http::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use ws_endpoint::{ClientUpgradeError, CloseCode, Config, Endpoint, Event};
use ws_handshake::redirect::RedirectError;
use ws_handshake::{ClientBuilder, ClientSettings, ExtendedConnect, UsageError};

use crate::conn::{Conn, Half, now};
use crate::handshake::{Upgrading, handshake_event};
use crate::proxy::{self, ProxyStream, TlsSettings};
use crate::stream::ClientStream;
use crate::{Error, WebSocket};

/// Connects to a `ws://` (or, with the `rustls` feature, `wss://`) URL with the default
/// [`Config`] (permessage-deflate offered): the socket and the server's 101 response.
///
/// A response other than 101 is [`Error::Rejected`], carrying it; redirects are not
/// followed unless [`ConnectOptions::follow_redirects`] says so.
pub async fn connect(url: &str) -> Result<(WebSocket<ClientStream>, http::Response<()>), Error> {
    ConnectOptions::new(url)?.connect().await
}

/// A client connection being set up: the URL, subprotocols, headers, [`Config`], how to
/// reach the server (a proxy, TLS settings), and whether to follow redirects. The
/// settings that do not depend on the transport are a [`ClientSettings`], shared with
/// `ws_std::ConnectOptions`: its methods give the full rules.
///
/// Credentials in the URL (`ws://user:password@host/`, percent-encoded) are sent as
/// `Authorization: Basic`, unless an `Authorization` header is given.
#[derive(Debug)]
#[must_use]
pub struct ConnectOptions {
    settings: ClientSettings,
    config: Config,
    #[cfg(feature = "rustls")]
    tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl ConnectOptions {
    /// Options for connecting to `url` (`ws://` or `wss://`, with a host).
    ///
    /// # Errors
    /// [`Error::Usage`] when `url` does not parse ([`UsageError::InvalidUrl`]), is not
    /// `ws://` or `wss://` ([`UsageError::UnsupportedScheme`]) or names no host
    /// ([`UsageError::MissingHost`]). Checked here, before anything is connected.
    pub fn new(url: &str) -> Result<ConnectOptions, Error> {
        Ok(ConnectOptions {
            settings: ClientSettings::new(url)?,
            config: Config::default(),
            #[cfg(feature = "rustls")]
            tls: None,
        })
    }

    /// Offers a subprotocol (several calls: in order of preference).
    pub fn protocol(mut self, name: impl Into<String>) -> ConnectOptions {
        self.settings.add_protocol(name);
        self
    }

    /// Adds a header to the upgrade request (`Authorization`, `Cookie`, `Origin`...).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> ConnectOptions {
        self.settings.add_header(name, value);
        self
    }

    /// The endpoint's configuration: limits, heartbeat, timeouts, extensions.
    pub fn config(mut self, config: Config) -> ConnectOptions {
        self.config = config;
        self
    }

    /// Connects through the proxy at `url`: `http://host:port` (the port defaults to 80)
    /// or `https://` for an HTTP `CONNECT` tunnel, `socks5://`/`socks5h://` for SOCKS5,
    /// `socks4://`/`socks4a://` for SOCKS4 (the rules: [`ClientSettings::set_proxy`]).
    /// TLS (for `wss://`) and the WebSocket handshake then run through the tunnel.
    /// Credentials in the URL (`http://user:password@host:port`, percent-encoded) go to
    /// the proxy.
    ///
    /// A proxy that refuses the tunnel is [`Error::Proxy`] (for an HTTP proxy,
    /// [`TunnelError::Refused`](ws_handshake::TunnelError::Refused) with its response).
    ///
    /// An `https://` proxy's certificate is checked against the proxy's host with the
    /// `tls_config` that also serves `wss://` (with the `rustls` feature;
    /// [`Error::TlsNotEnabled`] without). For `wss://` the server's TLS then runs inside
    /// the proxy's: the proxy sees neither the request nor the frames.
    ///
    /// # Errors
    /// [`Error::Usage`] for a URL that does not parse or names another kind of proxy.
    pub fn proxy(mut self, url: &str) -> Result<ConnectOptions, Error> {
        self.settings.set_proxy(url)?;
        Ok(self)
    }

    /// Connects through the proxy the environment names, as curl does: `https_proxy` for
    /// `wss://`, `http_proxy` for `ws://`, else `all_proxy`; directly to hosts that
    /// `no_proxy` lists and to loopback hosts (the rules:
    /// [`ws_handshake::proxy_env::proxy_for`]). Decided for each connection, so a
    /// redirect to another host is judged again. A proxy given with
    /// [`proxy`](ConnectOptions::proxy) takes precedence.
    ///
    /// The variables are read when connecting. One that names no usable proxy makes
    /// [`connect`](ConnectOptions::connect) fail with [`Error::Usage`] rather than bypass
    /// it.
    pub fn proxy_from_env(mut self) -> ConnectOptions {
        self.settings.use_proxy_from_env();
        self
    }

    /// Follows up to `max` redirects (301, 302, 303, 307, 308 with a `Location`; `http`
    /// and `https` locations lead to `ws` and `wss`). Default: 0, so a redirect is
    /// [`Error::Rejected`] like any other refusal. One more redirect than `max` is
    /// [`Error::TooManyRedirects`], an unusable `Location` [`Error::InvalidRedirect`].
    ///
    /// The credentials (`Authorization` and `Cookie` headers given here, and the URL's
    /// userinfo) are sent only to the origin (scheme, host and port) of the URL given to
    /// [`new`](ConnectOptions::new), never to another one a redirect leads to. Each
    /// redirect opens a new connection (through the proxy, if one is set).
    pub fn follow_redirects(mut self, max: usize) -> ConnectOptions {
        self.settings.set_max_redirects(max);
        self
    }

    /// The TLS configuration for `wss://`, and for an `https://` proxy (default: the
    /// webpki roots, no client certificate).
    #[cfg(feature = "rustls")]
    pub fn tls_config(
        mut self,
        config: std::sync::Arc<tokio_rustls::rustls::ClientConfig>,
    ) -> ConnectOptions {
        self.tls = Some(config);
        self
    }

    /// Opens a TCP connection (through the proxy, if one is set; then TLS for `wss://`),
    /// then runs the handshake, following redirects as allowed.
    pub async fn connect(self) -> Result<(WebSocket<ClientStream>, http::Response<()>), Error> {
        let mut redirects = self.settings.redirects();
        loop {
            let stream = self.open_bounded(redirects.uri()).await?;
            let request = self.settings.request(&redirects);
            let response = match handshake(stream, request, self.config.clone()).await {
                Err(Error::Rejected(response)) => response,
                result => return result,
            };
            match redirects.follow(&response) {
                Ok(Some(_)) => {}
                Ok(None) => return Err(Error::Rejected(response)),
                Err(RedirectError::TooMany { max }) => {
                    return Err(Error::TooManyRedirects { max, response });
                }
                Err(RedirectError::InvalidLocation { location }) => {
                    return Err(Error::InvalidRedirect { location });
                }
            }
        }
    }

    /// Runs the handshake over a transport the caller opened (a Unix socket, a TLS stream
    /// of its own). The proxy and redirect settings do not apply.
    pub async fn connect_on<S: AsyncRead + AsyncWrite + Unpin>(
        self,
        io: S,
    ) -> Result<(WebSocket<S>, http::Response<()>), Error> {
        // No redirect is followed: only the credentials rules apply.
        let request = self.settings.request(&self.settings.redirects());
        handshake(io, request, self.config).await
    }

    /// Prepares a WebSocket on one stream of an HTTP/2 connection (RFC 8441; or HTTP/3,
    /// RFC 9220) that an HTTP client of your own carries, e.g. hyper's HTTP/2 client: the
    /// extended CONNECT request, with these options' subprotocols, headers (credentials
    /// included) and `Config` extensions. The proxy, redirect and TLS settings do not
    /// apply: the HTTP/2 connection is the client library's.
    ///
    /// Send [`ClientUpgrade::request`] with the `:protocol` pseudo-header `websocket`
    /// (hyper: `hyper::ext::Protocol::from_static("websocket")` in its extensions), then
    /// hand the response and the stream to [`ClientUpgrade::into_websocket`].
    ///
    /// # Errors
    /// [`Error::Usage`] when the request cannot be built (e.g. a bad subprotocol name).
    pub fn extended_connect(self) -> Result<ClientUpgrade, Error> {
        let builder = self.settings.request(&self.settings.redirects());
        let connect = Endpoint::extended_connect(&self.config, builder)?;
        Ok(ClientUpgrade {
            connect,
            config: self.config,
        })
    }

    /// [`open`](Self::open) within `Config::handshake_timeout`: the endpoint's own
    /// timer starts only once the transport is there, and a server, proxy or TLS peer
    /// that accepts the connection and then says nothing must not hold the caller for ever.
    async fn open_bounded(&self, uri: &Uri) -> Result<ClientStream, Error> {
        let Some(limit) = self.config.handshake_timeout else {
            return self.open(uri).await;
        };
        tokio::time::timeout(limit, self.open(uri))
            .await
            .unwrap_or_else(|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "opening the connection (TCP, proxy, TLS) outlasted the handshake timeout",
                )
                .into())
            })
    }

    /// The transport to the server at `uri`: TCP, directly or through the proxy, then TLS
    /// for `wss://`.
    async fn open(&self, uri: &Uri) -> Result<ClientStream, Error> {
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            other => {
                let scheme = other.unwrap_or_default().to_owned();
                return Err(UsageError::UnsupportedScheme(scheme).into());
            }
        };
        #[cfg(not(feature = "rustls"))]
        if secure {
            return Err(Error::TlsNotEnabled);
        }
        let stream = match self.proxy_for(uri)? {
            Some(proxy) => {
                let limits = self.config.handshake_limits;
                proxy::tunnel(&proxy, uri, limits, self.tls_settings()).await?
            }
            None => ProxyStream::Tcp(tcp_connect(uri, if secure { 443 } else { 80 }).await?),
        };
        #[cfg(feature = "rustls")]
        if secure {
            let (host, _) = ws_handshake::host_port(uri, 443)?;
            let config = self.tls_settings();
            return Ok(match stream {
                ProxyStream::Tcp(tcp) => {
                    ClientStream::Rustls(Box::new(crate::tls::connect(config, &host, tcp).await?))
                }
                // TLS with the server inside TLS with the proxy.
                ProxyStream::Tls(proxy) => ClientStream::RustlsInTls(Box::new(
                    crate::tls::connect(config, &host, *proxy).await?,
                )),
            });
        }
        Ok(match stream {
            ProxyStream::Tcp(tcp) => ClientStream::Plain(tcp),
            #[cfg(feature = "rustls")]
            ProxyStream::Tls(proxy) => ClientStream::Rustls(proxy),
        })
    }

    /// What TLS (to the server, and to an `https://` proxy) runs with.
    fn tls_settings(&self) -> TlsSettings {
        #[cfg(feature = "rustls")]
        return self
            .tls
            .clone()
            .unwrap_or_else(crate::tls::default_client_config);
        #[cfg(not(feature = "rustls"))]
        TlsSettings
    }

    /// The proxy to reach `uri` through: the one given, else the environment's if asked.
    fn proxy_for(&self, uri: &Uri) -> Result<Option<Uri>, Error> {
        let var = |name: &str| std::env::var(name).ok();
        Ok(self.settings.proxy_for(uri, var)?)
    }
}

/// A client's extended CONNECT (HTTP/2, HTTP/3) waiting for its answer: from
/// [`ConnectOptions::extended_connect`].
#[derive(Debug)]
pub struct ClientUpgrade {
    connect: ExtendedConnect,
    config: Config,
}

impl ClientUpgrade {
    /// The request to send (`CONNECT`, to `https://` for `wss://`), with `:protocol`
    /// `websocket`.
    pub fn request(&self) -> &http::Request<()> {
        self.connect.request()
    }

    /// The socket over the request's stream, once the server answered `response`.
    ///
    /// # Errors
    /// [`Error::Rejected`] for a status other than 2xx (its body is the HTTP library's
    /// to read; the error's is empty), [`Error::Connection`] for an answer that breaks
    /// the handshake's rules or chooses what was not offered.
    pub fn into_websocket<S: AsyncRead + AsyncWrite + Unpin>(
        self,
        response: http::Response<()>,
        io: S,
    ) -> Result<WebSocket<S>, Error> {
        let endpoint = Endpoint::client_upgraded(self.config, &self.connect, response, now())
            .map_err(|error| match error {
                ClientUpgradeError::Rejected(response) => {
                    Error::Rejected(Box::new(response.map(|()| Vec::new())))
                }
                ClientUpgradeError::Failed(error) => Error::Connection {
                    error,
                    close_code: CloseCode::ABNORMAL,
                },
            })?;
        Ok(Upgrading { endpoint }.into_websocket(io))
    }
}

/// A TCP connection to the host and port of `uri`.
pub(crate) async fn tcp_connect(uri: &Uri, default_port: u16) -> Result<TcpStream, Error> {
    let (host, port) = ws_handshake::host_port(uri, default_port)?;
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    // Output is already coalesced into one write per batch: Nagle only adds latency.
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// The client's opening handshake over `io`.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    request: ClientBuilder,
    config: Config,
) -> Result<(WebSocket<S>, http::Response<()>), Error> {
    let endpoint = Endpoint::client(config, request, now())?;
    let mut conn = Conn::new(io, endpoint);
    let response = poll_fn(|cx| {
        loop {
            let event = match std::task::ready!(conn.poll_event(cx, Half::Read)) {
                Ok(Some(event)) => event,
                Ok(None) => return Poll::Ready(Err(Error::Closed)),
                Err(error) => return Poll::Ready(Err(error)),
            };
            match handshake_event(&mut conn, event) {
                Some(Ok(Event::Open(opened))) => {
                    return Poll::Ready(Ok(opened.response.unwrap_or_default()));
                }
                Some(Ok(Event::Rejected(response))) => {
                    return Poll::Ready(Err(Error::Rejected(response)));
                }
                Some(Err(error)) => return Poll::Ready(Err(error)),
                _ => {}
            }
        }
    })
    .await?;
    Ok((WebSocket::from_conn(conn), response))
}
