//! Messages sent before the connection opens are queued (bounded) and sent once it opens.

mod common;

use common::*;
use ws_endpoint::{Config, Event, MessageKind, SendError};

#[test]
fn queued_messages_are_sent_in_order_once_open() {
    let mut pair = Pair::new(Config::default(), server_config());
    let now = pair.time;
    let client = &mut pair.client.endpoint;
    client.send_text("one").unwrap();
    client.send_binary(vec![2]).unwrap();
    client.send_ping(&b"p"[..], now).unwrap();
    client
        .send_fragment(MessageKind::Text, "th", false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, "ree", true)
        .unwrap();
    // Only the request is on the wire before the response.
    let request_len = client.transmit_len();
    let request: Vec<u8> = client.transmit_chunks().flatten().copied().collect();
    assert!(request.ends_with(b"\r\n\r\n"));
    assert_eq!(request_len, request.len());
    pair.drive();
    let events = &pair.server.events;
    assert!(matches!(&events[0], Event::Open(_)));
    assert!(matches!(&events[1], Event::Text(t) if t == "one"));
    assert!(matches!(&events[2], Event::Binary(b) if b[..] == [2]));
    assert!(matches!(&events[3], Event::Ping(p) if p == "p"));
    assert!(matches!(&events[4], Event::Text(t) if t == "three"));
    // The ping's RTT is measured from when it really left.
    assert!(matches!(
        pair.client.events.last(),
        Some(Event::Pong { rtt: Some(_), .. })
    ));
}

#[test]
fn server_queues_until_it_accepts() {
    let mut pair = Pair::new(Config::default(), Config::default());
    pair.drive();
    pair.server.endpoint.send_text("welcome").unwrap();
    let now = pair.time;
    pair.server.endpoint.accept(now).unwrap();
    pair.drive();
    assert_eq!(pair.client.messages(), [(true, b"welcome".to_vec())]);
}

#[test]
fn the_queue_before_open_is_bounded() {
    let mut config = Config::default();
    config.max_queued_bytes = 1000;
    let mut pair = Pair::new(config, server_config());
    // The request itself is queued too.
    let client = &mut pair.client.endpoint;
    assert_eq!(
        client.send_binary(vec![0; 1000]),
        Err(SendError::BufferFull)
    );
    client.send_binary(vec![0; 500]).unwrap();
    assert_eq!(client.send_binary(vec![0; 500]), Err(SendError::BufferFull));
    pair.drive();
    assert_eq!(pair.server.messages(), [(false, vec![0; 500])]);
}

#[test]
fn queued_messages_are_dropped_with_a_closed_event_if_the_handshake_fails() {
    let mut pair = Pair::new(Config::default(), Config::default());
    pair.client.endpoint.send_text("lost").unwrap();
    pair.drive();
    let response = http::Response::builder().status(401).body("").unwrap();
    let now = pair.time;
    pair.server.endpoint.reject(&response, now).unwrap();
    pair.drive();
    assert!(matches!(&pair.client.events[0], Event::Rejected(r) if r.status() == 401));
    assert!(matches!(&pair.client.events[1], Event::Closed(info) if !info.clean));
    assert_eq!(pair.client.endpoint.send_text("x"), Err(SendError::Closed));
}
