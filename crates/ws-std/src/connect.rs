//! The client's side of opening a connection: [`connect`] and [`ConnectOptions`], directly
//! or through an HTTP proxy, following redirects if asked.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use http::Uri;
use http::header::{HeaderName, HeaderValue};
use ws_endpoint::Config;
use ws_handshake::redirect::RedirectError;
use ws_handshake::{ClientSettings, host_port};

use crate::proxy::{self, ProxyStream, TlsSettings};
use crate::{ClientStream, Error, WebSocket, client};

/// How long [`ConnectOptions`] waits for each TCP connection by default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a TCP connection to a `ws://host[:port]/path` URL, or with the `rustls` feature
/// a TLS connection to a `wss://` URL (checked against the webpki roots; for other roots
/// or a client certificate, [`ConnectOptions`] with `tls_config`), and runs the client
/// handshake with `config`. The same as `ConnectOptions::new(url)?.config(config).connect()`.
///
/// # Errors
/// As [`ConnectOptions::connect`].
pub fn connect(url: &str, config: Config) -> Result<WebSocket<ClientStream>, Error> {
    ConnectOptions::new(url)?.config(config).connect()
}

/// A client connection being set up: the URL, subprotocols, headers, [`Config`], how to
/// reach the server (an HTTP proxy, a connect timeout, TLS settings), and whether to follow
/// redirects. The same options as `ws_tokio::ConnectOptions`, for blocking I/O.
///
/// ```no_run
/// use http::header::{COOKIE, HeaderValue};
///
/// let ws = ws_std::ConnectOptions::new("ws://user:secret@chat.example/room")?
///     .protocol("chat")
///     .header(COOKIE, HeaderValue::from_static("session=1"))
///     .proxy("http://proxy.example:3128")?
///     .follow_redirects(3)
///     .connect()?;
/// # Ok::<(), ws_std::Error>(())
/// ```
///
/// Credentials in the URL (`ws://user:password@host/`, percent-encoded) are sent as
/// `Authorization: Basic`, unless an `Authorization` header is given. The settings that
/// do not depend on the transport are a [`ClientSettings`], shared with ws-tokio: its
/// methods give the full rules.
///
/// # Timeouts
///
/// Nothing waits forever unless told to: each TCP connection (to the server, or to the
/// proxy) gives up after [`connect_timeout`](ConnectOptions::connect_timeout) (10 s by
/// default; per address when a name resolves to several), the proxy's answer to
/// `CONNECT` must come within `Config::handshake_timeout`, and so must, after it, the
/// TLS and WebSocket handshakes (the endpoint's own timer). Resolving the host name is
/// the system resolver's call and is not bounded here.
#[derive(Debug)]
#[must_use]
pub struct ConnectOptions {
    settings: ClientSettings,
    config: Config,
    connect_timeout: Option<Duration>,
    #[cfg(feature = "rustls")]
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl ConnectOptions {
    /// Options for connecting to `url` (`ws://` or `wss://`, with a host).
    ///
    /// # Errors
    /// [`Error::Usage`] when `url` does not parse ([`UsageError::InvalidUrl`](ws_handshake::UsageError::InvalidUrl)), is not
    /// `ws://` or `wss://` ([`UsageError::UnsupportedScheme`](ws_handshake::UsageError::UnsupportedScheme)) or names no host
    /// ([`UsageError::MissingHost`](ws_handshake::UsageError::MissingHost)). Checked here, before anything is connected.
    pub fn new(url: &str) -> Result<ConnectOptions, Error> {
        Ok(ConnectOptions {
            settings: ClientSettings::new(url)?,
            config: Config::default(),
            connect_timeout: Some(CONNECT_TIMEOUT),
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

    /// The endpoint's configuration: limits, heartbeat, timeouts, extensions. Its
    /// `handshake_timeout` also bounds the wait for the proxy's answer, and its
    /// `handshake_limits` the size of that answer.
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
    /// A proxy that refuses the tunnel is [`Error::Proxy`]: for an HTTP proxy
    /// [`TunnelError::Refused`](crate::TunnelError::Refused), carrying its response, and
    /// for an answer that is not HTTP or passes the handshake limits
    /// [`TunnelError::InvalidResponse`](crate::TunnelError::InvalidResponse); no answer
    /// within `Config::handshake_timeout` is [`Error::Io`] with
    /// [`io::ErrorKind::TimedOut`].
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

    /// How long to wait for each TCP connection (to the server or to the proxy); `None`
    /// leaves it to the system (minutes on Linux). Default: 10 s. An expired wait is
    /// [`Error::Io`] with [`io::ErrorKind::TimedOut`]; a zero duration is refused by the
    /// system call ([`io::ErrorKind::InvalidInput`]).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> ConnectOptions {
        self.connect_timeout = timeout;
        self
    }

    /// The TLS configuration for `wss://`, and for an `https://` proxy (default: the
    /// webpki roots, no client certificate). Only with the `rustls` feature.
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> ConnectOptions {
        self.tls = Some(config);
        self
    }

    /// Opens a TCP connection (through the proxy, if one is set; then TLS for `wss://`),
    /// then runs the handshake, following redirects as allowed.
    ///
    /// # Errors
    /// [`Error::TlsNotEnabled`] for `wss://` without the `rustls` feature (before any
    /// connection is made), [`Error::Io`] when connecting fails (TLS included, and the
    /// timeouts), the proxy's errors (see [`proxy`](ConnectOptions::proxy)),
    /// [`Error::Rejected`] when the server answers with another status than 101 (and it
    /// is no redirect to follow), [`Error::TooManyRedirects`], [`Error::InvalidRedirect`],
    /// [`Error::Connection`] for an invalid answer or the handshake timeout,
    /// [`Error::Usage`] when the request cannot be built.
    pub fn connect(self) -> Result<WebSocket<ClientStream>, Error> {
        let mut redirects = self.settings.redirects();
        loop {
            let stream = self.open(redirects.uri())?;
            let request = self.settings.request(&redirects);
            let response = match client(stream, request, self.config.clone()) {
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

    /// The transport to the server at `uri`: TCP, directly or through the proxy, then TLS
    /// for `wss://`.
    fn open(&self, uri: &Uri) -> Result<ClientStream, Error> {
        let (secure, default_port) = match uri.scheme_str() {
            Some("wss") => (true, 443),
            // `new` and the redirect rules let only ws and wss through.
            _ => (false, 80),
        };
        #[cfg(not(feature = "rustls"))]
        if secure {
            return Err(Error::TlsNotEnabled);
        }
        let (host, port) = host_port(uri, default_port)?;
        let stream = match self.proxy_for(uri)? {
            Some(proxy) => {
                let timeout = self.connect_timeout;
                proxy::tunnel(&proxy, uri, &self.config, timeout, self.tls_settings())?
            }
            None => ProxyStream::Tcp(tcp_connect(&host, port, self.connect_timeout)?),
        };
        // Frames are written whole, so Nagle's algorithm would only delay them.
        stream.tcp().set_nodelay(true)?;
        #[cfg(feature = "rustls")]
        if secure {
            use crate::tls::TlsStream;
            let config = self.tls_settings();
            return Ok(match stream {
                ProxyStream::Tcp(tcp) => {
                    ClientStream::Rustls(Box::new(TlsStream::client(tcp, config, &host)?))
                }
                // TLS with the server inside TLS with the proxy.
                ProxyStream::Tls(proxy) => {
                    ClientStream::RustlsInTls(Box::new(TlsStream::client(*proxy, config, &host)?))
                }
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

/// A TCP connection to `host:port`, each address tried for at most `timeout`.
pub(crate) fn tcp_connect(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
) -> io::Result<TcpStream> {
    let Some(timeout) = timeout else {
        return TcpStream::connect((host, port));
    };
    let mut last_error = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => return Ok(tcp),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolves to no address"),
        )
    }))
}
