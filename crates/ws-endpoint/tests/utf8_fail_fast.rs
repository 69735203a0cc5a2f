//! Invalid UTF-8 is refused on the first byte that can no longer become valid, even while
//! the frame carrying it is still arriving (Autobahn 6.4.3 / 6.4.4).

mod common;

use common::*;
use ws_endpoint::{Config, ConnectionError, Event};
use ws_frame::OpCode;

#[test]
fn fails_inside_an_incomplete_frame() {
    let (mut server, now) = open_server(server_config());
    let mut text = "κόσμε".as_bytes().to_vec();
    text.extend(b"\xf4\x90\x80\x80"); // out of range: invalid from its second byte
    text.extend(vec![b'a'; 10_000]);
    let frame = masked(true, OpCode::TEXT, &text);
    // Header (8 bytes) and the payload up to the first byte of the bad sequence.
    let header = 8;
    let bad = "κόσμε".len() + 1; // the 0x90
    server.receive(&frame[..header + bad], now);
    assert!(server.poll_event().is_none(), "still valid so far");
    server.receive(&frame[header + bad..header + bad + 1], now);
    let error = assert_failed_with(&mut server, 1007);
    assert_eq!(error, ConnectionError::InvalidUtf8);
}

#[test]
fn fails_inside_an_incomplete_continuation() {
    let (mut server, now) = open_server(server_config());
    let mut input = masked(false, OpCode::TEXT, b"abc\xe2");
    let cont = masked(
        true,
        OpCode::CONTINUATION,
        &[b"\x82".as_slice(), b"(", &[b'x'; 500]].concat(),
    );
    input.extend(&cont[..4 + 4 + 2]);
    server.receive(&input, now);
    assert_failed_with(&mut server, 1007);
}

#[test]
fn valid_text_trickled_is_validated_once() {
    // Byte by byte, each piece of the frame is checked as it arrives, and the complete
    // frame is not checked again from its start (that would break the carried state).
    let (mut server, now) = open_server(server_config());
    let text = "€🦀ü".repeat(50);
    let frame = masked(true, OpCode::TEXT, text.as_bytes());
    for chunk in frame.chunks(3) {
        server.receive(chunk, now);
    }
    let got = events(&mut server);
    assert!(
        matches!(&got[..], [Event::Text(t)] if t.as_str() == text),
        "{got:?}"
    );

    // Fragmented and trickled.
    let bytes = text.as_bytes();
    let mut input = masked(false, OpCode::TEXT, &bytes[..7]);
    input.extend(masked(true, OpCode::PING, b""));
    input.extend(masked(false, OpCode::CONTINUATION, &bytes[7..100]));
    input.extend(masked(true, OpCode::CONTINUATION, &bytes[100..]));
    for byte in input {
        server.receive(&[byte], now);
    }
    let events = events(&mut server);
    assert!(
        matches!(&events[1], Event::Text(t) if t.as_str() == text),
        "{events:?}"
    );
}

#[test]
fn fails_in_the_pair_before_the_message_ends() {
    // The client cannot send invalid text; play the bytes into the server by hand.
    let mut pair = Pair::connected_with(Config::default(), server_config());
    let now = pair.time;
    let mut payload = vec![b'a'; 100];
    payload.push(0xc0);
    payload.extend(vec![b'a'; 100_000]);
    let frame = masked(true, OpCode::TEXT, &payload);
    pair.server.endpoint.receive(&frame[..200], now);
    pair.drive();
    assert_eq!(pair.server.error(), Some(&ConnectionError::InvalidUtf8));
    assert_eq!(pair.client.closed().unwrap().code.as_u16(), 1007);
}
