//! Every protocol error a peer can commit, each with its close code, played by hand.

mod common;

use common::*;
use ws_endpoint::{Config, ConnectionError, Event, ReadyState};
use ws_frame::{DecodeError, OpCode};

/// Feeds `input` to a fresh open server and checks it fails with `code`.
fn server_fails(input: &[u8], code: u16) -> ConnectionError {
    let (mut server, now) = open_server(server_config());
    server.receive(input, now);
    let error = assert_failed_with(&mut server, code);
    // Nothing more is processed or answered.
    server.receive(&masked(true, OpCode::PING, b"late"), now);
    assert!(server.poll_event().is_none());
    assert_eq!(server.transmit_len(), 0);
    error
}

#[test]
fn reserved_opcodes() {
    for op in [3u8, 7, 0xB, 0xF] {
        let mut frame = masked(true, OpCode::BINARY, b"x");
        frame[0] = 0x80 | op;
        let error = server_fails(&frame, 1002);
        assert!(matches!(
            error,
            ConnectionError::Frame(DecodeError::ReservedOpCode(_))
        ));
    }
}

#[test]
fn rsv_bits_without_extension() {
    for rsv in [0x40u8, 0x20, 0x10] {
        let mut frame = masked(true, OpCode::TEXT, b"x");
        frame[0] |= rsv;
        server_fails(&frame, 1002);
    }
}

#[test]
fn unmasked_frame_to_server() {
    let error = server_fails(&unmasked(true, OpCode::TEXT, b"hi"), 1002);
    assert_eq!(error, ConnectionError::Frame(DecodeError::UnmaskedFrame));
}

#[test]
fn masked_frame_to_client() {
    let (mut client, now) = open_client(Config::default());
    client.receive(&masked(true, OpCode::TEXT, b"hi"), now);
    let error = assert_failed_with(&mut client, 1002);
    assert_eq!(error, ConnectionError::Frame(DecodeError::MaskedFrame));
}

#[test]
fn fragmented_and_oversized_control_frames() {
    server_fails(&masked(false, OpCode::PING, b"x"), 1002);
    server_fails(&masked(true, OpCode::PING, &[0; 126]), 1002);
    server_fails(
        &masked(true, OpCode::CLOSE, &[0x03, 0xe8, 0, 0, 0, 0][..1]),
        1002,
    );
}

#[test]
fn continuation_without_start() {
    let error = server_fails(&masked(true, OpCode::CONTINUATION, b"x"), 1002);
    assert_eq!(error, ConnectionError::UnexpectedContinuation);
}

#[test]
fn new_message_inside_a_fragmented_one() {
    for op in [OpCode::TEXT, OpCode::BINARY] {
        let mut input = masked(false, OpCode::TEXT, b"a");
        input.extend(masked(true, op, b"b"));
        let error = server_fails(&input, 1002);
        assert_eq!(error, ConnectionError::ExpectedContinuation);
    }
}

#[test]
fn order_errors_are_caught_from_the_header() {
    // Only the header of the offending frame has arrived.
    let mut input = masked(false, OpCode::TEXT, b"a");
    input.extend(&masked(true, OpCode::BINARY, &[0; 1000])[..8]);
    let error = server_fails(&input, 1002);
    assert_eq!(error, ConnectionError::ExpectedContinuation);
    let error = server_fails(&masked(true, OpCode::CONTINUATION, &[0; 1000])[..8], 1002);
    assert_eq!(error, ConnectionError::UnexpectedContinuation);
}

#[test]
fn invalid_utf8_text() {
    let error = server_fails(&masked(true, OpCode::TEXT, b"ok \xff"), 1007);
    assert_eq!(error, ConnectionError::InvalidUtf8);
    // Valid prefix, cut short at the end of the message.
    server_fails(
        &masked(true, OpCode::TEXT, "€".as_bytes()[..2].as_ref()),
        1007,
    );
}

