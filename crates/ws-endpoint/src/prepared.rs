//! A message encoded once and sent on many connections: a broadcast.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use ws_extensions::{MessageError, StandaloneKey};
use ws_frame::RsvBits;

use crate::{MessageKind, Utf8Bytes};

/// The most encodings a prepared message keeps. Connections differ only in what they
/// negotiated (e.g. the window bits a client asked for), so a few cover a server; a
/// message sent with more variants than this encodes the rest per send.
const MAX_ENCODINGS: usize = 8;

/// A text or binary message to send on many connections, encoded once per kind of
/// connection rather than once per connection.
///
/// With permessage-deflate, [`Endpoint::send_prepared`](crate::Endpoint::send_prepared)
/// compresses the message the first time it meets a connection with given parameters
/// (compression level, window bits, minimum size) and reuses that payload on every other
/// connection with the same ones: a chat room or a market feed compresses each message
/// once, not once per subscriber. A server then queues the shared payload without copying
/// it (one over 1 KiB; smaller ones join the write buffer, as any small frame does); a
/// client, which must mask, copies it. Without extensions nothing is encoded and the
/// payload is shared as it is.
///
/// On a connection with context takeover, a prepared message is compressed without the
/// connection's history, and the connection's compressor starts afresh after it: the next
/// messages compress a little worse until the window fills again. Connections whose
/// extensions cannot encode a message on their own (a custom extension without
/// [`Codec::standalone_params`](ws_extensions::Codec::standalone_params)) encode it as
/// any other message.
///
/// Cloning is cheap (a reference count); clones share the encodings.
///
/// ```
/// use ws_endpoint::{Endpoint, PreparedMessage};
///
/// fn publish(subscribers: &mut [Endpoint], price: f64) -> Result<(), ws_endpoint::SendError> {
///     let update = PreparedMessage::text(format!(r#"{{"symbol":"ABC","price":{price}}}"#));
///     for subscriber in subscribers {
///         subscriber.send_prepared(&update)?;
///     }
///     Ok(())
/// }
/// # publish(&mut [], 101.25)?;
/// # Ok::<(), ws_endpoint::SendError>(())
/// ```
#[derive(Clone)]
pub struct PreparedMessage(Arc<Prepared>);

struct Prepared {
    kind: MessageKind,
    payload: Bytes,
    compress: bool,
    /// The payloads encoded so far, one per kind of connection met.
    encodings: Mutex<Vec<(StandaloneKey, Encoded)>>,
}

/// A payload as one kind of connection sends it: the RSV bits of its frame and its bytes.
#[derive(Clone)]
pub(crate) struct Encoded {
    pub(crate) rsv: RsvBits,
    pub(crate) payload: Bytes,
}

impl PreparedMessage {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> PreparedMessage {
        PreparedMessage::new(MessageKind::Text, text.into().into(), true)
    }

    /// A binary message, compressed where permessage-deflate was negotiated and the
    /// message is at least its minimum size.
    pub fn binary(data: impl Into<Bytes>) -> PreparedMessage {
        PreparedMessage::new(MessageKind::Binary, data.into(), true)
    }

    /// A binary message never compressed, for data that is already compressed (as
    /// [`Endpoint::send_binary_uncompressed`](crate::Endpoint::send_binary_uncompressed)).
    pub fn binary_uncompressed(data: impl Into<Bytes>) -> PreparedMessage {
        PreparedMessage::new(MessageKind::Binary, data.into(), false)
    }

    fn new(kind: MessageKind, payload: Bytes, compress: bool) -> PreparedMessage {
        PreparedMessage(Arc::new(Prepared {
            kind,
            payload,
            compress,
            encodings: Mutex::new(Vec::new()),
        }))
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.0.kind
    }

    /// The message as given, before any encoding.
    pub fn payload(&self) -> &Bytes {
        &self.0.payload
    }

    /// Whether the message may be compressed.
    pub(crate) fn compress(&self) -> bool {
        self.0.compress
    }

    /// The payload as connections with `key` send it, encoded by `encode` (appending the
    /// payload, returning its RSV bits) the first time such a connection asks.
    pub(crate) fn encoded_for(
        &self,
        key: &StandaloneKey,
        encode: impl FnOnce(&[u8], bool, &mut Vec<u8>) -> Result<RsvBits, MessageError>,
    ) -> Result<Encoded, MessageError> {
        // Held while encoding, so that connections on other threads asking for the same
        // key wait for this encoding instead of compressing the message again. A panic
        // elsewhere while it was held leaves nothing half-written: entries are pushed whole.
        let mut encodings = self
            .0
            .encodings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, encoded)) = encodings.iter().find(|(known, _)| known == key) {
            return Ok(encoded.clone());
        }
        let mut out = Vec::new();
        let rsv = encode(&self.0.payload, self.0.compress, &mut out)?;
        let encoded = Encoded {
            rsv,
            // Untransformed: the caller's bytes, shared rather than copied.
            payload: if rsv.is_empty() {
                self.0.payload.clone()
            } else {
                out.into()
            },
        };
        if encodings.len() < MAX_ENCODINGS {
            encodings.push((key.clone(), encoded.clone()));
        }
        Ok(encoded)
    }
}

impl fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("kind", &self.0.kind)
            .field("len", &self.0.payload.len())
            .field("compress", &self.0.compress)
            .finish_non_exhaustive()
    }
}

/// Equal when they would send the same message: same kind, payload and compression
/// choice (the encodings kept do not count).
impl PartialEq for PreparedMessage {
    fn eq(&self, other: &PreparedMessage) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.kind == other.0.kind
                && self.0.compress == other.0.compress
                && self.0.payload == other.0.payload)
    }
}

impl Eq for PreparedMessage {}
