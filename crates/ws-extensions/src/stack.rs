//! The extension framework: the [`Extension`] and [`Codec`] traits, the configured list
//! ([`Extensions`]) and the per-connection negotiated stack ([`Negotiated`]).

use std::fmt;
use std::sync::Arc;

use ws_frame::RsvBits;
use ws_handshake::grammar::{self, parse_extensions};

use crate::{MessageError, NegotiationError};

/// A configured extension: how it negotiates, and the per-connection [`Codec`] it yields.
///
/// One value serves every connection (it is shared behind an `Arc`); per-connection state
/// lives in the codec that [`accept`](Extension::accept) or [`confirm`](Extension::confirm)
/// returns.
pub trait Extension: fmt::Debug + Send + Sync {
    /// The registered name, e.g. `permessage-deflate`.
    fn name(&self) -> &str;

    /// The RSV bits the extension uses. Two extensions claiming the same bit are never
    /// both negotiated on one connection.
    fn rsv_bits(&self) -> RsvBits;

    /// Client: the offers to send, most preferred first, each the text of one
    /// `Sec-WebSocket-Extensions` element (`name; param; param=value`).
    fn offers(&self) -> Vec<String>;

    /// Server: answers one offer from the client with the text of the response element
    /// and the connection's codec, or `None` to decline it (including an offer with
    /// invalid parameters; declining is never fatal).
    fn accept(&self, offer: &grammar::Extension<'_>) -> Option<(String, Box<dyn Codec>)>;

    /// Client: checks the server's answer against the offers sent and returns the
    /// connection's codec.
    fn confirm(&self, answer: &grammar::Extension<'_>) -> Result<Box<dyn Codec>, NegotiationError>;
}

/// The per-connection, per-message transforms of one negotiated extension.
///
/// [`Negotiated`] calls [`decode`](Codec::decode) only for messages whose first frame
/// carries one of the extension's RSV bits, and [`encode`](Codec::encode) only for messages
/// [`begin_outgoing`](Codec::begin_outgoing) chose to transform. Each message is fed in
/// order, one fragment at a time; `fin` marks its last fragment.
pub trait Codec: fmt::Debug + Send {
    /// Decodes one fragment of an incoming message, appending to `out`. Appending more
    /// than `max` bytes in this call fails with [`MessageError::TooBig`], which must be
    /// detected while decoding, with bounded work, not after the fact.
    fn decode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), MessageError>;

    /// Whether to transform the next outgoing message. `len` is its length if known (not
    /// for a streamed message); `compress` is false when the application opted out.
    fn begin_outgoing(&mut self, len: Option<usize>, compress: bool) -> bool;

    /// Encodes one fragment of an outgoing message, appending to `out`.
    fn encode(&mut self, payload: &[u8], fin: bool, out: &mut Vec<u8>) -> Result<(), MessageError>;

    /// Whether this codec can encode a whole message on its own, without its connection's
    /// state ([`encode_standalone`](Codec::encode_standalone)), and the parameters that
    /// decide that encoding: codecs of the same extension that return the same value
    /// encode a message to the same bytes, so one encoding serves all their connections
    /// (a broadcast). `None`, the default, when the output depends on the connection.
    fn standalone_params(&self) -> Option<u64> {
        None
    }

    /// Encodes a whole message with no reference to anything sent before, appending to
    /// `out`, and returns whether it was transformed (`false`: `out` is untouched and the
    /// message goes out as it is, e.g. one too short to be worth compressing).
    /// `compress` is false when the application opted out of compression.
    ///
    /// Called only when [`standalone_params`](Codec::standalone_params) is `Some`; the
    /// default transforms nothing.
    fn encode_standalone(
        &self,
        payload: &[u8],
        compress: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool, MessageError> {
        let _ = (payload, compress, out);
        Ok(false)
    }

    /// A transformed message from [`encode_standalone`](Codec::encode_standalone) was
    /// sent on this connection in place of one from [`encode`](Codec::encode): what this
    /// codec encodes next must not refer to anything before it (the peer's decoder saw a
    /// message this codec's state never did).
    fn sent_standalone(&mut self) {}
}

/// The extensions an endpoint supports, in order of preference; the configuration shared
/// by all connections. Cloning is cheap.
#[derive(Clone, Debug, Default)]
pub struct Extensions {
    list: Vec<Arc<dyn Extension>>,
}

impl Extensions {
    /// No extensions.
    pub fn new() -> Extensions {
        Extensions::default()
    }

    /// Adds `extension` after those already added.
    pub fn with(mut self, extension: impl Extension + 'static) -> Extensions {
        self.list.push(Arc::new(extension));
        self
    }

    /// Client: the `Sec-WebSocket-Extensions` elements to offer, in order; pass each to
    /// `ws_handshake::ClientBuilder::extension`.
    pub fn client_offers(&self) -> Vec<String> {
        self.list.iter().flat_map(|ext| ext.offers()).collect()
    }

    /// Client: checks the server's `Sec-WebSocket-Extensions` values (e.g.
    /// `ws_handshake::Accepted::extensions`) and sets up the negotiated stack, in the
    /// server's order.
    pub fn client_confirm<'a, V>(
        &self,
        answers: impl IntoIterator<Item = &'a V>,
    ) -> Result<Negotiated, NegotiationError>
    where
        V: AsRef<[u8]> + ?Sized + 'a,
    {
        let mut negotiated = Negotiated::default();
        for answer in parse_extensions(answers) {
            let answer = answer?;
            let name = answer.name();
            let ext = self
                .find(name)
                .ok_or_else(|| NegotiationError::NotOffered(name.to_owned()))?;
            if negotiated.agreed.iter().any(|(agreed, _)| agreed == name) {
                return Err(NegotiationError::DuplicateExtension(name.to_owned()));
            }
            if negotiated.rsv_bits().intersects(ext.rsv_bits()) {
                return Err(NegotiationError::RsvConflict(name.to_owned()));
            }
            let codec = ext.confirm(&answer)?;
            negotiated.push(ext, answer.as_str().to_owned(), codec);
        }
        negotiated.finish();
        Ok(negotiated)
    }

    /// Server: answers the client's `Sec-WebSocket-Extensions` values (e.g.
    /// `ws_handshake::UpgradeRequest::extensions`): for each supported extension, the first
    /// offer it accepts, in the client's order. Unparsable elements and offers the
    /// extension declines are skipped, as are extensions whose RSV bits are already taken.
    /// Pass each of [`Negotiated::agreed`] to `ws_handshake::Accept::extension`.
    pub fn server_accept<'a, V>(&self, offers: impl IntoIterator<Item = &'a V>) -> Negotiated
    where
        V: AsRef<[u8]> + ?Sized + 'a,
    {
        let mut negotiated = Negotiated::default();
        for offer in parse_extensions(offers).filter_map(Result::ok) {
            let Some(ext) = self.find(offer.name()) else {
                continue;
            };
            let taken = negotiated.agreed.iter().any(|(name, _)| name == ext.name());
            if taken || negotiated.rsv_bits().intersects(ext.rsv_bits()) {
                continue;
            }
            if let Some((answer, codec)) = ext.accept(&offer) {
                negotiated.push(ext, answer, codec);
            }
        }
        negotiated.finish();
        negotiated
    }

