//! Where negotiated extensions (RFC 6455 §9; permessage-deflate of RFC 7692 from
//! `ws-extensions`) touch the connection: negotiation in the handshake, the RSV bits the
//! decoder allows, and the per-message transforms of incoming and outgoing data. The
//! endpoint calls nothing of `ws-extensions` outside this module.
//!
//! Every extension of `ws-extensions` marks a transformed message with its RSV bits, so a
//! message without RSV bits is never transformed. Both directions use that for a fast
//! path: an untransformed payload is passed on as the same `Bytes`, never copied.

use bytes::Bytes;
use ws_extensions::{MessageError, Negotiated};
use ws_frame::RsvBits;
use ws_handshake::{Accept, ClientBuilder};

use crate::{Config, ConnectionError, PreparedMessage};

/// The extensions negotiated on one connection, with their per-connection state (the
/// deflate and inflate contexts) and whether the current messages are transformed.
#[derive(Debug, Default)]
pub(crate) struct Extensions {
    negotiated: Negotiated,
    /// The outgoing message in progress is transformed (its first frame had RSV bits).
    outgoing: bool,
}

impl Extensions {
    /// The RSV bits owned by the negotiated extensions, allowed by the decoder; any other
    /// stays a protocol error (1002).
    pub(crate) fn allowed_rsv(&self) -> RsvBits {
        self.negotiated.rsv_bits()
    }

    /// Whether a message whose first frame carries `rsv` is transformed on the way in. A
    /// transformed (e.g. compressed) text message cannot be UTF-8-checked before its frame
    /// is complete and decoded, so the early check of partial frames is skipped for it.
    pub(crate) fn transforms_incoming(&self, rsv: RsvBits) -> bool {
        !rsv.is_empty()
    }

    /// Starts an incoming data message whose first frame carries `rsv`.
    #[inline]
    pub(crate) fn begin_incoming(&mut self, rsv: RsvBits) -> Result<(), ConnectionError> {
        // Without extensions there is no per-message state (and the decoder let no RSV
        // bit through): skip the call into ws-extensions, which is not inlined.
        if self.negotiated.is_empty() && rsv.is_empty() {
            return Ok(());
        }
        Ok(self.negotiated.begin_incoming(rsv)?)
    }

    /// Turns one received data fragment into plain message bytes. `message_rsv` is the RSV
    /// bits of the message's first frame; `last` marks its final fragment; `limit` bounds
    /// the decoded length of the whole message, so a small compressed message that would
    /// inflate past it fails (1009) after at most `limit` bytes of output.
    #[inline]
    pub(crate) fn decode_fragment(
        &mut self,
        message_rsv: RsvBits,
        payload: Bytes,
        last: bool,
        limit: u64,
    ) -> Result<Bytes, ConnectionError> {
        if !self.transforms_incoming(message_rsv) {
            return Ok(payload);
        }
        self.decode_transformed(payload, last, limit)
    }

    /// `decode_fragment` for a transformed message (out of line: the plain case is the
    /// hot one).
    fn decode_transformed(
        &mut self,
        payload: Bytes,
        last: bool,
        limit: u64,
    ) -> Result<Bytes, ConnectionError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        self.negotiated.decode(&payload, last, &mut out, limit)?;
        Ok(out.into())
    }

    /// Turns one outgoing data fragment into what goes on the wire: the RSV bits for its
    /// frame and its payload. `first` and `last` place it in its message; `compress: false`
    /// (read on the first fragment) opts the message out of compression. A whole message
    /// (`first && last`) has a known length, so permessage-deflate can leave a short one
    /// uncompressed. A non-final fragment may encode to an empty payload (the compressor
    /// holds it back); its frame is sent anyway, empty, so that each fragment given is one
    /// frame.
    #[inline]
    pub(crate) fn encode_fragment(
        &mut self,
        payload: Bytes,
        first: bool,
        last: bool,
        compress: bool,
    ) -> Result<(RsvBits, Bytes), MessageError> {
        if self.negotiated.is_empty() {
            return Ok((RsvBits::NONE, payload));
        }
        self.encode_negotiated(payload, first, last, compress)
    }

    /// `encode_fragment` when extensions were negotiated (out of line: without them is
    /// the hot case).
    fn encode_negotiated(
        &mut self,
        payload: Bytes,
        first: bool,
        last: bool,
        compress: bool,
    ) -> Result<(RsvBits, Bytes), MessageError> {
        let mut rsv = RsvBits::NONE;
        if first {
            let len = last.then_some(payload.len());
            rsv = self.negotiated.begin_outgoing(len, compress);
            self.outgoing = !rsv.is_empty();
        }
        if !self.outgoing {
            return Ok((rsv, payload));
        }
        let mut out = Vec::new();
        self.negotiated.encode(&payload, last, &mut out)?;
        Ok((rsv, out.into()))
    }

    /// The payload of `message` as this connection sends it, with the RSV bits for its
    /// frame: shared with every connection that encodes messages the same way, encoded
    /// here only when none did before. A transformed one ends what the connection's
    /// encoders may refer back to.
    pub(crate) fn encode_prepared(
        &mut self,
        message: &PreparedMessage,
    ) -> Result<(RsvBits, Bytes), MessageError> {
        if self.negotiated.is_empty() {
            return Ok((RsvBits::NONE, message.payload().clone()));
        }
        let Some(key) = self.negotiated.standalone_key() else {
            let payload = message.payload().clone();
            return self.encode_negotiated(payload, true, true, message.compress());
        };
        let negotiated = &self.negotiated;
        let encoded = message.encoded_for(key, |payload, compress, out| {
            negotiated.encode_standalone(payload, compress, out)
        })?;
        if !encoded.rsv.is_empty() {
            self.negotiated.sent_standalone(encoded.rsv);
        }
        Ok((encoded.rsv, encoded.payload))
    }
}

/// Adds the client's extension offers (`Sec-WebSocket-Extensions`) to its request.
pub(crate) fn client_offer(builder: ClientBuilder, config: &Config) -> ClientBuilder {
    config
        .extensions
        .client_offers()
        .into_iter()
        .fold(builder, ClientBuilder::extension)
}

/// Adds the server's acceptance of the client's offers to the 101 response, and sets up
/// the negotiated extensions. Offers the server cannot use are declined, never fatal.
pub(crate) fn server_accept<'r>(
    request: &'r ws_handshake::UpgradeRequest,
    accept: Accept<'r>,
    config: &Config,
) -> (Accept<'r>, Extensions) {
    let negotiated = config.extensions.server_accept(request.extensions());
    let accept = negotiated.agreed().fold(accept, Accept::extension);
    let extensions = Extensions {
        negotiated,
        outgoing: false,
    };
    (accept, extensions)
}

/// Checks the extensions the server accepted (already known to be offered ones) and
/// sets them up; an unusable acceptance fails the connection.
pub(crate) fn client_accepted(
    accepted: &[String],
    config: &Config,
) -> Result<Extensions, ConnectionError> {
    let negotiated = config
        .extensions
        .client_confirm(accepted)
        .map_err(ConnectionError::Negotiation)?;
    Ok(Extensions {
        negotiated,
        outgoing: false,
    })
}
