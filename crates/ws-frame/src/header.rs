//! Frame header, RSV bits and endpoint role (RFC 6455 §5.2).

use core::{fmt, ops};

use bytes::BufMut;

use crate::OpCode;

/// The largest encoded header: 2 bytes, an 8-byte extended length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// Which side of the connection this endpoint is.
///
/// The role decides masking (RFC 6455 §5.1): a client masks every frame it sends and a
/// server masks none, so a server must reject unmasked frames and a client masked ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The side that opened the connection; masks what it sends.
    Client,
    /// The side that accepted the connection; sends unmasked frames.
    Server,
}

impl Role {
    /// The other side.
    #[inline]
    pub const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// Whether frames sent by this role carry a mask key.
    #[inline]
    pub const fn masks_outgoing(self) -> bool {
        matches!(self, Role::Client)
    }
}

/// A set of the three RSV bits of a frame header.
///
/// Extensions claim RSV bits (permessage-deflate uses RSV1); the decoder rejects any bit
/// that was not negotiated, and negotiation refuses two extensions claiming the same bit.
///
/// ```
/// use ws_frame::RsvBits;
///
/// let claimed = RsvBits::RSV1 | RsvBits::RSV3;
/// assert!(claimed.contains(RsvBits::RSV1));
/// assert!(!claimed.intersects(RsvBits::RSV2));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RsvBits(u8);

impl RsvBits {
    /// No bit.
    pub const NONE: RsvBits = RsvBits(0);
    /// RSV1 (`0x40` of the first header byte).
    pub const RSV1: RsvBits = RsvBits(0x40);
    /// RSV2 (`0x20` of the first header byte).
    pub const RSV2: RsvBits = RsvBits(0x20);
    /// RSV3 (`0x10` of the first header byte).
    pub const RSV3: RsvBits = RsvBits(0x10);
    /// All three bits.
    pub const ALL: RsvBits = RsvBits(0x70);

    /// The RSV bits of a frame's first header byte; the other bits are ignored.
    #[inline]
    pub const fn from_first_byte(byte: u8) -> RsvBits {
        RsvBits(byte & 0x70)
    }

    /// The bits as they sit in the first header byte.
    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether no bit is set.
    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is in `self`.
    #[inline]
    pub const fn contains(self, other: RsvBits) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a bit.
    #[inline]
    pub const fn intersects(self, other: RsvBits) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits of `self` that are not in `other`.
    #[inline]
    pub const fn difference(self, other: RsvBits) -> RsvBits {
        RsvBits(self.0 & !other.0)
    }
}

