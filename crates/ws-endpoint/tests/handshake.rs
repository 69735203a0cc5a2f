//! The opening handshake inside the endpoint: both roles, the server's decision, refusals
//! and the handshake timeout.

mod common;

use std::time::Duration;

use common::*;
use http::header::{HeaderName, HeaderValue};
use ws_endpoint::{
    AcceptError, CloseCode, Config, ConnectionError, Endpoint, Event, Initiator, ReadyState,
    SendError,
};
use ws_frame::OpCode;

#[test]
fn whole_handshake_negotiates_subprotocol() {
    let mut server = server_config();
    server.protocols = vec!["superchat".into(), "chat".into()];
    let mut pair = Pair::with_builder(
        Config::default(),
        client_builder().protocol("chat").protocol("superchat"),
        server,
    );
    assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Connecting);
    pair.drive();
    let Event::Open(opened) = &pair.client.events[0] else {
        panic!("{:?}", pair.client.events)
    };
    assert_eq!(opened.protocol.as_deref(), Some("superchat"));
    assert_eq!(opened.response.as_ref().unwrap().status(), 101);
    let Event::Open(opened) = &pair.server.events[0] else {
        panic!()
    };
    assert_eq!(opened.request.as_ref().unwrap().uri(), "/chat");
    assert_eq!(pair.server.endpoint.protocol(), Some("superchat"));
    assert_eq!(pair.client.endpoint.protocol(), Some("superchat"));
}

#[test]
fn application_decides_and_adds_headers() {
    let mut pair = Pair::with_builder(
        Config::default(),
        client_builder().protocol("a").protocol("b"),
        Config::default(),
    );
    pair.drive();
    let Event::UpgradeRequest(request) = &pair.server.events[0] else {
        panic!("{:?}", pair.server.events)
    };
    assert_eq!(request.protocols(), ["a", "b"]);
    assert!(pair.server.endpoint.pending_request().is_some());
    assert!(!pair.server.endpoint.wants_read());
    let now = pair.time;
    pair.server
        .endpoint
        .accept_with(now, |accept| {
            accept.select_protocol(&["b"]).header(
                HeaderName::from_static("set-cookie"),
                HeaderValue::from_static("x=1"),
            )
        })
        .unwrap();
    assert_eq!(
        pair.server.endpoint.accept(now),
        Err(AcceptError::NoPendingRequest)
    );
    pair.drive();
    let Some(Event::Open(opened)) = pair.client.events.first() else {
        panic!("{:?}", pair.client.events)
    };
    assert_eq!(opened.protocol.as_deref(), Some("b"));
    assert_eq!(
        opened.response.as_ref().unwrap().headers()["set-cookie"],
        "x=1"
    );
}

#[test]
fn invalid_acceptance_keeps_request_pending() {
    // A client that offers no extension, so accepting permessage-deflate is invalid.
    let mut pair = Pair::new(plain(Config::default()), Config::default());
    pair.drive();
    let now = pair.time;
    let error = pair
        .server
        .endpoint
        .accept_with(now, |a| a.extension("permessage-deflate"))
        .unwrap_err();
    assert!(matches!(error, AcceptError::Usage(_)), "{error}");
    assert!(pair.server.endpoint.pending_request().is_some());
    pair.server.endpoint.accept(now).unwrap();
    pair.drive();
    assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Open);
}

#[test]
fn rejection_reaches_the_client() {
    let mut pair = Pair::new(Config::default(), Config::default());
    pair.drive();
    let response = http::Response::builder()
        .status(403)
        .body("go away")
        .unwrap();
    let now = pair.time;
    pair.server.endpoint.reject(&response, now).unwrap();
    pair.drive();
    assert!(pair.server.closed_transport);
    let Event::Rejected(response) = &pair.client.events[0] else {
        panic!("{:?}", pair.client.events)
    };
    assert_eq!(response.status(), 403);
    assert_eq!(response.body(), b"go away");
    let closed = pair.client.closed().unwrap();
    assert_eq!(closed.code, CloseCode::ABNORMAL);
    assert_eq!(closed.initiator, Initiator::Remote);
    assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Closed);
    assert!(pair.client.closed_transport);
}

