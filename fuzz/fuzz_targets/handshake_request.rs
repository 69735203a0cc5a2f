//! The server's request parser on arbitrary bytes, fed in arbitrary pieces.
//!
//! Besides "no panic", it checks that parsing is split-independent (feeding the input in
//! pieces gives the same result as the whole at once), that the reported head length lies
//! within the input, and that accepting or refusing what was parsed never panics either.
//! A request that is not an upgrade is also checked as an extended CONNECT (RFC 8441), as
//! an HTTP/2 server would hand it over, and accepted the same way when valid.

#![no_main]

use http::{Method, Version};
use libfuzzer_sys::fuzz_target;
use ws_handshake::{Accept, Incoming, Limits, UpgradeRequest};

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
            match incoming {
                Incoming::Upgrade(upgrade) => accept_offers(&upgrade)
                    .encode(&mut reply)
                    .expect("accepting what was offered is valid"),
                Incoming::Plain(mut request) => {
                    // The parsed method and headers, as the HTTP/2 library would give them.
                    *request.version_mut() = Version::HTTP_2;
                    if config & 2 == 2 {
                        *request.method_mut() = Method::CONNECT;
                    }
                    let protocol = if config & 4 == 4 { "websocket" } else { "h2" };
                    match UpgradeRequest::from_extended_connect(request, protocol) {
                        Ok(upgrade) => {
                            let response = accept_offers(&upgrade)
                                .into_response()
                                .expect("accepting what was offered is valid");
                            assert_eq!(response.status(), 200);
                        }
                        Err(error) => error.write_response(&mut reply),
                    }
                }
            }
        }
        Ok(None) => {}
        Err(error) => error.write_response(&mut reply),
    }
});

/// The acceptance of the first subprotocol and every extension offered.
fn accept_offers(upgrade: &UpgradeRequest) -> Accept<'_> {
    let offered = upgrade.protocols().first().cloned().unwrap_or_default();
    let mut accept = upgrade.accept().select_protocol(&[offered.as_str()]);
    for extension in upgrade.extensions() {
        accept = accept.extension(extension.clone());
    }
    accept
}
