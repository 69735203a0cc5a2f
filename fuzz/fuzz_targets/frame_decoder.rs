//! The frame decoder on arbitrary bytes, fed in arbitrary pieces.
//!
//! Besides "no panic", it checks that decoding is split-independent (pieces give the same
//! frames and the same error as the whole input at once) and that every decoded frame
//! re-encodes to bytes that decode to the same frame.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use ws_frame::{DecodeError, Decoder, Encoder, Frame, FrameHeader, Role, RsvBits};

/// Decodes `pieces` in turn; returns the frames and the error that stopped it, if any.
fn decode<'a>(
    decoder: Decoder,
    pieces: impl Iterator<Item = &'a [u8]>,
) -> (Vec<Frame>, Option<DecodeError>) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(err) => return (frames, Some(err)),
            }
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let [config, piece_len, input @ ..] = data else {
        return;
    };
    let role = if config & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let decoder = Decoder::new(role)
        .with_allowed_rsv(RsvBits::from_first_byte(*config))
        .with_max_payload_len(u64::from(config >> 1) * 64);

    let whole = decode(decoder, std::iter::once(input));
    let piece_len = usize::from(*piece_len).max(1);
    let pieces = decode(decoder, input.chunks(piece_len));
    assert_eq!(whole, pieces, "result depends on how the input was split");

    // What the peer role encodes from a decoded frame decodes back to the same frame.
    let (frames, _) = whole;
    let mut encoder = match role.peer() {
        Role::Client => Encoder::client(|| [0xA5, 0x5A, 0x3C, 0xC3]),
        Role::Server => Encoder::server(),
    };
    for frame in frames {
        let mut wire = BytesMut::new();
        let header = FrameHeader {
            mask: None,
            ..frame.header
        };
        encoder.encode(header, &frame.payload, &mut wire);
        let again = decoder
            .decode(&mut wire)
            .expect("re-encoded frame is valid")
            .expect("complete");
        assert_eq!(again.payload, frame.payload);
        assert_eq!(
            FrameHeader {
                mask: None,
                ..again.header
            },
            header
        );
        assert!(wire.is_empty());
    }
});