    fn find(&self, name: &str) -> Option<&dyn Extension> {
        self.list
            .iter()
            .find(|ext| ext.name() == name)
            .map(|ext| &**ext)
    }
}

/// One negotiated extension on a connection.
#[derive(Debug)]
struct Layer {
    rsv: RsvBits,
    codec: Box<dyn Codec>,
    /// Whether the current incoming message goes through this layer.
    incoming: bool,
    /// Whether the current outgoing message goes through this layer.
    outgoing: bool,
    /// This layer's output when another layer comes after it; kept to reuse its capacity.
    buf: Vec<u8>,
}

/// The extensions negotiated on one connection, in negotiated order, with their state.
///
/// Outgoing messages pass through the extensions in order, incoming ones in reverse (RFC
/// 6455 §9). Without extensions (the [`Default`]), every call is a pass-through.
///
/// Incoming: call [`begin_incoming`](Self::begin_incoming) with the RSV bits of a data
/// message's first frame, then [`decode`](Self::decode) for each of its frames. Outgoing:
/// call [`begin_outgoing`](Self::begin_outgoing), set the RSV bits it returns on the
/// message's first frame (only), then [`encode`](Self::encode) each fragment. Control
/// frames never go through extensions, so they may be interleaved freely.
#[derive(Debug)]
pub struct Negotiated {
    layers: Vec<Layer>,
    /// Each extension's name and the text of its agreed element.
    agreed: Vec<(String, String)>,
    /// Bytes decoded so far in the current incoming message.
    received: usize,
    /// How a message is encoded on its own here; `None` when some codec cannot.
    standalone: Option<StandaloneKey>,
}

