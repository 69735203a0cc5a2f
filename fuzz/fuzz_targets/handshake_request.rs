//! The server's request parser on arbitrary bytes, fed in arbitrary pieces.
//!
//! Besides "no panic", it checks that parsing is split-independent (feeding the input in
//! pieces gives the same result as the whole at once), that the reported head length lies
//! within the input, and that accepting or refusing what was parsed never panics either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{Incoming, Limits};

/// Parses `input` as a reader would, in `piece_len`-byte reads, and returns the first
/// outcome or error, as text (the outcome types hold `http` values without `PartialEq`).
fn parse_in_pieces(input: &[u8], piece_len: usize, limits: &Limits) -> String {
    let mut end = 0;
    loop {
        end = (end + piece_len).min(input.len());
        match Incoming::parse(&input[..end], limits) {
            Ok(None) if end < input.len() => {}
            result => return format!("{result:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [config, piece_len, input @ ..] = data else {
        return;
    };
    // Small limits half the time, so that every limit is reached often.
    let mut limits = Limits::default();
    if config & 1 == 1 {
        limits.max_headers = usize::from(config >> 4) + 1;
        limits.max_request_line = usize::from(*config) * 2;
        limits.max_head_bytes = usize::from(*config) * 8;
    }

    let whole = Incoming::parse(input, &limits);
    let pieces = parse_in_pieces(input, usize::from(*piece_len).max(1), &limits);
    assert_eq!(
        format!("{whole:?}"),
        pieces,
        "result depends on how the input was split"
    );

    let mut reply = Vec::new();
    match whole {
        Ok(Some((incoming, used))) => {
            assert!(used <= input.len());
            if let Incoming::Upgrade(upgrade) = incoming {
                let offered = upgrade.protocols().first().cloned().unwrap_or_default();
                let extensions = upgrade.extensions().to_vec();
                let mut accept = upgrade.accept().select_protocol(&[offered.as_str()]);
                for extension in extensions {
                    accept = accept.extension(extension);
                }
                accept
                    .encode(&mut reply)
                    .expect("accepting what was offered is valid");
            }
        }
        Ok(None) => {}
        Err(error) => error.write_response(&mut reply),
    }
});
