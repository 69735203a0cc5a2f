//! Close status codes (RFC 6455 §7.4) and close frame payloads (§5.5.1).

use core::fmt;

/// A close status code.
///
/// An open newtype over the 16-bit wire value: every value can be represented, the
/// registered ones have named constants, and [`CloseCode::is_valid_on_wire`] says whether a
/// code may appear in a close frame at all.
///
/// ```
/// use ws_frame::CloseCode;
///
/// assert!(CloseCode::NORMAL.is_valid_on_wire());
/// // 1005 stands for "no code was sent"; it must never be sent.
/// assert!(!CloseCode::NO_STATUS.is_valid_on_wire());
/// // Codes 3000–4999 belong to libraries and applications.
/// assert!(CloseCode::from(4001).is_valid_on_wire());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

macro_rules! close_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $label:literal;)*) => {
        impl CloseCode {
            $($(#[$doc])* pub const $name: CloseCode = CloseCode($value);)*

            /// The registered name of the code, if it has one.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($label),)*
                    _ => None,
                }
            }
        }
    };
}

close_codes! {
    /// 1000: the purpose of the connection has been fulfilled.
    NORMAL = 1000, "normal closure";
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    GOING_AWAY = 1001, "going away";
    /// 1002: the peer broke the protocol.
    PROTOCOL_ERROR = 1002, "protocol error";
    /// 1003: a data type the endpoint cannot accept (e.g. binary to a text-only endpoint).
    UNSUPPORTED_DATA = 1003, "unsupported data";
    /// 1004: reserved; must not be sent.
    RESERVED = 1004, "reserved";
    /// 1005: stands for "the close frame had no code"; must not be sent.
    NO_STATUS = 1005, "no status received";
    /// 1006: stands for "closed without a close frame"; must not be sent.
    ABNORMAL = 1006, "abnormal closure";
    /// 1007: message data inconsistent with its type (e.g. invalid UTF-8 in text).
    INVALID_PAYLOAD = 1007, "invalid frame payload data";
    /// 1008: a message violated the endpoint's policy.
    POLICY_VIOLATION = 1008, "policy violation";
    /// 1009: a message too big to process.
    MESSAGE_TOO_BIG = 1009, "message too big";
    /// 1010: (client) the server did not negotiate an extension the client requires.
    MANDATORY_EXTENSION = 1010, "mandatory extension";
    /// 1011: (server) an unexpected condition prevented the server from fulfilling the request.
    INTERNAL_ERROR = 1011, "internal error";
    /// 1012: the service is restarting (IANA registry).
    SERVICE_RESTART = 1012, "service restart";
    /// 1013: try again later (IANA registry).
    TRY_AGAIN_LATER = 1013, "try again later";
    /// 1014: the gateway received an invalid response (IANA registry).
    BAD_GATEWAY = 1014, "bad gateway";
    /// 1015: stands for "the TLS handshake failed"; must not be sent.
    TLS_HANDSHAKE = 1015, "TLS handshake failure";
}

impl CloseCode {
    /// The 16-bit wire value.
    #[inline]
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this code may be sent in a close frame, and so whether a received close
    /// frame carrying it is valid (RFC 6455 §7.4.1, §7.4.2 and the IANA registry).
    ///
    /// Valid: 1000–1003, 1007–1014 and the library/application range 3000–4999.
    /// Invalid: everything below 1000, the reserved 1004, the stand-ins 1005, 1006 and
    /// 1015 that only exist locally, the unassigned rest of 1016–2999, and 5000 and above.
    /// A close frame received with an invalid code is a protocol error (close with 1002).
    #[inline]
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    #[inline]
    fn from(value: u16) -> Self {
        CloseCode(value)
    }
}

impl From<CloseCode> for u16 {
    #[inline]
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "CloseCode({} {name})", self.0),
            None => write!(f, "CloseCode({})", self.0),
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_matches_autobahn_7_7_and_7_9() {
        for ok in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(CloseCode::from(ok).is_valid_on_wire(), "{ok}");
        }
        for bad in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!CloseCode::from(bad).is_valid_on_wire(), "{bad}");
        }
    }

    #[test]
    fn names_and_display() {
        assert_eq!(
            CloseCode::MESSAGE_TOO_BIG.to_string(),
            "1009 (message too big)"
        );
        assert_eq!(CloseCode::from(4000).to_string(), "4000");
        assert_eq!(
            format!("{:?}", CloseCode::NORMAL),
            "CloseCode(1000 normal closure)"
        );
        assert_eq!(u16::from(CloseCode::GOING_AWAY), 1001);
    }
}