#[test]
fn invalid_utf8_across_fragments() {
    let euro = "€".as_bytes();
    // Split inside a character: fine.
    let (mut server, now) = open_server(server_config());
    let mut input = masked(false, OpCode::TEXT, &euro[..1]);
    input.extend(masked(false, OpCode::CONTINUATION, &euro[1..2]));
    input.extend(masked(true, OpCode::CONTINUATION, &euro[2..]));
    server.receive(&input, now);
    assert!(matches!(events(&mut server)[..], [Event::Text(ref t)] if t == "€"));

    // A bad continuation of a character split across fragments fails at that fragment,
    // before the message's end arrives.
    let mut input = masked(false, OpCode::TEXT, &euro[..2]);
    input.extend(masked(false, OpCode::CONTINUATION, b"A"));
    server_fails(&input, 1007);
    // The message ends inside a character.
    let mut input = masked(false, OpCode::TEXT, b"a");
    input.extend(masked(true, OpCode::CONTINUATION, &euro[..2]));
    server_fails(&input, 1007);
}

#[test]
fn binary_is_not_checked() {
    let (mut server, now) = open_server(server_config());
    server.receive(&masked(true, OpCode::BINARY, b"\xff\xfe"), now);
    assert!(matches!(events(&mut server)[..], [Event::Binary(_)]));
}

#[test]
fn close_with_one_byte_payload() {
    let error = server_fails(&masked(true, OpCode::CLOSE, &[0x03]), 1002);
    assert_eq!(error, ConnectionError::InvalidClosePayload);
}

#[test]
fn close_with_invalid_codes() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let error = server_fails(&masked(true, OpCode::CLOSE, &close_payload(code, "")), 1002);
        assert_eq!(error, ConnectionError::InvalidCloseCode(code));
    }
}

#[test]
fn close_with_invalid_reason() {
    let mut payload = close_payload(1000, "bye");
    payload.push(0xff);
    let error = server_fails(&masked(true, OpCode::CLOSE, &payload), 1007);
    assert_eq!(error, ConnectionError::InvalidCloseReason);
}

#[test]
fn frame_over_the_limit() {
    let mut config = server_config();
    config.max_frame_payload = 1000;
    let (mut server, now) = open_server(config);
    // Refused from the header alone.
    server.receive(&masked(true, OpCode::BINARY, &[0; 1001])[..8], now);
    let error = assert_failed_with(&mut server, 1009);
    assert!(matches!(
        error,
        ConnectionError::Frame(DecodeError::PayloadTooLarge {
            len: 1001,
            max: 1000
        })
    ));
}

#[test]
fn the_peer_gets_the_close_frame() {
    // In the pair: a server fails, the client sees the code and the transport closes.
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.server
        .endpoint
        .receive(&masked(true, OpCode::TEXT, b"\xc0\xaf"), now);
    pair.drive();
    let closed = pair.client.closed().expect("client closed");
    assert_eq!(closed.code.as_u16(), 1007);
    assert!(closed.clean, "the client completed the close handshake");
    assert!(pair.server.closed_transport && pair.client.closed_transport);
    assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Closed);
}

/// Autobahn 3.2 (and 3.3–3.7, 4.*, 5.15): a valid message, then a fault, in one read. The
/// message is delivered first and the failure waits until it was polled, so the
/// application's echo leaves before the close frame.
#[test]
fn a_message_before_a_fault_is_answered_before_the_close() {
    let (mut server, now) = open_server(server_config());
    let mut input = masked(true, OpCode::TEXT, b"Hello");
    let mut bad = masked(true, OpCode::TEXT, b"x");
    bad[0] |= 0x20; // RSV2, not negotiated
    input.extend(bad);
    input.extend(masked(true, OpCode::PING, b"p"));
    server.receive(&input, now);
    assert_eq!(server.transmit_len(), 0, "no close frame yet");
    assert!(!server.wants_read());
    let Some(Event::Text(text)) = server.poll_event() else {
        panic!("the message comes first");
    };
    assert_eq!(text, "Hello");
    server.send_text(text).unwrap();
    assert!(matches!(
        server.poll_event(),
        Some(Event::Error(ConnectionError::Frame(_)))
    ));
    assert!(matches!(server.poll_event(), Some(Event::Closed(info)) if info.code.as_u16() == 1002));
    let frames = frames(ws_frame::Role::Client, &output(&mut server));
    let opcodes: Vec<_> = frames.iter().map(|f| f.header.opcode).collect();
    // The echo, then the close; the ping after the fault is not answered.
    assert_eq!(opcodes, [OpCode::TEXT, OpCode::CLOSE]);
    assert_eq!(frames[1].payload[..2], 1002u16.to_be_bytes());
    assert!(server.should_close_transport());
}
