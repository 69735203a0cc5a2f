//! Arbitrary bytes as compressed messages into permessage-deflate's incoming path, in
//! arbitrary frame sizes, under a small size limit.
//!
//! Besides "no panic", it checks the limit holds while inflating: whatever the input, the
//! output never grows past the limit plus one byte (less than one inflate chunk), and an
//! error is only ever `TooBig` or `Corrupt`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_extensions::{Extensions, INFLATE_CHUNK, MessageError, PerMessageDeflate};
use ws_frame::RsvBits;

fuzz_target!(|data: &[u8]| {
    let [config, piece_len, input @ ..] = data else {
        return;
    };
    let limit = usize::from(config >> 3) * 512;
    let bits = 8 + (config & 7);
    let offer = format!("permessage-deflate; client_max_window_bits={bits}");
    let mut server = Extensions::new()
        .with(PerMessageDeflate::new())
        .server_accept([offer.as_str()]);
    assert_eq!(server.rsv_bits(), RsvBits::RSV1);

    // The same bytes twice: the second message runs on the state the first one left, and
    // into a buffer with more spare room than the limit (a reused one), which must not
    // let inflating run past the limit.
    for round in 0..2 {
        server
            .begin_incoming(RsvBits::RSV1)
            .expect("RSV1 is negotiated");
        let mut out = Vec::with_capacity(round * (2 * limit + INFLATE_CHUNK));
        let pieces: Vec<&[u8]> = input.chunks(usize::from(*piece_len).max(1)).collect();
        let last = pieces.len().saturating_sub(1);
        let mut result = Ok(());
        if pieces.is_empty() {
            result = server.decode(&[], true, &mut out, limit);
        }
        for (i, piece) in pieces.iter().enumerate() {
            result = server.decode(piece, i == last, &mut out, limit);
            assert!(out.len() <= limit + 1 && out.len() < limit + INFLATE_CHUNK);
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => assert!(out.len() <= limit),
            Err(MessageError::TooBig | MessageError::Corrupt(_)) => return,
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
});
