//! Messages as the application sends and receives them.

use bytes::Bytes;
use ws_endpoint::{CloseCode, MessageKind, PreparedMessage, Utf8Bytes};

/// A WebSocket message, received from [`recv`](crate::WebSocket::recv) or given to
/// [`send`](crate::WebSocket::send).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// A text message (valid UTF-8). Received text shares the read buffer's memory.
    Text(Utf8Bytes),
    /// A binary message. Received data shares the read buffer's memory.
    Binary(Bytes),
    /// A ping. Received pings are answered by the endpoint; sent ones with a payload
    /// report their round-trip time in the matching pong.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// One fragment of a streamed message. Received only with
    /// `Config::streaming_receive`; sent to stream a large message piece by piece (the
    /// first fragment starts it, the one with `last` ends it).
    Fragment {
        /// Text or binary (the same for every fragment of a message).
        kind: MessageKind,
        /// The fragment's payload. Text fragments may split a character.
        data: Bytes,
        /// Whether this fragment ends the message.
        last: bool,
    },
    /// A close frame: received as the last message of a clean close, sent to start the
    /// close handshake (as [`close`](crate::WebSocket::close) does).
    Close(CloseFrame),
    /// A text or binary message prepared for many connections: compressed once per kind
    /// of connection, not once per connection (a broadcast). Only sent, never received.
    Prepared(PreparedMessage),
}

/// The code and reason of a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close code (1005 when the peer's close frame carried none).
    pub code: CloseCode,
    /// The reason, at most 123 bytes.
    pub reason: String,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Message {
        Message::Binary(data.into())
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// Whether this is a text or binary message (an application message, as opposed to
    /// a control frame or a fragment).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }
}
