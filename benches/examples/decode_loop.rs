//! Decodes 10,000 small masked frames once: a fixed workload for instruction counting
//! (`valgrind --tool=callgrind`), which stays repeatable on a busy machine.

use std::hint::black_box;

use bytes::BytesMut;
use ws_frame::{Decoder, Encoder, FrameHeader, OpCode, Role};

fn main() {
    let mut encoder = Encoder::client(|| [1, 2, 3, 4]);
    let mut wire = BytesMut::new();
    for i in 0..10_000u32 {
        encoder.encode(
            FrameHeader::new(OpCode::BINARY, 16),
            &[i as u8; 16],
            &mut wire,
        );
    }
    assert_eq!(decode_all(&mut wire), 10_000);
}

/// The measured part (callgrind `--toggle-collect=*decode_all*`).
#[inline(never)]
fn decode_all(wire: &mut BytesMut) -> usize {
    let decoder = Decoder::new(Role::Server);
    let mut frames = 0;
    while let Some(frame) = decoder.decode(wire).expect("valid frames") {
        black_box(frame);
        frames += 1;
    }
    frames
}
