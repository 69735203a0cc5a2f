//! The adapter's error type.

use std::io;

use ws_endpoint::{AcceptError, CloseCode, ConnectionError, SendError};

/// Why a WebSocket operation failed.
///
/// Each source of failure has its own variant: the transport ([`Error::Io`]), the
/// protocol or a timer ([`Error::Connection`]), the opening handshake ([`Error::Rejected`],
/// [`Error::Refused`], [`Error::Proxy`]), and the application's own mistakes
/// ([`Error::Send`], [`Error::Usage`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, writing or connecting the transport failed (TLS errors included).
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The connection failed: the peer broke the protocol, a limit was passed, or a
    /// timer expired (handshake, pong, idle, close).
    #[error("connection failed: {error} (close code {close_code})")]
    Connection {
        /// What went wrong, from the endpoint.
        error: ConnectionError,
        /// The close code sent to the peer, or 1006 when none was sent.
        close_code: CloseCode,
    },
    /// (Client) the server answered the upgrade request with a status other than 101
    /// (a redirect, a 401, a 403): the whole response, body included when it had a length.
    #[error("handshake rejected with status {}", .0.status())]
    Rejected(Box<http::Response<Vec<u8>>>),
    /// (Server) the request was answered with an error response: the accept callback
    /// rejected it, or it was a plain HTTP request rather than an upgrade.
    #[error("the request was refused with status {0}")]
    Refused(http::StatusCode),
    /// (Server) the request given to [`upgrade`](crate::upgrade) is not a valid
    /// WebSocket upgrade; `to_response()` is the error response to send.
    #[error("bad upgrade request: {0}")]
    BadRequest(#[from] ws_handshake::RequestError),
    /// (Server) the request given to [`upgrade`](crate::upgrade) is plain HTTP, without
    /// `Upgrade: websocket`.
    #[error("not a WebSocket upgrade request")]
    NotUpgrade,
    /// The connection is closed: nothing more can be sent or flushed.
    #[error("the connection is closed")]
    Closed,
    /// A send that cannot be made (a close already sent, a misused streamed message, a
    /// control frame too long).
    #[error("send: {0}")]
    Send(SendError),
    /// (Server) the accept callback's answer is invalid, e.g. a header value with a newline.
    #[error("accept: {0}")]
    Accept(#[from] AcceptError),
    /// (Client) the request cannot be built: a URL that does not parse, not `ws://` or
    /// `wss://`, no host, a bad subprotocol name, a proxy URL of an unsupported kind.
    #[error("request: {0}")]
    Usage(#[from] ws_handshake::UsageError),
    /// (Client) the proxy refused to open the tunnel (an HTTP proxy's non-2xx response,
    /// whole; a SOCKS proxy's refusal), broke its protocol, or closed the connection.
    #[error(transparent)]
    Proxy(#[from] ws_handshake::TunnelError),
    /// (Client) [`ConnectOptions::follow_redirects`](crate::ConnectOptions::follow_redirects)
    /// allowed `max` redirects and the server sent one more: that redirect response.
    #[error("more than {max} redirects")]
    TooManyRedirects {
        /// The limit that was set.
        max: usize,
        /// The redirect that was not followed.
        response: Box<http::Response<Vec<u8>>>,
    },
    /// (Client) a redirect's `Location` cannot be followed: not a `ws`, `wss`, `http` or
    /// `https` URL, or not a valid one.
    #[error("cannot follow the redirect to {location:?}")]
    InvalidRedirect {
        /// The `Location` header's value.
        location: String,
    },
    /// (Client) `tls::native_roots_config` (the `native-roots` feature) found no usable
    /// root certificate in the platform's store: why, as the loader reported it.
    #[error("no usable root certificate in the platform's store: {0}")]
    NoNativeRoots(String),
    /// (Client) a `wss://` URL or an `https://` proxy, but the crate was built without the
    /// `rustls` feature.
    #[error("wss:// and https:// proxies need the `rustls` feature")]
    TlsNotEnabled,
    /// [`ping`](crate::WebSocket::ping) gave up: more than `Config::max_queued_events`
    /// messages arrived before the pong. They are kept for `recv`.
    #[error("too many messages arrived while waiting for the pong")]
    PingOverrun,
}
