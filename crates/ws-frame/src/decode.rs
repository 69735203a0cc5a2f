//! Incremental, zero-copy frame decoding.

use core::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::{CloseCode, FrameHeader, MAX_HEADER_LEN, OpCode, Role, RsvBits, apply_mask};

/// The default limit on one frame's payload: 16 MiB.
pub const DEFAULT_MAX_PAYLOAD_LEN: u64 = 16 << 20;

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD_LEN: u64 = 125;

/// One decoded frame: its header and its unmasked payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The header as received; `mask` still holds the key the frame arrived with.
    pub header: FrameHeader,
    /// The payload, already unmasked. It shares memory with the input buffer it was split
    /// from: no byte was copied.
    pub payload: Bytes,
}

/// An incremental frame decoder.
///
/// Feed it the bytes received so far; it splits whole frames off the front of the buffer
/// and unmasks their payloads in place. Any split of the input, down to one byte at a time,
/// yields the same frames. Each header is validated as soon as its bytes are there, before
/// any of its payload is waited for, so a frame that breaks a rule or the size limit is
/// refused without buffering it.
///
/// The decoder checks single frames only. Message-level rules (continuation order, UTF-8,
/// close payloads) belong to the connection layer above. It keeps no state between calls
/// beyond its configuration: an incomplete frame simply stays in the buffer.
///
/// ```
/// use bytes::BytesMut;
/// use ws_frame::{Decoder, OpCode, Role};
///
/// let decoder = Decoder::new(Role::Client);
/// let mut input = BytesMut::from(&[0x81, 0x05, b'H', b'e'][..]);
/// assert_eq!(decoder.decode(&mut input)?, None); // payload incomplete
/// input.extend_from_slice(b"llo");
/// let frame = decoder.decode(&mut input)?.expect("a whole frame");
/// assert_eq!(frame.header.opcode, OpCode::TEXT);
/// assert_eq!(&frame.payload[..], b"Hello");
/// # Ok::<(), ws_frame::DecodeError>(())
/// ```
///
/// After an error the byte stream cannot be resynchronised: fail the connection with
/// [`DecodeError::close_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoder {
    role: Role,
    max_payload_len: u64,
    allowed_rsv: RsvBits,
}

impl Decoder {
    /// A decoder for an endpoint of `role`: a server expects masked frames, a client
    /// unmasked ones. No RSV bit is allowed and payloads are limited to
    /// [`DEFAULT_MAX_PAYLOAD_LEN`].
    pub fn new(role: Role) -> Decoder {
        Decoder {
            role,
            max_payload_len: DEFAULT_MAX_PAYLOAD_LEN,
            allowed_rsv: RsvBits::NONE,
        }
    }

    /// Sets the largest frame payload accepted; a longer frame is refused from its header.
    pub fn with_max_payload_len(mut self, max: u64) -> Decoder {
        // Clamped so that every accepted frame, header included, fits in memory here.
        self.max_payload_len = max.min((usize::MAX - MAX_HEADER_LEN) as u64);
        self
    }

    /// Sets which RSV bits may be set, i.e. those owned by negotiated extensions.
    pub fn with_allowed_rsv(mut self, bits: RsvBits) -> Decoder {
        self.allowed_rsv = bits;
        self
    }

    /// The role this decoder was made for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The largest frame payload accepted.
    pub fn max_payload_len(&self) -> u64 {
        self.max_payload_len
    }

    /// Takes the next whole frame off the front of `src`.
    ///
    /// Returns `Ok(None)` when `src` does not yet hold a whole frame, leaving it untouched;
    /// call again once more bytes have been appended. The decoder never allocates: growing
    /// `src` is left to the caller.
    #[inline]
    pub fn decode(&self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        let Some((header, header_len)) = self.peek_header(src)? else {
            return Ok(None);
        };
        // Cannot overflow: `peek_header` refused anything over `max_payload_len`, which
        // leaves room for the header below `usize::MAX`.
        let frame_len = header_len + header.payload_len as usize;
        if src.len() < frame_len {
            return Ok(None);
        }
        // One split per frame, header included: the header is then skipped on the frozen
        // `Bytes`, which is cheaper than advancing `src` separately.
        let mut frame = src.split_to(frame_len);
        if let Some(key) = header.mask {
            apply_mask(&mut frame[header_len..], key);
        }
        let mut payload = frame.freeze();
        payload.advance(header_len);
        Ok(Some(Frame { header, payload }))
    }

