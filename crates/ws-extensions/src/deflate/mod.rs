//! permessage-deflate (RFC 7692): negotiation of its four parameters and the
//! per-connection compressor and decompressor.

mod codec;
mod pool;

use ws_frame::RsvBits;
use ws_handshake::grammar;

use crate::{Codec, Extension, NegotiationError};
use codec::{DeflateCodec, Direction, Options};

/// The extension's registered name.
const NAME: &str = "permessage-deflate";
const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// The LZ77 window sizes RFC 7692 §7.1.2 allows, as base-2 logarithms.
const WINDOW_BITS: std::ops::RangeInclusive<u8> = 8..=15;

/// The four parameters of permessage-deflate (RFC 7692 §7.1), as one side wants them.
///
/// The same value means the same constraint for both roles. On a client it is an offer
/// (several, in order, with [`PerMessageDeflate::fallback`]); on a server it is the policy
/// applied to whatever the client offers. `None` window bits mean "no limit" (15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after every message (costs ratio, lets the client
    /// forget its inflate history).
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window the server compresses with, 8 to 15.
    pub server_max_window_bits: Option<u8>,
    /// The largest LZ77 window the client compresses with, 8 to 15. A client always
    /// offers `client_max_window_bits` (without a value when this is `None`), so that a
    /// server may limit it.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// The element text: `permessage-deflate` and the parameters that are set. As an
    /// offer, `client_max_window_bits` is always present, valueless when unset.
    fn render(&self, offer: bool) -> String {
        let mut text = String::from(NAME);
        let mut flag = |on: bool, name: &str| {
            if on {
                text.push_str("; ");
                text.push_str(name);
            }
        };
        flag(self.server_no_context_takeover, SERVER_NO_CONTEXT_TAKEOVER);
        flag(self.client_no_context_takeover, CLIENT_NO_CONTEXT_TAKEOVER);
        if let Some(bits) = self.server_max_window_bits {
            text.push_str(&format!("; {SERVER_MAX_WINDOW_BITS}={bits}"));
        }
        match self.client_max_window_bits {
            Some(bits) => text.push_str(&format!("; {CLIENT_MAX_WINDOW_BITS}={bits}")),
            None if offer => text.push_str(&format!("; {CLIENT_MAX_WINDOW_BITS}")),
            None => {}
        }
        text
    }

    /// Panics on window bits outside 8–15: a configuration mistake, not network input.
    fn checked(self) -> DeflateParams {
        let limits = [self.server_max_window_bits, self.client_max_window_bits];
        for bits in limits.into_iter().flatten() {
            assert!(
                WINDOW_BITS.contains(&bits),
                "window bits must be 8 to 15, not {bits}"
            );
        }
        self
    }
}

/// The parameters of one received element, checked for syntax only.
#[derive(Clone, Copy, Debug, Default)]
struct Received {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

impl Received {
    /// Parses the parameters: each known at most once, flags without values, window bits
    /// a decimal 8–15 without leading zeros (RFC 7692 §7.1.2.1).
    fn parse(element: &grammar::Extension<'_>) -> Result<Received, NegotiationError> {
        let mut received = Received::default();
        let mut seen = [false; 4];
        for param in element.params() {
            let name = param.name();
            let value = param.value();
            let invalid = || NegotiationError::InvalidValue {
                param: name.to_owned(),
                value: value.as_deref().map(str::to_owned),
            };
            let slot = match name {
                SERVER_NO_CONTEXT_TAKEOVER => 0,
                CLIENT_NO_CONTEXT_TAKEOVER => 1,
                SERVER_MAX_WINDOW_BITS => 2,
                CLIENT_MAX_WINDOW_BITS => 3,
                _ => return Err(NegotiationError::UnknownParameter(name.to_owned())),
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(NegotiationError::DuplicateParameter(name.to_owned()));
            }
            let bits = match value.as_deref() {
                None => None,
                Some(text) => Some(parse_window_bits(text).ok_or_else(invalid)?),
            };
            match (slot, bits) {
                (0, None) => received.server_no_context_takeover = true,
                (1, None) => received.client_no_context_takeover = true,
                (2, Some(bits)) => received.server_max_window_bits = Some(bits),
                (3, bits) => received.client_max_window_bits = Some(bits),
                _ => return Err(invalid()),
            }
        }
        Ok(received)
    }
}

/// `8` to `15`, in decimal without leading zeros.
fn parse_window_bits(text: &str) -> Option<u8> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|bits| WINDOW_BITS.contains(bits))
}

