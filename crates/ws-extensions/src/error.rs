//! The two ways things fail: at negotiation (the handshake fails) and per message (the
//! connection is closed with [`MessageError::close_code`]).

use ws_frame::{CloseCode, RsvBits};
use ws_handshake::grammar::GrammarError;

/// A server's `Sec-WebSocket-Extensions` answer that the client must refuse. The client
/// fails the connection (RFC 6455 §4.1: it must not go on with an extension it cannot
/// honour); no close frame is involved, as the connection never opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The header breaks the list grammar of RFC 6455 §9.1.
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidHeader(#[from] GrammarError),
    /// The server accepted an extension the client did not offer.
    #[error("the server accepted extension {0:?}, which was not offered")]
    NotOffered(String),
    /// The server accepted the same extension twice.
    #[error("the server accepted extension {0:?} twice")]
    DuplicateExtension(String),
    /// Two accepted extensions claim the same RSV bit; the second one is named.
    #[error("extension {0:?} claims an RSV bit another accepted extension already uses")]
    RsvConflict(String),
    /// A parameter appears twice in one extension.
    #[error("parameter {0:?} appears twice")]
    DuplicateParameter(String),
    /// A parameter the extension does not define.
    #[error("unknown parameter {0:?}")]
    UnknownParameter(String),
    /// A parameter value that is missing, not allowed, malformed or out of range (window
    /// bits must be 8 to 15).
    #[error("invalid value {value:?} for parameter {param:?}")]
    InvalidValue {
        /// The parameter's name.
        param: String,
        /// The value as received, `None` if it had none.
        value: Option<String>,
    },
    /// A parameter, or a value, that none of the client's offers allows the server to send
    /// (e.g. `client_max_window_bits` when the client did not offer it, or a window larger
    /// than the client asked for).
    #[error("parameter {0:?} was not allowed by any offer")]
    ParameterNotOffered(String),
    /// A parameter the client's offers asked for and the answer lacks (e.g. the client
    /// required `server_no_context_takeover` in every offer).
    #[error("parameter {0:?} was required by every offer but is missing")]
    ParameterMissing(String),
}

/// A message that cannot be transformed; the connection must be closed with
/// [`close_code`](MessageError::close_code).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The decoded message would exceed the caller's size limit.
    #[error("message exceeds the size limit once decompressed")]
    TooBig,
    /// The compressed data is corrupt (not a valid deflate stream).
    #[error("corrupt compressed data: {0}")]
    Corrupt(String),
    /// The message's first frame carries RSV bits no negotiated extension owns. The frame
    /// decoder normally rejects such frames first (`Decoder::with_allowed_rsv`).
    #[error("RSV bits {0:?} are not owned by any negotiated extension")]
    UnexpectedRsv(RsvBits),
    /// Our own compressor failed; not caused by the peer.
    #[error("compression failed: {0}")]
    Compress(String),
}

impl MessageError {
    /// The close code to fail the connection with.
    ///
    /// - [`TooBig`](Self::TooBig): 1009 (message too big).
    /// - [`Corrupt`](Self::Corrupt): 1007 (invalid frame payload data): the message's data
    ///   is inconsistent with how its frame says it is encoded, the nearest fit among the
    ///   codes of RFC 6455 §7.4.1 (RFC 7692 names none).
    /// - [`UnexpectedRsv`](Self::UnexpectedRsv): 1002 (protocol error), as RFC 6455 §5.2
    ///   requires for RSV bits without a negotiated meaning.
    /// - [`Compress`](Self::Compress): 1011 (internal error).
    pub fn close_code(&self) -> CloseCode {
        match self {
            MessageError::TooBig => CloseCode::MESSAGE_TOO_BIG,
            MessageError::Corrupt(_) => CloseCode::INVALID_PAYLOAD,
            MessageError::UnexpectedRsv(_) => CloseCode::PROTOCOL_ERROR,
            MessageError::Compress(_) => CloseCode::INTERNAL_ERROR,
        }
    }
}
