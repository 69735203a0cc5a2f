//! The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` pair (RFC 6455 §4.1, §4.2.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 §1.3 appends to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` value: the base64 of the
/// SHA-1 of the key followed by the RFC 6455 GUID.
///
/// ```
/// assert_eq!(
///     ws_handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    STANDARD.encode(sha1.finalize())
}

/// A fresh `Sec-WebSocket-Key`: 16 bytes from the thread's CSPRNG, base64-encoded.
pub(crate) fn generate_key() -> String {
    STANDARD.encode(rand::random::<[u8; 16]>())
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: base64 of exactly 16 bytes.
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    // 16 bytes encode to 24 characters; checking first bounds the decoding work.
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|bytes| bytes.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_sample_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn generated_keys_are_valid_and_fresh() {
        let (a, b) = (generate_key(), generate_key());
        assert!(is_valid_key(a.as_bytes()));
        assert_ne!(a, b);
    }

    #[test]
    fn keys_must_decode_to_16_bytes() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        // 17 bytes; 16 bytes without the padding; a byte outside the alphabet.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZTE="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=!"));
        assert!(!is_valid_key(b""));
    }
}
