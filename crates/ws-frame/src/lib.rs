//! The WebSocket frame layer of RFC 6455: opcodes, headers, close codes, masking, and an
//! incremental zero-copy [`Decoder`] with a matching [`Encoder`].
//!
//! This crate depends on `bytes` only and does no I/O, so it fits any runtime. A server
//! decodes masked frames from its read buffer and writes unmasked ones:
//!
//! ```
//! use bytes::BytesMut;
//! use ws_frame::{Decoder, Encoder, FrameHeader, OpCode, Role};
//!
//! // A client sent "Hello", masked, followed by the first byte of its next frame.
//! let mut read_buf = BytesMut::from(
//!     &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x89][..],
//! );
//! let mut decoder = Decoder::new(Role::Server);
//! let frame = decoder.decode(&mut read_buf)?.expect("one whole frame");
//! assert_eq!(frame.header.opcode, OpCode::TEXT);
//! assert_eq!(&frame.payload[..], b"Hello"); // unmasked in place, not copied
//! assert_eq!(decoder.decode(&mut read_buf)?, None); // the next frame is incomplete
//!
//! // Echo it: header and payload are two slices for one vectored write.
//! let mut encoder = Encoder::server();
//! let header = encoder.encode_header(FrameHeader::new(OpCode::TEXT, frame.payload.len() as u64));
//! let reply: [&[u8]; 2] = [&header, &frame.payload];
//! assert_eq!(reply.concat(), b"\x81\x05Hello");
//! # Ok::<(), ws_frame::DecodeError>(())
//! ```
//!
//! What this layer checks is in [`DecodeError`]; message-level rules (fragment order,
//! UTF-8, the close handshake) are the connection layer's job.
//!
//! `unsafe` code is confined to the SIMD masking loops (see [`apply_mask`]); the rest of
//! the crate denies it.
//!
//! # Without `std`
//!
//! The crate is `no_std` (it needs `alloc`, as `bytes` does) when built without its
//! default `std` feature: `ws-frame = { version = "0.1", default-features = false }`, for
//! an embedded or WebAssembly host. Everything stays available; the one difference is
//! that [`apply_mask`] can no longer ask the CPU which SIMD extensions it has, so it uses
//! those the build targets (x86-64: SSE2 always, AVX2 with `-C target-feature=+avx2` or a
//! `target-cpu` that has it; NEON on aarch64).

#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod close;
mod decode;
mod encode;
mod header;
#[allow(unsafe_code)]
mod mask;
mod opcode;

pub use close::CloseCode;
pub use decode::{DEFAULT_MAX_PAYLOAD_LEN, DecodeError, Decoder, Frame, MAX_CONTROL_PAYLOAD_LEN};
pub use encode::{Encoder, MaskKeySource};
pub use header::{EncodedHeader, FrameHeader, MAX_HEADER_LEN, Role, RsvBits};
pub use mask::{MaskBackend, apply_mask, apply_mask_at};
pub use opcode::OpCode;
