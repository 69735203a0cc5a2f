//! THE EXTENSION SEAM: every place where negotiated extensions (RFC 6455 §9; RFC 7692
//! permessage-deflate from `ws-extensions`) touch the connection goes through this module.
//!
//! Today no extension is negotiated and every function is a pass-through. To wire
//! `ws-extensions` in, give [`Extensions`] the negotiated extension objects and fill in the
//! four places marked (a)–(d); nothing outside this module needs to change beyond `Config`
//! gaining the extension settings:
//!
//! - (a) [`Extensions::allowed_rsv`]: the RSV bits the frame decoder accepts.
//! - (b) [`Extensions::decode_fragment`]: each incoming data fragment, given the RSV bits of
//!   its message's first frame, before UTF-8 validation and reassembly (validation applies
//!   to the decompressed text).
//! - (c) [`Extensions::encode_fragment`]: each outgoing data fragment; may set RSV bits (on
//!   the first frame) and replace the payload.
//! - (d) [`client_offer`], [`server_accept`] and [`client_accepted`]: the offer strings a
//!   client sends, the acceptance a server answers with, and the check of the server's
//!   acceptance by the client.

use bytes::Bytes;
use ws_frame::RsvBits;
use ws_handshake::{Accept, ClientBuilder};

use crate::{Config, ConnectionError};

/// The extensions negotiated on one connection, with their per-connection state (e.g. the
/// deflate and inflate contexts). None for now.
#[derive(Debug, Default)]
pub(crate) struct Extensions {}

impl Extensions {
    /// (a) The RSV bits owned by the negotiated extensions, allowed by the decoder.
    pub(crate) fn allowed_rsv(&self) -> RsvBits {
        RsvBits::NONE
    }

    /// Whether a message whose first frame carries `rsv` is transformed on the way in. A
    /// transformed (e.g. compressed) text message cannot be UTF-8-checked before its frame
    /// is complete and decoded, so the early check of partial frames is skipped for it.
    pub(crate) fn transforms_incoming(&self, rsv: RsvBits) -> bool {
        !rsv.is_empty()
    }

    /// (b) Turns one received data fragment into plain message bytes. `message_rsv` is the
    /// RSV bits of the message's first frame; `last` marks its final fragment. Errors fail
    /// the connection (e.g. a decompression error, or output over the size limit).
    pub(crate) fn decode_fragment(
        &mut self,
        message_rsv: RsvBits,
        payload: Bytes,
        last: bool,
    ) -> Result<Bytes, ConnectionError> {
        let _ = (message_rsv, last);
        Ok(payload)
    }

    /// (c) Turns one outgoing data fragment into what goes on the wire: the RSV bits for
    /// its frame and its payload. `first` and `last` place it in its message.
    pub(crate) fn encode_fragment(
        &mut self,
        payload: Bytes,
        first: bool,
        last: bool,
    ) -> (RsvBits, Bytes) {
        let _ = (first, last);
        (RsvBits::NONE, payload)
    }
}

/// (d) Adds the client's extension offers (`Sec-WebSocket-Extensions`) to its request.
pub(crate) fn client_offer(builder: ClientBuilder, config: &Config) -> ClientBuilder {
    let _ = config;
    builder
}

/// (d) Adds the server's acceptance of the client's offers to the 101 response, and sets up
/// the negotiated extensions.
pub(crate) fn server_accept<'r>(
    request: &'r ws_handshake::UpgradeRequest,
    accept: Accept<'r>,
    config: &Config,
) -> (Accept<'r>, Extensions) {
    let _ = (request, config);
    (accept, Extensions::default())
}

/// (d) Checks the extensions the server accepted (already known to be offered ones) and
/// sets them up; an unusable acceptance fails the connection.
pub(crate) fn client_accepted(
    accepted: &[String],
    config: &Config,
) -> Result<Extensions, ConnectionError> {
    let _ = (accepted, config);
    Ok(Extensions::default())
}
