//! Reassembly of fragmented messages, with control frames interleaved.

mod common;

use common::*;
use ws_endpoint::{Event, MessageKind};
use ws_frame::{OpCode, Role};

#[test]
fn fragments_with_interleaved_pings() {
    let (mut server, now) = open_server(server_config());
    let mut input = masked(false, OpCode::TEXT, b"Hel");
    input.extend(masked(true, OpCode::PING, b"1"));
    input.extend(masked(false, OpCode::CONTINUATION, b""));
    input.extend(masked(true, OpCode::PONG, b"unsolicited"));
    input.extend(masked(false, OpCode::CONTINUATION, b"lo, "));
    input.extend(masked(true, OpCode::PING, b"2"));
    input.extend(masked(true, OpCode::CONTINUATION, b"world"));
    server.receive(&input, now);
    let events = events(&mut server);
    assert!(matches!(&events[0], Event::Ping(p) if p == "1"));
    assert!(matches!(&events[1], Event::Pong { payload, rtt: None } if payload == "unsolicited"));
    assert!(matches!(&events[2], Event::Ping(p) if p == "2"));
    assert!(matches!(&events[3], Event::Text(t) if t == "Hello, world"));
    assert_eq!(events.len(), 4);
    let frames = frames(Role::Client, &output(&mut server));
    // One pong per ping, in order (Autobahn 2.10): the output was not backed up.
    assert_eq!(frames.len(), 2);
    assert!(frames.iter().all(|f| f.header.opcode == OpCode::PONG));
    assert_eq!(frames[0].payload, "1");
    assert_eq!(frames[1].payload, "2");
}

#[test]
fn pings_between_fragments_are_answered_before_the_message_ends() {
    let (mut server, now) = open_server(server_config());
    server.receive(&masked(false, OpCode::BINARY, b"a"), now);
    server.receive(&masked(true, OpCode::PING, b"now"), now);
    let frames = frames(Role::Client, &output(&mut server));
    assert_eq!(frames[0].header.opcode, OpCode::PONG);
    server.receive(&masked(true, OpCode::CONTINUATION, b"b"), now);
    let events = events(&mut server);
    assert!(matches!(&events[1], Event::Binary(b) if b == "ab"));
}

#[test]
fn fragmented_messages_in_the_pair() {
    let mut pair = Pair::connected();
    let now = pair.time;
    let client = &mut pair.client.endpoint;
    client
        .send_fragment(MessageKind::Binary, vec![1; 3000], false)
        .unwrap();
    client.send_ping(&b"mid"[..], now).unwrap();
    client
        .send_fragment(MessageKind::Binary, vec![2; 3000], false)
        .unwrap();
    client
        .send_fragment(MessageKind::Binary, vec![3; 3000], true)
        .unwrap();
    pair.server
        .endpoint
        .send_fragment(MessageKind::Text, "a", false)
        .unwrap();
    pair.server
        .endpoint
        .send_fragment(MessageKind::Text, "b", true)
        .unwrap();
    pair.drive();
    let mut expected = vec![1; 3000];
    expected.extend([2; 3000]);
    expected.extend([3; 3000]);
    assert!(matches!(&pair.server.events[0], Event::Ping(p) if p == "mid"));
    assert_eq!(pair.server.messages(), [(false, expected)]);
    assert_eq!(pair.client.messages(), [(true, b"ab".to_vec())]);
    assert!(matches!(
        pair.client.events.last(),
        Some(Event::Pong { rtt: Some(_), .. })
    ));
}

#[test]
fn single_frame_message_is_not_copied() {
    let (mut server, now) = open_server(server_config());
    server.receive(&masked(true, OpCode::BINARY, &[5; 100]), now);
    let Some(Event::Binary(data)) = server.poll_event() else {
        panic!()
    };
    // It points into the receive buffer's memory, not a fresh allocation of its own size.
    assert_eq!(data.len(), 100);
    let buffer = server.receive_buffer();
    assert!(buffer.is_empty());
}
