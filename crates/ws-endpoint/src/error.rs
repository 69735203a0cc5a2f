//! The endpoint's errors: why a connection failed (the peer, or a timer), apart from what
//! the application asked for that cannot be done.

use ws_extensions::{MessageError, NegotiationError};
use ws_frame::{CloseCode, DecodeError};
use ws_handshake::{RequestError, ResponseError, UsageError};

/// Why the connection failed: something the peer sent (or did not send in time).
///
/// Reported as [`Event::Error`](crate::Event::Error), followed by
/// [`Event::Closed`](crate::Event::Closed). [`ConnectionError::close_code`] is the one
/// place that maps each error to the close code sent to the peer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// A frame broke RFC 6455 §5 or the frame size limit (1002, or 1009 for the size).
    #[error("invalid frame: {0}")]
    Frame(#[from] DecodeError),
    /// A continuation frame arrived with no message in progress (1002).
    #[error("continuation frame without a message in progress")]
    UnexpectedContinuation,
    /// A text or binary frame started a new message inside an unfinished one (1002).
    #[error("new data frame inside an unfinished fragmented message")]
    ExpectedContinuation,
    /// A continuation or control frame carries RSV bits: negotiated extensions use them
    /// only on a message's first frame (RFC 7692 §6.1) (1002).
    #[error("RSV bits on a continuation or control frame")]
    RsvNotAllowed,
    /// A message could not be decoded by a negotiated extension, or our own compressor
    /// failed: [`MessageError::close_code`] (1009 too big once decompressed, 1007 corrupt
    /// compressed data, 1002 unexpected RSV bits, 1011 compressor failure).
    #[error("extension: {0}")]
    Extension(#[from] MessageError),
    /// A text message, or a close reason, is not valid UTF-8 (1007).
    #[error("invalid UTF-8 in a text message")]
    InvalidUtf8,
    /// A close frame's reason is not valid UTF-8 (1007).
    #[error("invalid UTF-8 in a close reason")]
    InvalidCloseReason,
    /// A close frame carried a code that must not appear on the wire (1002).
    #[error("close frame with invalid code {0}")]
    InvalidCloseCode(u16),
    /// A close frame with a 1-byte payload: too short for a code (1002).
    #[error("close frame with a 1-byte payload")]
    InvalidClosePayload,
    /// A message grew past the configured size limit (1009).
    #[error("message longer than the limit of {max} bytes")]
    MessageTooBig {
        /// The configured limit, `Config::max_message_size`.
        max: u64,
    },
    /// A message came in more fragments than the configured limit (1009).
    #[error("message in more than {max} fragments")]
    TooManyFragments {
        /// The configured limit, `Config::max_fragments`.
        max: usize,
    },
    /// (Server) the opening request was refused; the error response was sent. No close code.
    #[error("bad handshake request: {0}")]
    BadRequest(#[source] RequestError),
    /// (Client) the server's response broke RFC 6455 §4. No close code.
    #[error("bad handshake response: {0}")]
    BadResponse(#[source] ResponseError),
    /// (Client) the server's `Sec-WebSocket-Extensions` answer cannot be honoured (RFC 6455
    /// §4.1). No close code.
    #[error("unusable extension negotiation: {0}")]
    Negotiation(#[source] NegotiationError),
    /// The opening handshake did not complete within `Config::handshake_timeout`. No close code.
    #[error("opening handshake timed out")]
    HandshakeTimeout,
    /// No pong answered a heartbeat ping within `Config::pong_timeout` (1011).
    #[error("no pong within the pong timeout")]
    PongTimeout,
    /// Nothing was received for `Config::idle_timeout` (1001).
    #[error("connection idle for longer than the idle timeout")]
    IdleTimeout,
    /// The peer did not answer our close frame within `Config::close_timeout`. No close
    /// code (ours was already sent).
    #[error("the peer did not complete the close handshake in time")]
    CloseTimeout,
    /// The transport ended before the close handshake (reported as 1006; nothing sent).
    #[error("the transport closed before the close handshake")]
    UnexpectedEof,
}

impl ConnectionError {
    /// The close code this error makes the endpoint send, or `None` when no close frame
    /// is sent (handshake phase, transport gone, close already sent).
    ///
    /// This is the single mapping from failure to wire code.
    pub fn close_code(&self) -> Option<CloseCode> {
        use ConnectionError::*;
        Some(match self {
            Frame(e) => e.close_code(),
            UnexpectedContinuation
            | ExpectedContinuation
            | InvalidCloseCode(_)
            | InvalidClosePayload
            | RsvNotAllowed => CloseCode::PROTOCOL_ERROR,
            Extension(e) => e.close_code(),
            InvalidUtf8 | InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            MessageTooBig { .. } | TooManyFragments { .. } => CloseCode::MESSAGE_TOO_BIG,
            PongTimeout => CloseCode::INTERNAL_ERROR,
            IdleTimeout => CloseCode::GOING_AWAY,
            BadRequest(_) | BadResponse(_) | Negotiation(_) | HandshakeTimeout | CloseTimeout
            | UnexpectedEof => {
                return None;
            }
        })
    }
}

/// A command the application gave that cannot be carried out; nothing was queued.
///
/// [`SendError::BufferFull`] is backpressure (try again after the transport drained);
/// the others are misuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The outgoing queue holds `Config::max_queued_bytes` already: write out what is
    /// queued ([`Endpoint::advance_transmit`](crate::Endpoint::advance_transmit)) first.
    #[error("outgoing buffer full")]
    BufferFull,
    /// A close frame was sent or the connection failed: no more data may be sent.
    #[error("the connection is closing or closed")]
    Closed,
    /// A whole message was sent while a streamed message is unfinished.
    #[error("a streamed message is in progress")]
    MessageInProgress,
    /// A fragment of one kind continued a streamed message of the other kind.
    #[error("fragment kind differs from the streamed message's kind")]
    KindMismatch,
    /// The fragments of a streamed text message are not valid UTF-8.
    #[error("streamed text is not valid UTF-8")]
    InvalidUtf8,
    /// A ping or pong payload over 125 bytes.
    #[error("control frame payload longer than 125 bytes")]
    ControlTooLong,
    /// A close reason over 123 bytes.
    #[error("close reason longer than 123 bytes")]
    ReasonTooLong,
    /// A close code that may not be sent (e.g. 1005, 1006, 1015, below 1000).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(CloseCode),
}

/// A server's answer to the opening request could not be given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// There is no request waiting for an answer (client, already answered, or none yet).
    #[error("no request is waiting for an answer")]
    NoPendingRequest,
    /// The acceptance is invalid, e.g. an extension the client did not offer.
    #[error("invalid acceptance: {0}")]
    Usage(#[from] UsageError),
}

/// A client's extended CONNECT (HTTP/2, HTTP/3) did not open a WebSocket: from
/// [`Endpoint::client_upgraded`](crate::Endpoint::client_upgraded).
// Not `non_exhaustive`: refused or failed is the whole choice.
#[derive(Debug, thiserror::Error)]
pub enum ClientUpgradeError {
    /// The server answered with a status other than 2xx (a 401, a 403, a 404...): the
    /// response's head (its body is the HTTP library's to read).
    #[error("the server refused the extended CONNECT with status {}", .0.status())]
    Rejected(Box<http::Response<()>>),
    /// The answer breaks the handshake's rules or cannot be honoured.
    #[error(transparent)]
    Failed(#[from] ConnectionError),
}
