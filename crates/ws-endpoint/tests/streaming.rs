//! Streaming send (first / continue / last fragment) and streaming receive (per-fragment
//! events with a "last" flag, no reassembly and no message size limit).

mod common;

use common::*;
use ws_endpoint::{Config, ConnectionError, Event, MessageKind, SendError};
use ws_frame::{OpCode, Role};

#[test]
fn streaming_send_makes_fragments() {
    let (mut server, _) = open_server(server_config());
    server
        .send_fragment(MessageKind::Binary, vec![1; 10], false)
        .unwrap();
    server
        .send_fragment(MessageKind::Binary, vec![2; 10], false)
        .unwrap();
    server
        .send_fragment(MessageKind::Binary, vec![3; 10], true)
        .unwrap();
    server.send_text("next").unwrap();
    let frames = frames(Role::Client, &output(&mut server));
    let shape: Vec<_> = frames
        .iter()
        .map(|f| (f.header.opcode, f.header.fin))
        .collect();
    assert_eq!(
        shape,
        [
            (OpCode::BINARY, false),
            (OpCode::CONTINUATION, false),
            (OpCode::CONTINUATION, true),
            (OpCode::TEXT, true)
        ]
    );
}

#[test]
fn streaming_send_misuse() {
    let (mut server, now) = open_server(server_config());
    server.send_fragment(MessageKind::Text, "a", false).unwrap();
    assert_eq!(server.send_text("whole"), Err(SendError::MessageInProgress));
    assert_eq!(
        server.send_binary(vec![1]),
        Err(SendError::MessageInProgress)
    );
    assert_eq!(
        server.send_fragment(MessageKind::Binary, vec![1], true),
        Err(SendError::KindMismatch)
    );
    // Control frames may interleave.
    server.send_ping(&b"p"[..], now).unwrap();
    // A text stream must be UTF-8 as a whole; a character may be split.
    let euro = "€".as_bytes();
    server
        .send_fragment(MessageKind::Text, &euro[..1], false)
        .unwrap();
    assert_eq!(
        server.send_fragment(MessageKind::Text, &b"A"[..], false),
        Err(SendError::InvalidUtf8)
    );
    assert_eq!(
        server.send_fragment(MessageKind::Text, &euro[1..2], true),
        Err(SendError::InvalidUtf8),
        "a message must not end inside a character"
    );
    server
        .send_fragment(MessageKind::Text, &euro[1..], true)
        .unwrap();
    server.send_text("whole").unwrap();
}

#[test]
fn streaming_receive_delivers_fragments() {
    let mut server = server_config();
    server.streaming_receive = true;
    server.max_message_size = 100; // not applied when streaming
    // Uncompressed: the test compares fragment sizes with those sent.
    let mut pair = Pair::connected_with(plain(Config::default()), server);
    let euro = "€".as_bytes();
    let client = &mut pair.client.endpoint;
    client
        .send_fragment(MessageKind::Text, &euro[..1], false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, &euro[1..], false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, "y".repeat(90), false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, "z".repeat(90), true)
        .unwrap();
    client.send_binary(vec![9; 50]).unwrap();
    pair.drive();
    let got: Vec<_> = pair
        .server
        .events
        .iter()
        .map(|e| match e {
            Event::Fragment { kind, data, last } => (*kind, data.len(), *last),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            (MessageKind::Text, 1, false),
            (MessageKind::Text, 2, false),
            (MessageKind::Text, 90, false),
            (MessageKind::Text, 90, true),
            (MessageKind::Binary, 50, true),
        ]
    );
}

#[test]
fn streaming_receive_still_validates_utf8() {
    let mut config = server_config();
    config.streaming_receive = true;
    let (mut server, now) = open_server(config);
    let mut input = masked(false, OpCode::TEXT, b"ok");
    input.extend(masked(true, OpCode::CONTINUATION, b"\xff"));
    server.receive(&input, now);
    let events = events(&mut server);
    assert!(matches!(&events[0], Event::Fragment { last: false, .. }));
    assert!(matches!(
        &events[1],
        Event::Error(ConnectionError::InvalidUtf8)
    ));
}

#[test]
fn streamed_message_larger_than_the_message_limit() {
    let mut server = server_config();
    server.streaming_receive = true;
    server.max_message_size = 1000;
    server.max_frame_payload = 1000;
    // Uncompressed: a compressed frame's decoded size is bounded by the message limit
    // (tests/compression.rs).
    let mut pair = Pair::connected_with(plain(Config::default()), server);
    for i in 0..20 {
        pair.client
            .endpoint
            .send_fragment(MessageKind::Binary, vec![i; 1000], i == 19)
            .unwrap();
        pair.drive();
    }
    let total: usize = pair
        .server
        .events
        .iter()
        .map(|e| match e {
            Event::Fragment { data, .. } => data.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(total, 20_000);
    assert!(matches!(
        pair.server.events.last(),
        Some(Event::Fragment { last: true, .. })
    ));
}
