//! Frame opcodes (RFC 6455 §5.2, §11.8).

use core::fmt;

/// The 4-bit opcode of a frame.
///
/// An open newtype: the six opcodes RFC 6455 defines have named constants, and the ten
/// reserved values stay representable (and distinguishable) so that a decoder can report
/// exactly which one it saw and an extension that defines one can still encode it.
///
/// ```
/// use ws_frame::OpCode;
///
/// assert_eq!(OpCode::from_bits(0x1), OpCode::TEXT);
/// assert!(OpCode::PING.is_control());
/// assert!(OpCode::from_bits(0x3).is_reserved());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpCode(u8);

impl OpCode {
    /// `0x0`: continues a fragmented message.
    pub const CONTINUATION: OpCode = OpCode(0x0);
    /// `0x1`: first frame of a text message.
    pub const TEXT: OpCode = OpCode(0x1);
    /// `0x2`: first frame of a binary message.
    pub const BINARY: OpCode = OpCode(0x2);
    /// `0x8`: connection close.
    pub const CLOSE: OpCode = OpCode(0x8);
    /// `0x9`: ping.
    pub const PING: OpCode = OpCode(0x9);
    /// `0xA`: pong.
    pub const PONG: OpCode = OpCode(0xA);

    /// The opcode held in the low four bits of `bits`; the high bits are ignored.
    #[inline]
    pub const fn from_bits(bits: u8) -> OpCode {
        OpCode(bits & 0x0F)
    }

    /// The opcode's 4-bit wire value.
    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether this is a control opcode (`0x8`–`0xF`, reserved ones included).
    #[inline]
    pub const fn is_control(self) -> bool {
        self.0 & 0x08 != 0
    }

    /// Whether this is a data opcode (`0x0`–`0x7`, reserved ones included).
    #[inline]
    pub const fn is_data(self) -> bool {
        !self.is_control()
    }

    /// Whether RFC 6455 leaves this opcode reserved (`0x3`–`0x7`, `0xB`–`0xF`).
    #[inline]
    pub const fn is_reserved(self) -> bool {
        matches!(self.0, 0x3..=0x7 | 0xB..=0xF)
    }

    fn name(self) -> Option<&'static str> {
        Some(match self {
            OpCode::CONTINUATION => "Continuation",
            OpCode::TEXT => "Text",
            OpCode::BINARY => "Binary",
            OpCode::CLOSE => "Close",
            OpCode::PING => "Ping",
            OpCode::PONG => "Pong",
            _ => return None,
        })
    }
}

impl fmt::Debug for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Reserved({:#x})", self.0),
        }
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_classified() {
        for bits in 0..16u8 {
            let op = OpCode::from_bits(bits);
            assert_eq!(op.bits(), bits);
            assert_eq!(op.is_control(), bits >= 8);
            let defined = [0, 1, 2, 8, 9, 10].contains(&bits);
            assert_eq!(op.is_reserved(), !defined, "{bits:#x}");
        }
    }

    #[test]
    fn high_bits_ignored() {
        assert_eq!(OpCode::from_bits(0x81), OpCode::TEXT);
    }

    #[test]
    fn debug_names_reserved_values() {
        assert_eq!(format!("{:?}", OpCode::PING), "Ping");
        assert_eq!(format!("{:?}", OpCode::from_bits(0xB)), "Reserved(0xb)");
    }
}