/// permessage-deflate (RFC 7692) as an [`Extension`]: its parameters, and the compression
/// options for the connections that negotiate it.
///
/// ```
/// use ws_extensions::{DeflateParams, PerMessageDeflate};
///
/// // Prefer a client window of 2^10 bytes; fall back to anything the server likes.
/// let deflate = PerMessageDeflate::with_params(DeflateParams {
///     client_max_window_bits: Some(10),
///     ..DeflateParams::default()
/// })
/// .fallback(DeflateParams::default())
/// .level(3);
/// # let _ = deflate;
/// ```
#[derive(Clone, Debug)]
pub struct PerMessageDeflate {
    /// The client's offers, most preferred first; the first is also the server's policy.
    /// Never empty.
    offers: Vec<DeflateParams>,
    options: Options,
}

impl Default for PerMessageDeflate {
    fn default() -> PerMessageDeflate {
        PerMessageDeflate::with_params(DeflateParams::default())
    }
}

impl PerMessageDeflate {
    /// The defaults: no parameters (15-bit windows, context takeover), level
    /// [`DEFAULT_LEVEL`](Self::DEFAULT_LEVEL), messages under
    /// [`DEFAULT_MIN_SIZE`](Self::DEFAULT_MIN_SIZE) bytes sent uncompressed.
    pub fn new() -> PerMessageDeflate {
        PerMessageDeflate::default()
    }

    /// The compression level used unless [`level`](Self::level) says otherwise: the
    /// fastest. On 1 KiB JSON messages it costs an eighth of zlib's default level 6 for
    /// 47% more output (ratio 0.29 against 0.19; docs/extensions.md): a WebSocket message
    /// waits for its compression, so latency wins by default.
    pub const DEFAULT_LEVEL: u32 = 1;

    /// Messages shorter than this many bytes are sent uncompressed unless
    /// [`min_size`](Self::min_size) says otherwise: below it, the deflate block overhead
    /// and the CPU cost outweigh the few bytes saved.
    pub const DEFAULT_MIN_SIZE: usize = 32;

    /// A client offering (or a server applying) `params`.
    ///
    /// # Panics
    ///
    /// If a window-bits value is outside 8–15.
    pub fn with_params(params: DeflateParams) -> PerMessageDeflate {
        PerMessageDeflate {
            offers: vec![params.checked()],
            options: Options {
                level: PerMessageDeflate::DEFAULT_LEVEL,
                min_size: PerMessageDeflate::DEFAULT_MIN_SIZE,
            },
        }
    }

    /// Client: also offers `params`, after the offers already configured, for a server
    /// that declines those. Servers ignore fallbacks.
    ///
    /// # Panics
    ///
    /// If a window-bits value is outside 8–15.
    pub fn fallback(mut self, params: DeflateParams) -> PerMessageDeflate {
        self.offers.push(params.checked());
        self
    }

    /// The compression level, 0 (stored, no compression) to 9 (best); larger values
    /// count as 9.
    pub fn level(mut self, level: u32) -> PerMessageDeflate {
        self.options.level = level.min(9);
        self
    }

    /// Messages of known length shorter than `bytes` are sent uncompressed.
    pub fn min_size(mut self, bytes: usize) -> PerMessageDeflate {
        self.options.min_size = bytes;
        self
    }

    /// The server's policy: the first offer.
    fn policy(&self) -> DeflateParams {
        self.offers.first().copied().unwrap_or_default()
    }
}

impl Extension for PerMessageDeflate {
    fn name(&self) -> &str {
        NAME
    }

    fn rsv_bits(&self) -> RsvBits {
        RsvBits::RSV1
    }