    /// Parses and validates the header at the front of `src` without consuming anything:
    /// the header and its encoded length, or `None` while it is incomplete.
    ///
    /// [`Decoder::decode`] uses this; call it directly to look at a frame whose payload is
    /// still arriving, e.g. to validate the part of a text payload received so far (unmask
    /// a copy of it with [`apply_mask_at`](crate::apply_mask_at)).
    ///
    /// ```
    /// use ws_frame::{Decoder, OpCode, Role};
    ///
    /// let decoder = Decoder::new(Role::Client);
    /// let (header, header_len) = decoder.peek_header(b"\x81\x7e\x01\x00Hel")?.unwrap();
    /// assert_eq!((header.opcode, header.payload_len, header_len), (OpCode::TEXT, 256, 4));
    /// # Ok::<(), ws_frame::DecodeError>(())
    /// ```
    // The rules are checked one by one in a fixed order: the branches predict perfectly on
    // valid traffic, and a branch-free variant measured slower.
    #[inline]
    pub fn peek_header(&self, src: &[u8]) -> Result<Option<(FrameHeader, usize)>, DecodeError> {
        let &[first, second, ref rest @ ..] = src else {
            return Ok(None);
        };
        // Everything the first two bytes can tell is checked before waiting for more.
        let opcode = OpCode::from_bits(first);
        if opcode.is_reserved() {
            return Err(DecodeError::ReservedOpCode(opcode));
        }
        let rsv = RsvBits::from_first_byte(first);
        let unexpected = rsv.difference(self.allowed_rsv);
        if !unexpected.is_empty() {
            return Err(DecodeError::UnexpectedRsvBits(unexpected));
        }
        if opcode.is_control() {
            if first & 0x80 == 0 {
                return Err(DecodeError::FragmentedControlFrame(opcode));
            }
            if u64::from(second & 0x7F) > MAX_CONTROL_PAYLOAD_LEN {
                return Err(DecodeError::ControlFrameTooLong(opcode));
            }
        }
        match (self.role, second & 0x80 != 0) {
            (Role::Server, false) => return Err(DecodeError::UnmaskedFrame),
            (Role::Client, true) => return Err(DecodeError::MaskedFrame),
            _ => {}
        }
        let (payload_len, rest) = match second & 0x7F {
            126 => match rest.split_first_chunk::<2>() {
                Some((len, rest)) => (u64::from(u16::from_be_bytes(*len)), rest),
                None => return Ok(None),
            },
            127 => match rest.split_first_chunk::<8>() {
                Some((len, rest)) => (u64::from_be_bytes(*len), rest),
                None => return Ok(None),
            },
            short => (u64::from(short), rest),
        };
        if payload_len > self.max_payload_len {
            return Err(if payload_len >> 63 != 0 {
                DecodeError::LengthOverflow
            } else {
                DecodeError::PayloadTooLarge {
                    len: payload_len,
                    max: self.max_payload_len,
                }
            });
        }
        let (mask, rest) = if second & 0x80 != 0 {
            match rest.split_first_chunk::<4>() {
                Some((key, rest)) => (Some(*key), rest),
                None => return Ok(None),
            }
        } else {
            (None, rest)
        };
        let header = FrameHeader {
            fin: first & 0x80 != 0,
            rsv: RsvBits::from_first_byte(first),
            opcode: OpCode::from_bits(first),
            mask,
            payload_len,
        };
        Ok(Some((header, src.len() - rest.len())))
    }
}

/// A frame that breaks RFC 6455 §5 or the decoder's limits.
///
/// Each variant names the rule; [`DecodeError::close_code`] gives the code to close with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The opcode is one RFC 6455 reserves (`0x3`–`0x7`, `0xB`–`0xF`).
    ReservedOpCode(OpCode),
    /// RSV bits are set that no negotiated extension owns.
    UnexpectedRsvBits(RsvBits),
    /// A control frame without FIN: control frames must not be fragmented.
    FragmentedControlFrame(OpCode),
    /// A control frame announcing a payload over 125 bytes.
    ControlFrameTooLong(OpCode),
    /// A server received an unmasked frame: clients must mask every frame.
    UnmaskedFrame,
    /// A client received a masked frame: servers must not mask.
    MaskedFrame,
    /// A 64-bit payload length with its most significant bit set.
    LengthOverflow,
    /// A payload longer than the configured limit.
    PayloadTooLarge {
        /// The length the header announced.
        len: u64,
        /// The configured limit.
        max: u64,
    },
}

impl DecodeError {
    /// The close code to fail the connection with: 1009 for an over-limit payload, 1002
    /// (protocol error) for the rest.
    pub fn close_code(&self) -> CloseCode {
        match self {
            DecodeError::PayloadTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::ReservedOpCode(op) => {
                write!(f, "frame uses reserved opcode {:#x}", op.bits())
            }
            DecodeError::UnexpectedRsvBits(bits) => {
                write!(
                    f,
                    "frame sets RSV bits {bits:?} that no extension negotiated"
                )
            }
            DecodeError::FragmentedControlFrame(op) => {
                write!(f, "{op} control frame is fragmented (FIN not set)")
            }
            DecodeError::ControlFrameTooLong(op) => {
                write!(f, "{op} control frame payload is longer than 125 bytes")
            }
            DecodeError::UnmaskedFrame => f.write_str("client frame is not masked"),
            DecodeError::MaskedFrame => f.write_str("server frame is masked"),
            DecodeError::LengthOverflow => {
                f.write_str("64-bit payload length has its most significant bit set")
            }
            DecodeError::PayloadTooLarge { len, max } => {
                write!(f, "frame payload of {len} bytes exceeds the limit of {max}")
            }
        }
    }
}

impl core::error::Error for DecodeError {}
