//! What the endpoint reports to the application.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use ws_frame::CloseCode;

use crate::ConnectionError;

/// Something that happened on the connection, from [`Endpoint::poll_event`](crate::Endpoint::poll_event).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// (Server) a valid upgrade request arrived: answer it with
    /// [`Endpoint::accept`](crate::Endpoint::accept),
    /// [`Endpoint::accept_with`](crate::Endpoint::accept_with) or
    /// [`Endpoint::reject`](crate::Endpoint::reject). Not reported with `Config::auto_accept`.
    UpgradeRequest(Box<ws_handshake::UpgradeRequest>),
    /// (Server) a plain HTTP request, not an upgrade: answer it with
    /// [`Endpoint::reject`](crate::Endpoint::reject). Any body is not read.
    PlainRequest(Box<http::Request<()>>),
    /// (Client) the server answered with something other than 101 (a redirect, a 401).
    /// The connection is then closed.
    Rejected(Box<http::Response<Vec<u8>>>),
    /// The connection is open: messages flow.
    Open(Box<Opened>),
    /// A whole text message, valid UTF-8.
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// With `Config::streaming_receive`: one fragment of a data message. The fragments of a
    /// text message together are valid UTF-8; one fragment may end inside a character.
    Fragment {
        /// Whether the message is text or binary.
        kind: MessageKind,
        /// The fragment's payload.
        data: Bytes,
        /// Whether this is the message's last fragment.
        last: bool,
    },
    /// A ping arrived; the pong is sent automatically.
    Ping(Bytes),
    /// A pong arrived.
    Pong {
        /// Its payload.
        payload: Bytes,
        /// The round-trip time, when the pong answers a ping this endpoint sent (with a
        /// non-empty payload, so that it can be matched).
        rtt: Option<Duration>,
    },
    /// The connection failed; [`Event::Closed`] follows.
    Error(ConnectionError),
    /// The connection is closed (the close handshake completed, or the connection failed).
    /// The last event.
    Closed(CloseInfo),
}

/// How the connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseInfo {
    /// For a clean close, the code in the peer's close frame (1005 if it had none). For a
    /// failure, the code this endpoint sent, or 1006 when none was sent.
    pub code: CloseCode,
    /// The reason that came with `code`, if any.
    pub reason: String,
    /// Who sent the first close frame (or failed the connection).
    pub initiator: Initiator,
    /// Whether both close frames were exchanged.
    pub clean: bool,
}

/// Which side started the closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// This endpoint (its application, a timeout, or a fault it detected in the peer).
    Local,
    /// The peer.
    Remote,
}

/// The outcome of the opening handshake.
#[derive(Debug)]
#[non_exhaustive]
pub struct Opened {
    /// The subprotocol agreed on, if any.
    pub protocol: Option<String>,
    /// The extensions agreed on, as `Sec-WebSocket-Extensions` elements.
    pub extensions: Vec<String>,
    /// (Server) the client's request.
    pub request: Option<http::Request<()>>,
    /// (Client) the server's 101 response.
    pub response: Option<http::Response<()>>,
}

/// The kind of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
}

/// Bytes known to be valid UTF-8: a text message's payload, shared with the receive
/// buffer (not copied).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes that the endpoint validated.
    pub(crate) fn new_validated(bytes: Bytes) -> Utf8Bytes {
        Utf8Bytes(bytes)
    }

    /// The text.
    ///
    /// The crate forbids `unsafe`, so this checks the UTF-8 again (a fast, vectorised pass
    /// in `std`); call it once and keep the `&str`.
    pub fn as_str(&self) -> &str {
        // The bytes were validated when received, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying `Bytes`, e.g. to echo the message without copying it.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Utf8Bytes {
        Utf8Bytes(Bytes::from(s))
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Utf8Bytes {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(s: Utf8Bytes) -> Bytes {
        s.0
    }
}