    fn offers(&self) -> Vec<String> {
        self.offers.iter().map(|offer| offer.render(true)).collect()
    }

    fn accept(&self, offer: &grammar::Extension<'_>) -> Option<(String, Box<dyn Codec>)> {
        let offer = Received::parse(offer).ok()?;
        let policy = self.policy();
        let answer = DeflateParams {
            server_no_context_takeover: offer.server_no_context_takeover
                || policy.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || policy.client_no_context_takeover,
            server_max_window_bits: min_bits(
                offer.server_max_window_bits,
                policy.server_max_window_bits,
            ),
            // The server may limit the client's window only if the client offered the
            // parameter (§7.1.2.2). A client that did not is still accepted: we can inflate
            // any window, so declining would only lose compression.
            client_max_window_bits: match offer.client_max_window_bits {
                None => None,
                Some(offered) => min_bits(offered, policy.client_max_window_bits)
                    .filter(|_| policy.client_max_window_bits.is_some()),
            },
        };
        // The client compresses with at most what it offered and what we answered.
        let client_bits = min_bits(
            offer.client_max_window_bits.flatten(),
            answer.client_max_window_bits,
        );
        let codec = DeflateCodec::new(
            self.options,
            Direction {
                max_window_bits: answer.server_max_window_bits,
                no_context_takeover: answer.server_no_context_takeover,
            },
            Direction {
                max_window_bits: client_bits,
                no_context_takeover: answer.client_no_context_takeover,
            },
        );
        Some((answer.render(false), Box::new(codec)))
    }

    fn confirm(&self, answer: &grammar::Extension<'_>) -> Result<Box<dyn Codec>, NegotiationError> {
        let answer = Received::parse(answer)?;
        let client_bits = match answer.client_max_window_bits {
            // In a response the parameter must carry a value (§7.1.2.2).
            Some(None) => {
                return Err(NegotiationError::InvalidValue {
                    param: CLIENT_MAX_WINDOW_BITS.to_owned(),
                    value: None,
                });
            }
            Some(Some(bits)) => Some(bits),
            None => None,
        };
        // The answer is to one of the offers; the first it fits is taken. Every offer is
        // tried, and the last one's objection is reported if none fits.
        let mut objection = NegotiationError::NotOffered(NAME.to_owned());
        for offer in &self.offers {
            match fit(offer, &answer, client_bits) {
                Ok(()) => {
                    let codec = DeflateCodec::new(
                        self.options,
                        Direction {
                            max_window_bits: min_bits(offer.client_max_window_bits, client_bits),
                            no_context_takeover: offer.client_no_context_takeover
                                || answer.client_no_context_takeover,
                        },
                        Direction {
                            max_window_bits: answer.server_max_window_bits,
                            no_context_takeover: answer.server_no_context_takeover,
                        },
                    );
                    return Ok(Box::new(codec));
                }
                Err(error) => objection = error,
            }
        }
        Err(objection)
    }
}

/// Whether `answer` is a valid response to `offer` (RFC 7692 §7.1).
fn fit(
    offer: &DeflateParams,
    answer: &Received,
    client_bits: Option<u8>,
) -> Result<(), NegotiationError> {
    let missing = |name: &str| Err(NegotiationError::ParameterMissing(name.to_owned()));
    let not_offered = |name: &str| Err(NegotiationError::ParameterNotOffered(name.to_owned()));
    if offer.server_no_context_takeover && !answer.server_no_context_takeover {
        return missing(SERVER_NO_CONTEXT_TAKEOVER);
    }
    match (offer.server_max_window_bits, answer.server_max_window_bits) {
        (Some(_), None) => return missing(SERVER_MAX_WINDOW_BITS),
        (Some(offered), Some(answered)) if answered > offered => {
            return not_offered(SERVER_MAX_WINDOW_BITS);
        }
        _ => {}
    }
    match (offer.client_max_window_bits, client_bits) {
        (Some(offered), Some(answered)) if answered > offered => {
            not_offered(CLIENT_MAX_WINDOW_BITS)
        }
        _ => Ok(()),
    }
}

/// The smaller of two optional window limits, `None` meaning no limit.
fn min_bits(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