/// What decides how a connection's extensions encode a message on its own
/// ([`Negotiated::encode_standalone`]): each extension's name and its codec's
/// [`standalone_params`](Codec::standalone_params). Connections with equal keys encode a
/// message to the same bytes, so a broadcast can encode it once per key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StandaloneKey(Vec<(String, u64)>);

impl Default for Negotiated {
    fn default() -> Negotiated {
        Negotiated {
            layers: Vec::new(),
            agreed: Vec::new(),
            received: 0,
            // Nothing to transform: every connection without extensions shares one key.
            standalone: Some(StandaloneKey::default()),
        }
    }
}

impl Negotiated {
    /// Called once the negotiation is complete.
    fn finish(&mut self) {
        // Kept for the connection's lifetime: no room for more extensions is needed.
        self.layers.shrink_to_fit();
        self.agreed.shrink_to_fit();
        self.standalone = self
            .layers
            .iter()
            .zip(&self.agreed)
            .map(|(layer, (name, _))| Some((name.clone(), layer.codec.standalone_params()?)))
            .collect::<Option<Vec<_>>>()
            .map(StandaloneKey);
    }

    fn push(&mut self, ext: &dyn Extension, text: String, codec: Box<dyn Codec>) {
        self.layers.push(Layer {
            rsv: ext.rsv_bits(),
            codec,
            incoming: false,
            outgoing: false,
            buf: Vec::new(),
        });
        self.agreed.push((ext.name().to_owned(), text));
    }

    /// The agreed `Sec-WebSocket-Extensions` elements, in order: what a server sends in its
    /// response (each to `ws_handshake::Accept::extension`), or what a client received.
    pub fn agreed(&self) -> impl ExactSizeIterator<Item = &str> {
        self.agreed.iter().map(|(_, text)| text.as_str())
    }

    /// Whether no extension was negotiated.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The RSV bits the negotiated extensions own: what the frame decoder must allow
    /// (`ws_frame::Decoder::with_allowed_rsv`). Any other RSV bit stays a protocol error.
    pub fn rsv_bits(&self) -> RsvBits {
        self.layers
            .iter()
            .fold(RsvBits::NONE, |bits, layer| bits | layer.rsv)
    }

    /// Starts an incoming data message whose first frame carries `rsv`.
    ///
    /// Continuation frames must carry no RSV bits; the caller rejects them (1002), as every
    /// extension here works per message (RFC 7692 §6.1).
    pub fn begin_incoming(&mut self, rsv: RsvBits) -> Result<(), MessageError> {
        let unknown = rsv.difference(self.rsv_bits());
        if !unknown.is_empty() {
            return Err(MessageError::UnexpectedRsv(unknown));
        }
        for layer in &mut self.layers {
            layer.incoming = rsv.intersects(layer.rsv);
        }
        self.received = 0;
        Ok(())
    }