impl ops::BitOr for RsvBits {
    type Output = RsvBits;
    #[inline]
    fn bitor(self, rhs: RsvBits) -> RsvBits {
        RsvBits(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for RsvBits {
    #[inline]
    fn bitor_assign(&mut self, rhs: RsvBits) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for RsvBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (RsvBits::RSV1, "RSV1"),
            (RsvBits::RSV2, "RSV2"),
            (RsvBits::RSV3, "RSV3"),
        ];
        let mut set = f.debug_set();
        for (bit, name) in names {
            if self.contains(bit) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}

/// The header of one frame.
///
/// Decoded frames keep the mask key they arrived with (their payload is already unmasked).
/// For encoding, build one with [`FrameHeader::new`] and adjust fields with struct update
/// syntax:
///
/// ```
/// use ws_frame::{FrameHeader, OpCode};
///
/// // The first fragment of a text message of 3 bytes.
/// let header = FrameHeader { fin: false, ..FrameHeader::new(OpCode::TEXT, 3) };
/// assert_eq!(header.encode().as_bytes(), &[0x01, 0x03]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// Whether this is the last frame of its message.
    pub fin: bool,
    /// The RSV bits set on the frame.
    pub rsv: RsvBits,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present exactly when the frame is (or was, on the wire) masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A final, unmasked frame with no RSV bits.
    #[inline]
    pub const fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: RsvBits::NONE,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// The number of bytes [`FrameHeader::encode`] produces: 2 to 14.
    #[inline]
    pub const fn encoded_len(&self) -> usize {
        let length_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        let mask_bytes = if self.mask.is_some() { 4 } else { 0 };
        2 + length_bytes + mask_bytes
    }

    /// Encodes the header, always with the shortest length form.
    ///
    /// # Panics
    ///
    /// If `payload_len` has its top bit set: RFC 6455 forbids such lengths, and no
    /// payload that large can exist in memory.
    #[inline]
    pub fn encode(&self) -> EncodedHeader {
        assert!(
            self.payload_len >> 63 == 0,
            "payload length {} exceeds 2^63 - 1",
            self.payload_len
        );
        let mut bytes = [0u8; MAX_HEADER_LEN];
        bytes[0] = u8::from(self.fin) << 7 | self.rsv.bits() | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = match self.payload_len {
            short @ 0..=125 => {
                bytes[1] = mask_bit | short as u8;
                2
            }
            medium @ 126..=0xFFFF => {
                bytes[1] = mask_bit | 126;
                bytes[2..4].copy_from_slice(&(medium as u16).to_be_bytes());
                4
            }
            long => {
                bytes[1] = mask_bit | 127;
                bytes[2..10].copy_from_slice(&long.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            bytes[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        EncodedHeader {
            bytes,
            len: len as u8,
        }
    }

    /// Appends the encoded header to `dst`.
    #[inline]
    pub fn write_to(&self, dst: &mut impl BufMut) {
        dst.put_slice(self.encode().as_bytes());
    }
}

/// An encoded frame header: up to [`MAX_HEADER_LEN`] bytes held inline, no allocation.
///
/// Write it and the payload as two slices of one vectored write to avoid copying the
/// payload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncodedHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl EncodedHeader {
    /// The header bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The mask key the header carries, if the frame is masked.
    #[inline]
    pub fn mask_key(&self) -> Option<[u8; 4]> {
        let masked = self.bytes[1] & 0x80 != 0;
        let end = usize::from(self.len);
        masked.then(|| {
            [
                self.bytes[end - 4],
                self.bytes[end - 3],
                self.bytes[end - 2],
                self.bytes[end - 1],
            ]
        })
    }
}

impl AsRef<[u8]> for EncodedHeader {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl ops::Deref for EncodedHeader {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncodedHeader({:02x?})", self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_length_form_at_every_boundary() {
        for (len, expect) in [
            (0u64, 2usize),
            (125, 2),
            (126, 4),
            (0xFFFF, 4),
            (0x1_0000, 10),
            (u64::MAX >> 1, 10),
        ] {
            let header = FrameHeader::new(OpCode::BINARY, len);
            assert_eq!(header.encoded_len(), expect, "{len}");
            assert_eq!(header.encode().len(), expect, "{len}");
            let masked = FrameHeader {
                mask: Some([1, 2, 3, 4]),
                ..header
            };
            assert_eq!(masked.encode().len(), expect + 4, "{len}");
        }
    }

    #[test]
    fn rfc_examples() {
        // RFC 6455 §5.7: unmasked "Hello" and a 256-byte binary frame.
        let hello = FrameHeader::new(OpCode::TEXT, 5).encode();
        assert_eq!(hello.as_bytes(), &[0x81, 0x05]);
        let masked = FrameHeader {
            mask: Some([0x37, 0xfa, 0x21, 0x3d]),
            ..FrameHeader::new(OpCode::TEXT, 5)
        };
        assert_eq!(
            masked.encode().as_bytes(),
            &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]
        );
        let big = FrameHeader::new(OpCode::BINARY, 256).encode();
        assert_eq!(big.as_bytes(), &[0x82, 0x7E, 0x01, 0x00]);
        let huge = FrameHeader::new(OpCode::BINARY, 65536).encode();
        assert_eq!(huge.as_bytes(), &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn rsv_and_fin_bits() {
        let header = FrameHeader {
            fin: false,
            rsv: RsvBits::RSV1 | RsvBits::RSV3,
            ..FrameHeader::new(OpCode::CONTINUATION, 0)
        };
        assert_eq!(header.encode().as_bytes(), &[0x50, 0x00]);
        assert_eq!(format!("{:?}", header.rsv), "{RSV1, RSV3}");
    }

    #[test]
    #[should_panic(expected = "exceeds 2^63 - 1")]
    fn top_bit_length_refused() {
        FrameHeader::new(OpCode::BINARY, 1 << 63).encode();
    }

    #[test]
    fn role_masking() {
        assert!(Role::Client.masks_outgoing());
        assert!(!Role::Server.masks_outgoing());
        assert_eq!(Role::Client.peer(), Role::Server);
    }
}
