//! TLS with rustls (the `rustls` feature): `wss://` for clients, TLS streams for servers.
//!
//! The configuration types are rustls' own (`rustls::ClientConfig`, `rustls::ServerConfig`,
//! re-exported as [`rustls`]), the same ones ws-tokio takes.

use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, ConnectionCommon, RootCertStore, ServerConfig,
    ServerConnection, SideData, StreamOwned,
};
use ws_endpoint::Config;

use crate::{ClientStream, ConnectOptions, Error, Transport, WebSocket};

pub use rustls;

/// TLS over a [`TcpStream`] (or over another [`Transport`], such as the TLS of an
/// `https://` proxy): rustls' blocking [`StreamOwned`], made a [`Transport`].
///
/// The read timeout is set on the socket underneath, so the endpoint's timers (handshake,
/// heartbeat, close) run through TLS as they do over plain TCP; the TLS handshake itself
/// happens in the first reads and writes, within the WebSocket handshake's timeout.
/// Vectored writes are passed to rustls whole, so a frame's header and payload leave in
/// one TLS record.
#[derive(Debug)]
pub struct TlsStream<C: DerefMut, T: Read + Write = TcpStream> {
    inner: StreamOwned<C, T>,
}

/// A client's TLS stream (`wss://`).
pub type ClientTlsStream = TlsStream<ClientConnection>;

/// A client's TLS with the server inside TLS with an `https://` proxy.
pub type ClientTlsInTlsStream = TlsStream<ClientConnection, ClientTlsStream>;

/// A server's TLS stream: accept the WebSocket on it with [`accept`](crate::accept) or
/// [`accept_with`](crate::accept_with).
pub type ServerTlsStream = TlsStream<ServerConnection>;

impl TlsStream<ServerConnection> {
    /// The server side of TLS on an accepted `tcp` connection, with `config` (the
    /// certificate chain and key).
    ///
    /// ```no_run
    /// # fn server_config() -> std::sync::Arc<ws_std::tls::rustls::ServerConfig> { todo!() }
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9443")?;
    /// let (tcp, _) = listener.accept()?;
    /// let tls = ws_std::tls::TlsStream::server(tcp, server_config())?;
    /// let ws = ws_std::accept(tls, ws_endpoint::Config::default())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] when rustls refuses `config`.
    pub fn server(tcp: TcpStream, config: Arc<ServerConfig>) -> Result<Self, Error> {
        let conn = ServerConnection::new(config).map_err(invalid_input)?;
        Ok(TlsStream {
            inner: StreamOwned::new(conn, tcp),
        })
    }
}

impl<T: Transport> TlsStream<ClientConnection, T> {
    /// The client side of TLS on `io` (a `TcpStream`, or the TLS stream of an `https://`
    /// proxy's tunnel), checking the server's certificate against `host` (a DNS name or
    /// an IP address) with `config`.
    ///
    /// # Errors
    /// [`Error::Io`] when `host` is not a valid server name or rustls refuses `config`.
    pub fn client(io: T, config: Arc<ClientConfig>, host: &str) -> Result<Self, Error> {
        let name = ServerName::try_from(host.to_owned()).map_err(invalid_input)?;
        let conn = ClientConnection::new(config, name).map_err(invalid_input)?;
        Ok(TlsStream {
            inner: StreamOwned::new(conn, io),
        })
    }
}

impl<C: DerefMut, T: Read + Write> TlsStream<C, T> {
    /// The rustls stream: the TLS connection (`conn`: the negotiated protocol, the peer's
    /// certificates) and the transport underneath (`sock`).
    pub fn get_ref(&self) -> &StreamOwned<C, T> {
        &self.inner
    }
}

impl<C, S, T> Read for TlsStream<C, T>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
    T: Read + Write,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<C, S, T> Write for TlsStream<C, T>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
    T: Read + Write,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        // `StreamOwned` would write the slices one by one, a TLS record each.
        rustls::Stream::new(&mut self.inner.conn, &mut self.inner.sock).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<C, S, T> Transport for TlsStream<C, T>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
    T: Transport,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.sock.set_read_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        // close_notify first, so the peer knows the end of the stream is not a truncation.
        self.inner.conn.send_close_notify();
        while self.inner.conn.wants_write() {
            self.inner.conn.write_tls(&mut self.inner.sock)?;
        }
        Transport::shutdown(&mut self.inner.sock)
    }
}

/// Connects to a `wss://` (or `ws://`) URL as [`connect`](crate::connect) does, checking
/// the server's certificate with `tls` (custom roots, a client certificate) rather than
/// the webpki roots. The same as `ConnectOptions::new(url)?.config(config)
/// .tls_config(tls).connect()`.
///
/// # Errors
/// As [`connect`](crate::connect); TLS failures (an untrusted certificate) are
/// [`Error::Io`].
pub fn connect(
    url: &str,
    config: Config,
    tls: Arc<ClientConfig>,
) -> Result<WebSocket<ClientStream>, Error> {
    ConnectOptions::new(url)?
        .config(config)
        .tls_config(tls)
        .connect()
}

/// The client configuration [`connect`](crate::connect) uses by default: the Mozilla roots from
/// `webpki-roots`, no client certificate. Built once per process.
pub(crate) fn default_client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            Arc::new(
                ClientConfig::builder_with_provider(ring_provider())
                    .with_safe_default_protocol_versions()
                    .expect("ring supports TLS 1.2 and 1.3")
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        })
        .clone()
}

fn invalid_input(error: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error)
}

/// The crypto provider this crate's features enable, named rather than taken from the
/// process default: `ClientConfig::builder()` panics when a program links a second
/// provider (aws-lc-rs through another dependency) and installed none as the default.
fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