    /// Decodes one frame's payload of the current incoming message, appending the plain
    /// bytes to `out`; `fin` marks the message's last frame. The caller may drain `out`
    /// between frames to stream a large message.
    ///
    /// Fails with [`MessageError::TooBig`] as soon as the message's decoded length would
    /// exceed `limit`: inflation stops after at most one bounded chunk past the limit
    /// ([`INFLATE_CHUNK`](crate::INFLATE_CHUNK)), so a tiny message that would inflate to gigabytes costs
    /// no more than `limit` of work.
    pub fn decode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), MessageError> {
        let max = limit.saturating_sub(self.received);
        let start = out.len();
        let ran = pipeline(
            &mut self.layers,
            Direction::In,
            payload,
            out,
            |codec, input, dst| codec.decode(input, fin, dst, max),
        )?;
        if !ran {
            if payload.len() > max {
                return Err(MessageError::TooBig);
            }
            out.extend_from_slice(payload);
        }
        // Saturating: a codec of another crate could have shrunk `out`.
        self.received += out.len().saturating_sub(start);
        Ok(())
    }

    /// Decodes a whole incoming message in one frame: [`begin_incoming`] then
    /// [`decode`] with `fin`.
    ///
    /// [`begin_incoming`]: Self::begin_incoming
    /// [`decode`]: Self::decode
    pub fn decode_message(
        &mut self,
        rsv: RsvBits,
        payload: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), MessageError> {
        self.begin_incoming(rsv)?;
        self.decode(payload, true, out, limit)
    }

    /// Starts an outgoing data message and returns the RSV bits for its first frame.
    ///
    /// `len` is the message's length when known (a streamed message passes `None`); it
    /// lets permessage-deflate send small messages uncompressed. `compress: false` opts
    /// this message out of compression, e.g. for data that is already compressed.
    #[must_use]
    pub fn begin_outgoing(&mut self, len: Option<usize>, compress: bool) -> RsvBits {
        let mut rsv = RsvBits::NONE;
        for layer in &mut self.layers {
            layer.outgoing = layer.codec.begin_outgoing(len, compress);
            if layer.outgoing {
                rsv |= layer.rsv;
            }
        }
        rsv
    }

    /// Encodes one fragment of the current outgoing message, appending the payload to send
    /// to `out`; `fin` marks the last fragment. A fragment may encode to nothing (the
    /// compressor holds it back until it has more); send the frame anyway, or skip it if
    /// it is not the last.
    pub fn encode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), MessageError> {
        let ran = pipeline(
            &mut self.layers,
            Direction::Out,
            payload,
            out,
            |codec, input, dst| codec.encode(input, fin, dst),
        )?;
        if !ran {
            out.extend_from_slice(payload);
        }
        Ok(())
    }

    /// How this connection encodes a message on its own, or `None` when one of its
    /// extensions cannot (then every message goes through [`encode`](Self::encode)).
    /// Without extensions, the empty key: messages are sent as they are.
    pub fn standalone_key(&self) -> Option<&StandaloneKey> {
        self.standalone.as_ref()
    }

    /// Encodes a whole message for one frame with no reference to anything sent before,
    /// appending the payload to send to `out`, and returns the RSV bits for its frame. Any
    /// connection with the same [`standalone_key`](Self::standalone_key) encodes it to the
    /// same bytes, so this needs only `&self`. After sending a transformed one (non-empty
    /// RSV bits), call [`sent_standalone`](Self::sent_standalone) with those bits.
    ///
    /// Only for a connection that has a key; on one that has none, nothing is transformed.
    pub fn encode_standalone(
        &self,
        payload: &[u8],
        compress: bool,
        out: &mut Vec<u8>,
    ) -> Result<RsvBits, MessageError> {
        let mut rsv = RsvBits::NONE;
        let mut current: Option<Vec<u8>> = None;
        for layer in &self.layers {
            let input = current.as_deref().unwrap_or(payload);
            let mut encoded = Vec::new();
            if layer
                .codec
                .encode_standalone(input, compress, &mut encoded)?
            {
                rsv |= layer.rsv;
                current = Some(encoded);
            }
        }
        out.extend_from_slice(current.as_deref().unwrap_or(payload));
        Ok(rsv)
    }

    /// A message from [`encode_standalone`](Self::encode_standalone) with RSV bits `rsv`
    /// was sent: the extensions that transformed it let go of what came before (a
    /// compressor with context takeover starts a fresh window).
    pub fn sent_standalone(&mut self, rsv: RsvBits) {
        for layer in &mut self.layers {
            if rsv.intersects(layer.rsv) {
                layer.codec.sent_standalone();
            }
        }
    }

    /// Encodes a whole outgoing message for one frame: [`begin_outgoing`] with its length,
    /// then [`encode`] with `fin`. Returns the RSV bits for the frame.
    ///
    /// [`begin_outgoing`]: Self::begin_outgoing
    /// [`encode`]: Self::encode
    pub fn encode_message(
        &mut self,
        payload: &[u8],
        compress: bool,
        out: &mut Vec<u8>,
    ) -> Result<RsvBits, MessageError> {
        let rsv = self.begin_outgoing(Some(payload.len()), compress);
        self.encode(payload, true, out)?;
        Ok(rsv)
    }
}

