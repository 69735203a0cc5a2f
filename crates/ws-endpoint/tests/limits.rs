//! Limits: message size (1009), fragment count, frame size, and the bounded event queue
//! and receive buffer.

mod common;

use common::*;
use ws_endpoint::{CloseCode, Config, ConnectionError, Event, MessageKind};
use ws_frame::OpCode;

#[test]
fn message_over_the_limit_closes_with_1009() {
    let mut server = server_config();
    server.max_message_size = 1000;
    // Uncompressed: the limit on plain messages (compressed ones: tests/compression.rs).
    let mut pair = Pair::connected_with(plain(Config::default()), server);
    pair.client.endpoint.send_binary(vec![0; 1000]).unwrap();
    pair.drive();
    assert_eq!(pair.server.messages().len(), 1);
    pair.client.endpoint.send_text("x".repeat(1001)).unwrap();
    pair.drive();
    assert_eq!(
        pair.server.error(),
        Some(&ConnectionError::MessageTooBig { max: 1000 })
    );
    assert_eq!(
        pair.client.closed().unwrap().code,
        CloseCode::MESSAGE_TOO_BIG
    );
}

#[test]
fn fragmented_message_over_the_limit_fails_at_the_header() {
    let mut config = server_config();
    config.max_message_size = 1000;
    let (mut server, now) = open_server(config);
    let mut input = masked(false, OpCode::BINARY, &[0; 600]);
    // Only the header of the second fragment: it announces 600 more bytes.
    input.extend(&masked(true, OpCode::CONTINUATION, &[0; 600])[..8]);
    server.receive(&input, now);
    let error = assert_failed_with(&mut server, 1009);
    assert_eq!(error, ConnectionError::MessageTooBig { max: 1000 });
}

#[test]
fn too_many_fragments() {
    let mut config = server_config();
    config.max_fragments = 3;
    let (mut server, now) = open_server(config);
    let mut input = masked(false, OpCode::TEXT, b"a");
    input.extend(masked(false, OpCode::CONTINUATION, b"b"));
    input.extend(masked(false, OpCode::CONTINUATION, b"c"));
    input.extend(masked(true, OpCode::CONTINUATION, b"d"));
    server.receive(&input, now);
    let error = assert_failed_with(&mut server, 1009);
    assert_eq!(error, ConnectionError::TooManyFragments { max: 3 });

    // Exactly at the limit is fine.
    let mut config = server_config();
    config.max_fragments = 3;
    let (mut server, now) = open_server(config);
    let mut input = masked(false, OpCode::TEXT, b"a");
    input.extend(masked(false, OpCode::CONTINUATION, b"b"));
    input.extend(masked(true, OpCode::CONTINUATION, b"c"));
    server.receive(&input, now);
    assert!(matches!(events(&mut server)[..], [Event::Text(ref t)] if t == "abc"));
}

#[test]
fn frame_limit_from_config() {
    let mut config = server_config();
    config.max_frame_payload = 100;
    config.streaming_receive = true;
    let (mut server, now) = open_server(config);
    server.receive(&masked(true, OpCode::BINARY, &[0; 101]), now);
    assert_failed_with(&mut server, 1009);
}

#[test]
fn event_queue_is_bounded_and_input_pauses() {
    let mut config = server_config();
    config.max_queued_events = 4;
    let (mut server, now) = open_server(config);
    let mut input = Vec::new();
    for i in 0..10u8 {
        input.extend(masked(true, OpCode::BINARY, &[i]));
    }
    server.receive(&input, now);
    assert!(!server.wants_read(), "stop reading while events wait");
    let mut received = Vec::new();
    while let Some(event) = server.poll_event() {
        let Event::Binary(data) = event else { panic!() };
        received.push(data[0]);
    }
    assert_eq!(received, (0..10).collect::<Vec<_>>());
    assert!(server.wants_read());
}

#[test]
fn receive_buffer_holds_at_most_one_incomplete_frame() {
    let mut config = server_config();
    config.max_frame_payload = 1 << 10;
    let (mut server, now) = open_server(config);
    // A peer sends 100 whole frames plus a partial one: everything whole is consumed.
    let mut input = Vec::new();
    for _ in 0..100 {
        input.extend(masked(true, OpCode::BINARY, &[7; 1000]));
    }
    input.extend(&masked(true, OpCode::BINARY, &[7; 1000])[..500]);
    server.receive(&input, now);
    assert_eq!(server.receive_buffer().len(), 500);
    assert_eq!(events(&mut server).len(), 100);
    let _ = MessageKind::Binary;
}