#[test]
fn plain_request_is_surfaced_and_answered() {
    let now = std::time::Instant::now();
    let mut server = Endpoint::server(server_config(), now);
    server.receive(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let events = events(&mut server);
    let [Event::PlainRequest(request)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(request.uri(), "/index.html");
    assert_eq!(
        server.accept(now),
        Err(AcceptError::NoPendingRequest),
        "a plain request cannot be upgraded"
    );
    let response = http::Response::builder().status(200).body("hi").unwrap();
    server.reject(&response, now).unwrap();
    assert!(output(&mut server).starts_with(b"HTTP/1.1 200"));
    assert!(server.should_close_transport());
}

#[test]
fn bad_request_gets_error_response() {
    let now = std::time::Instant::now();
    let mut server = Endpoint::server(server_config(), now);
    server.receive(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        now,
    );
    let events = events(&mut server);
    assert!(
        matches!(&events[0], Event::Error(ConnectionError::BadRequest(_))),
        "{events:?}"
    );
    assert!(matches!(&events[1], Event::Closed(_)));
    let out = output(&mut server);
    assert!(
        out.starts_with(b"HTTP/1.1 426"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(server.should_close_transport());
    assert!(!server.wants_read());
    let response = http::Response::builder().status(400).body("").unwrap();
    assert_eq!(
        server.reject(&response, now),
        Err(AcceptError::NoPendingRequest)
    );
}

#[test]
fn oversized_request_head_is_refused() {
    let now = std::time::Instant::now();
    let mut config = server_config();
    config.handshake_limits.max_head_bytes = 256;
    let mut server = Endpoint::server(config, now);
    server.receive(b"GET / HTTP/1.1\r\n", now);
    for _ in 0..100 {
        server.receive(b"X-Padding: aaaaaaaaaaaaaaaa\r\n", now);
    }
    let events = events(&mut server);
    assert!(matches!(
        &events[0],
        Event::Error(ConnectionError::BadRequest(_))
    ));
    assert!(output(&mut server).starts_with(b"HTTP/1.1 431"));
}

#[test]
fn client_refuses_a_bad_response() {
    let now = std::time::Instant::now();
    let mut client = Endpoint::client(Config::default(), client_builder(), now).unwrap();
    output(&mut client);
    client.receive(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
        now,
    );
    let events = events(&mut client);
    assert!(
        matches!(&events[0], Event::Error(ConnectionError::BadResponse(_))),
        "{events:?}"
    );
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert!(client.should_close_transport());
}

#[test]
fn frames_in_the_same_read_as_the_response() {
    let now = std::time::Instant::now();
    let mut server = Endpoint::server(server_config(), now);
    let mut client = Endpoint::client(Config::default(), client_builder(), now).unwrap();
    server.receive(&output(&mut client), now);
    server.send_text("first").unwrap();
    server.send_binary(&b"second"[..]).unwrap();
    client.receive(&output(&mut server), now);
    let events = events(&mut client);
    assert!(matches!(&events[0], Event::Open(_)));
    assert!(matches!(&events[1], Event::Text(t) if t == "first"));
    assert!(matches!(&events[2], Event::Binary(b) if b == "second"));
}

#[test]
fn handshake_timeout_drops_a_trickling_client() {
    let mut config = server_config();
    config.handshake_timeout = Some(Duration::from_secs(5));
    let start = std::time::Instant::now();
    let mut server = Endpoint::server(config, start);
    let request = request_bytes();
    // One byte a second: the request would take minutes.
    for (i, byte) in request.iter().enumerate().take(10) {
        let now = start + Duration::from_secs(i as u64);
        if server.poll_timeout().is_some_and(|t| t <= now) {
            server.handle_timeout(now);
        }
        server.receive(&[*byte], now);
    }
    assert_eq!(server.ready_state(), ReadyState::Closed);
    let events = events(&mut server);
    assert!(matches!(
        &events[0],
        Event::Error(ConnectionError::HandshakeTimeout)
    ));
    assert!(server.should_close_transport());
    assert!(!server.wants_read());
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn handshake_timeout_in_the_pair() {
    let mut server = Config::default(); // never answers: no auto accept
    server.handshake_timeout = Some(Duration::from_secs(3));
    let mut client = Config::default();
    client.handshake_timeout = Some(Duration::from_secs(4));
    let mut pair = Pair::new(client, server);
    pair.drive();
    assert!(pair.advance_to_next_timeout());
    assert!(matches!(
        pair.server.error(),
        Some(ConnectionError::HandshakeTimeout)
    ));
    assert!(pair.server.closed_transport);
    // The client learns from end of stream.
    assert!(matches!(
        pair.client.error(),
        Some(ConnectionError::UnexpectedEof)
    ));
}

#[test]
fn close_before_open_gives_up() {
    let now = std::time::Instant::now();
    let mut client = Endpoint::client(Config::default(), client_builder(), now).unwrap();
    client.send_text("never sent").unwrap();
    client.close(CloseCode::NORMAL, "", now).unwrap();
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert!(client.should_close_transport());
    let events = events(&mut client);
    assert!(matches!(&events[..], [Event::Closed(info)] if !info.clean));
    assert_eq!(client.send_text("x"), Err(SendError::Closed));
}

#[test]
fn server_sends_nothing_before_accepting() {
    let mut pair = Pair::new(Config::default(), Config::default());
    pair.server.endpoint.send_text("queued").unwrap();
    pair.drive();
    assert!(pair.server.written.is_empty());
    let now = pair.time;
    pair.server.endpoint.accept(now).unwrap();
    pair.drive();
    assert_eq!(pair.client.messages(), [(true, b"queued".to_vec())]);
    // And the frame followed the response.
    let text = String::from_utf8_lossy(&pair.server.written);
    assert!(text.starts_with("HTTP/1.1 101"));
    let _ = OpCode::TEXT;
}