/// The direction a message takes through the stack.
#[derive(Clone, Copy)]
enum Direction {
    /// Outgoing: in negotiated order, through the layers with `outgoing` set.
    Out,
    /// Incoming: in reverse order, through the layers with `incoming` set.
    In,
}

/// The position of the first layer after `after` (in `direction`'s order) that the
/// current message goes through.
fn next_active(layers: &[Layer], direction: Direction, after: Option<usize>) -> Option<usize> {
    match direction {
        Direction::Out => {
            let from = after.map_or(0, |i| i + 1);
            (from..layers.len()).find(|&i| layers.get(i).is_some_and(|layer| layer.outgoing))
        }
        Direction::In => {
            let to = after.unwrap_or(layers.len());
            (0..to)
                .rev()
                .find(|&i| layers.get(i).is_some_and(|layer| layer.incoming))
        }
    }
}

/// Runs `input` through the active layers in `direction`'s order, each stage reading the
/// previous stage's output; the last stage writes to `out`. Returns whether any stage ran.
fn pipeline(
    layers: &mut [Layer],
    direction: Direction,
    input: &[u8],
    out: &mut Vec<u8>,
    mut stage: impl FnMut(&mut dyn Codec, &[u8], &mut Vec<u8>) -> Result<(), MessageError>,
) -> Result<bool, MessageError> {
    let mut current = next_active(layers, direction, None);
    let ran = current.is_some();
    // The previous stage's output, taken out of its layer while the next stage reads it.
    let mut carry: Option<(usize, Vec<u8>)> = None;
    while let Some(i) = current {
        let following = next_active(layers, direction, Some(i));
        let Some(layer) = layers.get_mut(i) else {
            break;
        };
        let stage_input = carry.as_ref().map_or(input, |(_, buf)| buf.as_slice());
        if following.is_none() {
            stage(&mut *layer.codec, stage_input, out)?;
        } else {
            let mut buf = std::mem::take(&mut layer.buf);
            buf.clear();
            stage(&mut *layer.codec, stage_input, &mut buf)?;
            if let Some((owner, old)) = carry.replace((i, buf)) {
                restore(layers, owner, old);
            }
        }
        current = following;
    }
    if let Some((owner, old)) = carry {
        restore(layers, owner, old);
    }
    Ok(ran)
}

/// Gives a stage buffer back to its layer so its capacity is reused.
fn restore(layers: &mut [Layer], owner: usize, buf: Vec<u8>) {
    if let Some(layer) = layers.get_mut(owner) {
        layer.buf = buf;
    }
}
