//! The one error type of the adapter.

use ws_endpoint::{AcceptError, CloseCode, ConnectionError, SendError};

/// Why a [`WebSocket`](crate::WebSocket) operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading from or writing to the transport failed (including a peer that reset it, and
    /// TLS errors such as an untrusted certificate).
    #[error("transport: {0}")]
    Io(#[from] std::io::Error),
    /// (Client) a `wss://` URL or an `https://` proxy, but the crate was built without the
    /// `rustls` feature.
    #[error("wss:// and https:// proxies need the `rustls` feature")]
    TlsNotEnabled,
    /// (Client) the request cannot be built: a URL that does not parse, not `ws://` or
    /// `wss://`, no host, a bad subprotocol name or header value, a proxy URL of an
    /// unsupported kind.
    #[error("request: {0}")]
    Usage(#[from] ws_handshake::UsageError),
    /// (Client) the server answered the upgrade with this non-101 response (a redirect not
    /// followed, a 401, a 403): the whole response, body included when it had a length.
    #[error("the server refused the upgrade with status {}", .0.status())]
    Rejected(Box<http::Response<Vec<u8>>>),
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
    /// (Server) the request was answered with an error response: the
    /// [`accept_with`](crate::accept_with) callback rejected it, or it was a plain HTTP
    /// request rather than an upgrade.
    #[error("the request was refused with status {0}")]
    Refused(http::StatusCode),
    /// (Server) the callback's acceptance was invalid.
    #[error("invalid acceptance: {0}")]
    Accept(#[from] AcceptError),
    /// The connection failed: the peer broke the protocol, a limit was passed, or a
    /// timer expired (handshake, pong, idle, close).
    #[error("connection failed: {error} (close code {close_code})")]
    Connection {
        /// What went wrong, from the endpoint.
        error: ConnectionError,
        /// The close code sent to the peer, or 1006 when none was sent.
        close_code: CloseCode,
    },
    /// A send was refused: the connection is closing, or misuse (e.g. a ping payload over
    /// 125 bytes).
    #[error("cannot send: {0}")]
    Send(#[from] SendError),
    /// The connection is closed; nothing more can be received or sent.
    #[error("the connection is closed")]
    Closed,
}
