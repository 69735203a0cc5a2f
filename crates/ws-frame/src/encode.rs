//! Frame encoding for either role.

use alloc::boxed::Box;
use core::fmt;

use bytes::BytesMut;

use crate::{EncodedHeader, FrameHeader, Role, apply_mask};

/// Where a client's masking keys come from.
///
/// RFC 6455 §5.3 requires a fresh, unpredictable key per frame, from a strong source of
/// entropy. This crate has no random number generator of its own; pass one in, e.g. a
/// closure over a seeded CSPRNG. Any `FnMut() -> [u8; 4] + Send` closure is a source.
pub trait MaskKeySource: Send {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4] + Send> MaskKeySource for F {
    #[inline]
    fn next_key(&mut self) -> [u8; 4] {
        self()
    }
}

/// Encodes frames for one side of a connection.
///
/// A server's frames go out unmasked: [`Encoder::encode_header`] gives the header alone so
/// that header and payload can be written as two slices of one vectored write, with no
/// copy. A client's frames are masked with a key from its [`MaskKeySource`];
/// [`Encoder::encode`] masks the payload while appending it to the output.
///
/// ```
/// use bytes::BytesMut;
/// use ws_frame::{Encoder, FrameHeader, OpCode};
///
/// let mut server = Encoder::server();
/// let header = server.encode_header(FrameHeader::new(OpCode::TEXT, 5));
/// assert_eq!(header.as_bytes(), &[0x81, 0x05]); // then write b"Hello" after it
///
/// let mut client = Encoder::client(|| [0x37, 0xfa, 0x21, 0x3d]); // use a CSPRNG
/// let mut out = BytesMut::new();
/// client.encode(FrameHeader::new(OpCode::TEXT, 5), b"Hello", &mut out);
/// assert_eq!(&out[..], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
pub struct Encoder {
    /// `Some` exactly for a client.
    mask_keys: Option<Box<dyn MaskKeySource>>,
}

impl Encoder {
    /// An encoder for a server: frames are not masked.
    pub fn server() -> Encoder {
        Encoder { mask_keys: None }
    }

    /// An encoder for a client: every frame is masked with a key from `keys`.
    pub fn client(keys: impl MaskKeySource + 'static) -> Encoder {
        Encoder {
            mask_keys: Some(Box::new(keys)),
        }
    }

    /// The role this encoder writes for.
    pub fn role(&self) -> Role {
        match self.mask_keys {
            Some(_) => Role::Client,
            None => Role::Server,
        }
    }

    /// Encodes `header` as this role must send it: with a fresh mask key for a client,
    /// without one for a server (whatever `header.mask` held).
    ///
    /// A client must then mask the payload with [`EncodedHeader::mask_key`] (see
    /// [`apply_mask_at`](crate::apply_mask_at) for payloads written in pieces).
    #[inline]
    pub fn encode_header(&mut self, header: FrameHeader) -> EncodedHeader {
        FrameHeader {
            mask: self.mask_keys.as_mut().map(|keys| keys.next_key()),
            ..header
        }
        .encode()
    }

    /// Appends a whole frame to `dst`, masking the payload for a client.
    ///
    /// # Panics
    ///
    /// If `header.payload_len` differs from `payload.len()`.
    pub fn encode(&mut self, header: FrameHeader, payload: &[u8], dst: &mut BytesMut) {
        assert_eq!(
            header.payload_len,
            payload.len() as u64,
            "header.payload_len must equal the payload's length"
        );
        let encoded = self.encode_header(header);
        dst.reserve(encoded.len() + payload.len());
        dst.extend_from_slice(&encoded);
        let payload_start = dst.len();
        dst.extend_from_slice(payload);
        if let Some(key) = encoded.mask_key() {
            apply_mask(&mut dst[payload_start..], key);
        }
    }
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("role", &self.role())
            .finish_non_exhaustive()
    }
}
