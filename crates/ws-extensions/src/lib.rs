//! WebSocket extensions (RFC 6455 §9): negotiation, a stack of negotiated extensions per
//! connection, and permessage-deflate (RFC 7692) with bounded decompression.
//!
//! No I/O: the connection layer passes in header values and frame payloads, and gets back
//! header values, payloads and RSV bits. A client and a server, in memory:
//!
//! ```
//! use ws_extensions::{Extensions, PerMessageDeflate};
//! use ws_frame::RsvBits;
//!
//! let config = Extensions::new().with(PerMessageDeflate::new());
//!
//! // The client offers; each string is one Sec-WebSocket-Extensions element.
//! let offers = config.client_offers();
//! assert_eq!(offers, ["permessage-deflate; client_max_window_bits"]);
//!
//! // The server picks from the request's header values and answers.
//! let mut server = config.server_accept(&offers);
//! let answer: Vec<&str> = server.agreed().collect();
//! assert_eq!(answer, ["permessage-deflate"]);
//!
//! // The client checks the answer.
//! let mut client = config.client_confirm(&answer)?;
//! assert_eq!(client.rsv_bits(), RsvBits::RSV1);
//!
//! // A message, compressed by the client...
//! let text = "a message that repeats, a message that repeats, a message that repeats";
//! let mut wire = Vec::new();
//! let rsv = client.encode_message(text.as_bytes(), true, &mut wire)?;
//! assert_eq!(rsv, RsvBits::RSV1);
//! assert!(wire.len() < text.len());
//!
//! // ...and decompressed by the server, under a 1 MiB message limit.
//! let mut received = Vec::new();
//! server.decode_message(rsv, &wire, &mut received, 1 << 20)?;
//! assert_eq!(received, text.as_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a connection uses it
//!
//! The configuration is an [`Extensions`] list (shared by all connections); each
//! connection gets a [`Negotiated`] stack from the handshake.
//!
//! - Client: pass each of [`Extensions::client_offers`] to
//!   `ws_handshake::ClientBuilder::extension`; when the server accepts, pass
//!   `Accepted::extensions` to [`Extensions::client_confirm`]. An error fails the
//!   handshake.
//! - Server: pass `UpgradeRequest::extensions()` to [`Extensions::server_accept`], and each
//!   of [`Negotiated::agreed`] to `ws_handshake::Accept::extension`.
//! - Frame decoder: `Decoder::with_allowed_rsv(negotiated.rsv_bits())`, so any other RSV
//!   bit stays a protocol error (1002). RSV bits on continuation frames are the
//!   connection's to reject (1002): every extension here works per message.
//! - Incoming data message: [`Negotiated::begin_incoming`] with its first frame's RSV
//!   bits, then [`Negotiated::decode`] for each frame's payload (the last with `fin`),
//!   with the message size limit; control frames in between do not go through it. Or
//!   [`Negotiated::decode_message`] for a single-frame message.
//! - Outgoing data message: [`Negotiated::encode_message`] for a whole message (returns
//!   the RSV bits for its frame); to stream, [`Negotiated::begin_outgoing`] (RSV bits for
//!   the first frame only) then [`Negotiated::encode`] per fragment, the last with `fin`.
//! - Errors: a [`MessageError`] closes the connection with
//!   [`MessageError::close_code`] (1009 over the limit, 1007 for corrupt compressed data).
//!
//! Design notes, memory per connection and defaults: `docs/extensions.md`.

#![forbid(unsafe_code)]

mod deflate;
mod error;
mod stack;

pub use deflate::{DeflateParams, PerMessageDeflate};
pub use error::{MessageError, NegotiationError};
pub use stack::{Codec, Extension, Extensions, Negotiated, StandaloneKey};

/// The most a decompressor inflates in one step before checking the message size limit:
/// a message that would inflate past its limit fails having produced at most the limit
/// plus one byte, after at most the limit plus one step of work.
pub const INFLATE_CHUNK: usize = 16 * 1024;
