//! The close handshake: started by either side or both at once, codes echoed, no data
//! after close, the close timeout, who closes the transport, end of stream.

mod common;

use std::time::Duration;

use common::*;
use ws_endpoint::{CloseCode, Config, ConnectionError, Event, Initiator, ReadyState, SendError};
use ws_frame::{OpCode, Role};

#[test]
fn client_starts_the_close() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.client
        .endpoint
        .close(CloseCode::NORMAL, "done", now)
        .unwrap();
    assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Closing);
    pair.drive();
    let server = pair.server.closed().unwrap().clone();
    assert_eq!(server.code, CloseCode::NORMAL);
    assert_eq!(server.reason, "done");
    assert_eq!(server.initiator, Initiator::Remote);
    assert!(server.clean);
    let client = pair.client.closed().unwrap();
    // The server echoed the code, without a reason.
    assert_eq!(client.code, CloseCode::NORMAL);
    assert_eq!(client.reason, "");
    assert_eq!(client.initiator, Initiator::Local);
    assert!(client.clean);
    assert!(pair.client.error().is_none() && pair.server.error().is_none());
    // The server closed the transport first; the client then closed on end of stream.
    assert!(pair.server.closed_transport && pair.client.got_eof && pair.client.closed_transport);
    assert!(!pair.server.got_eof);
    assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Closed);
    assert_eq!(pair.server.endpoint.ready_state(), ReadyState::Closed);
}

#[test]
fn server_starts_the_close() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.server
        .endpoint
        .close(CloseCode::from(4000), "bye", now)
        .unwrap();
    pair.drive();
    let client = pair.client.closed().unwrap();
    assert_eq!(
        (client.code.as_u16(), client.reason.as_str()),
        (4000, "bye")
    );
    assert_eq!(client.initiator, Initiator::Remote);
    let server = pair.server.closed().unwrap();
    assert_eq!(server.code.as_u16(), 4000);
    assert_eq!(server.initiator, Initiator::Local);
    assert!(server.clean && client.clean);
    assert!(pair.server.closed_transport && pair.client.closed_transport);
    assert!(pair.client.got_eof, "the server closes the transport first");
}

#[test]
fn both_close_at_once() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.client
        .endpoint
        .close(CloseCode::NORMAL, "c", now)
        .unwrap();
    pair.server
        .endpoint
        .close(CloseCode::GOING_AWAY, "s", now)
        .unwrap();
    pair.drive();
    let client = pair.client.closed().unwrap();
    let server = pair.server.closed().unwrap();
    // Each reports the other's frame; each started its own close.
    assert_eq!(
        (client.code, client.reason.as_str()),
        (CloseCode::GOING_AWAY, "s")
    );
    assert_eq!(
        (server.code, server.reason.as_str()),
        (CloseCode::NORMAL, "c")
    );
    assert_eq!(client.initiator, Initiator::Local);
    assert_eq!(server.initiator, Initiator::Local);
    assert!(client.clean && server.clean);
    // Exactly one close frame each way: nobody echoed a close it had already sent.
    let closes = |role, bytes: &[u8]| {
        frames(role, bytes)
            .iter()
            .filter(|f| f.header.opcode == OpCode::CLOSE)
            .count()
    };
    assert_eq!(closes(Role::Server, &pair.client.written), 1);
    assert_eq!(closes(Role::Client, &pair.server.written), 1);
    assert!(pair.server.closed_transport && pair.client.closed_transport);
}

#[test]
fn empty_close_is_answered_with_empty_close() {
    let (mut server, now) = open_server(server_config());
    server.receive(&masked(true, OpCode::CLOSE, b""), now);
    let events = events(&mut server);
    let [Event::Closed(info)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(info.code, CloseCode::NO_STATUS);
    assert_eq!(output(&mut server), b"\x88\x00");
    assert!(server.should_close_transport());
}

#[test]
fn no_data_after_close() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.client
        .endpoint
        .close(CloseCode::NORMAL, "", now)
        .unwrap();
    assert_eq!(
        pair.client.endpoint.send_text("late"),
        Err(SendError::Closed)
    );
    assert_eq!(
        pair.client.endpoint.send_binary(vec![1]),
        Err(SendError::Closed)
    );
    assert_eq!(
        pair.client.endpoint.send_ping(vec![1], now),
        Err(SendError::Closed)
    );
    assert_eq!(
        pair.client.endpoint.send_pong(vec![1]),
        Err(SendError::Closed)
    );
    assert_eq!(
        pair.client.endpoint.close(CloseCode::NORMAL, "", now),
        Err(SendError::Closed)
    );
    pair.drive();
    assert_eq!(
        pair.server.endpoint.send_text("late"),
        Err(SendError::Closed)
    );
}

#[test]
fn messages_before_the_close_are_delivered() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.client.endpoint.send_text("last words").unwrap();
    pair.client
        .endpoint
        .close(CloseCode::NORMAL, "", now)
        .unwrap();
    // The server sends a message before seeing the close: the client still gets it.
    pair.server.endpoint.send_text("crossing").unwrap();
    pair.drive();
    assert_eq!(pair.server.messages(), [(true, b"last words".to_vec())]);
    assert_eq!(pair.client.messages(), [(true, b"crossing".to_vec())]);
}

#[test]
fn frames_after_a_close_frame_are_ignored() {
    let (mut server, now) = open_server(server_config());
    let mut input = masked(true, OpCode::CLOSE, &close_payload(1000, ""));
    input.extend(masked(true, OpCode::TEXT, b"after"));
    input.extend(masked(true, OpCode::PING, b"after"));
    server.receive(&input, now);
    let events = events(&mut server);
    assert!(matches!(&events[..], [Event::Closed(_)]), "{events:?}");
    assert_eq!(output(&mut server), b"\x88\x02\x03\xe8");
}

#[test]
fn close_arguments_are_checked() {
    let mut pair = Pair::connected();
    let now = pair.time;
    let endpoint = &mut pair.client.endpoint;
    for code in [1005u16, 1006, 1015, 999, 5000] {
        assert_eq!(
            endpoint.close(CloseCode::from(code), "", now),
            Err(SendError::InvalidCloseCode(CloseCode::from(code)))
        );
    }
    assert_eq!(
        endpoint.close(CloseCode::NORMAL, &"x".repeat(124), now),
        Err(SendError::ReasonTooLong)
    );
    endpoint
        .close(CloseCode::NORMAL, &"x".repeat(123), now)
        .unwrap();
    pair.drive();
    assert_eq!(pair.server.closed().unwrap().reason.len(), 123);
}

#[test]
fn close_timeout_when_the_peer_never_answers() {
    let mut config = Config::default();
    config.close_timeout = Duration::from_secs(3);
    let (mut client, start) = open_client(config);
    client.close(CloseCode::NORMAL, "", start).unwrap();
    output(&mut client);
    assert_eq!(client.poll_timeout(), Some(start + Duration::from_secs(3)));
    client.handle_timeout(start + Duration::from_secs(2));
    assert_eq!(client.ready_state(), ReadyState::Closing);
    client.handle_timeout(start + Duration::from_secs(3));
    let events = events(&mut client);
    assert!(matches!(
        &events[0],
        Event::Error(ConnectionError::CloseTimeout)
    ));
    let Event::Closed(info) = &events[1] else {
        panic!()
    };
    assert_eq!(info.code, CloseCode::ABNORMAL);
    assert!(!info.clean);
    assert!(client.should_close_transport());
}

#[test]
fn close_timeout_in_the_pair() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.client
        .endpoint
        .close(CloseCode::NORMAL, "", now)
        .unwrap();
    // The server's answer is lost: the server is stuck (its transport "hangs").
    let mut lost = Vec::new();
    pair.client.endpoint.poll_transmit(&mut lost);
    assert!(pair.advance_to_next_timeout());
    assert_eq!(pair.time, now + Config::default().close_timeout);
    assert!(matches!(
        pair.client.error(),
        Some(ConnectionError::CloseTimeout)
    ));
    assert!(pair.client.closed_transport);
    // The server sees end of stream without a close frame: 1006.
    let server = pair.server.closed().unwrap();
    assert_eq!(server.code, CloseCode::ABNORMAL);
    assert_eq!(server.initiator, Initiator::Remote);
    assert!(matches!(
        pair.server.error(),
        Some(ConnectionError::UnexpectedEof)
    ));
}

#[test]
fn client_closes_the_transport_if_the_server_does_not() {
    let (mut client, now) = open_client(Config::default());
    client.receive(
        &unmasked(true, OpCode::CLOSE, &close_payload(1001, "")),
        now,
    );
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert!(matches!(events(&mut client)[..], [Event::Closed(ref info)] if info.clean));
    output(&mut client);
    // It waits for the server to close first...
    assert!(!client.should_close_transport());
    assert!(client.wants_read());
    let deadline = client.poll_timeout().unwrap();
    assert_eq!(deadline, now + Config::default().close_timeout);
    // ...and gives up after the close timeout.
    client.handle_timeout(deadline);
    assert!(client.should_close_transport());
    assert!(
        client.poll_event().is_none(),
        "no error: the close was clean"
    );
}

#[test]
fn end_of_stream_without_close_is_abnormal() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.server.endpoint.handle_eof(now);
    let events = events(&mut pair.server.endpoint);
    assert!(matches!(
        &events[0],
        Event::Error(ConnectionError::UnexpectedEof)
    ));
    let Event::Closed(info) = &events[1] else {
        panic!()
    };
    assert_eq!(info.code, CloseCode::ABNORMAL);
    assert_eq!(info.initiator, Initiator::Remote);
    assert!(!info.clean);
    assert!(pair.server.endpoint.should_close_transport());
    assert!(!pair.server.endpoint.wants_read());
    // Nothing is sent: the peer is gone.
    assert_eq!(pair.server.endpoint.transmit_len(), 0);
}

#[test]
fn end_of_stream_during_the_handshake() {
    let now = std::time::Instant::now();
    let mut server = ws_endpoint::Endpoint::server(server_config(), now);
    server.receive(b"GET / HTTP/1.1\r\n", now);
    server.handle_eof(now);
    let events = events(&mut server);
    assert!(matches!(
        &events[0],
        Event::Error(ConnectionError::UnexpectedEof)
    ));
    assert!(server.should_close_transport());
}

#[test]
fn flush_to_a_peer_that_stopped_reading_is_bounded() {
    let (mut server, now) = open_server(server_config());
    server.send_binary(vec![0; 100_000]).unwrap();
    server.close(CloseCode::NORMAL, "", now).unwrap();
    server.receive(&masked(true, OpCode::CLOSE, &close_payload(1000, "")), now);
    // Closed, but 100 kB are still unwritten: wait for the flush...
    assert!(!server.should_close_transport());
    // ...for at most the close timeout.
    let deadline = server.poll_timeout().unwrap();
    server.handle_timeout(deadline);
    assert!(server.should_close_transport());
}

/// A message and the close frame after it, arriving together: the application's answer to
/// the message still goes out, before the close echo (Autobahn 7.1.6).
#[test]
fn a_close_waits_for_the_messages_before_it() {
    let (mut server, now) = open_server(plain(server_config()));
    let mut input = masked(true, OpCode::TEXT, b"last words");
    input.extend(masked(true, OpCode::CLOSE, &close_payload(1000, "bye")));
    server.receive(&input, now);
    // Nothing is answered, nor read, until the message is polled.
    assert!(output(&mut server).is_empty());
    assert!(!server.wants_read());
    assert_eq!(server.ready_state(), ReadyState::Open);

    let Some(Event::Text(text)) = server.poll_event() else {
        panic!("the message comes first")
    };
    server.send_text(text).unwrap();
    let Some(Event::Closed(info)) = server.poll_event() else {
        panic!("then the close")
    };
    assert_eq!(
        (info.code, info.reason.as_str()),
        (CloseCode::NORMAL, "bye")
    );
    let frames = frames(Role::Client, &output(&mut server));
    let sent: Vec<_> = frames.iter().map(|f| f.header.opcode).collect();
    assert_eq!(sent, [OpCode::TEXT, OpCode::CLOSE]);
    assert_eq!(&frames[0].payload[..], b"last words");
    assert!(server.should_close_transport());
}

/// The same with the transport's end right behind the close frame, on the client: it
/// closes the transport once the close is acted on, not after a timeout.
#[test]
fn a_held_close_then_end_of_stream() {
    let (mut client, now) = open_client(plain(Config::default()));
    let mut input = unmasked(true, OpCode::BINARY, b"data");
    input.extend(unmasked(true, OpCode::CLOSE, &close_payload(1001, "")));
    client.receive(&input, now);
    client.handle_eof(now);
    assert!(!client.should_close_transport());

    let events = events(&mut client);
    assert!(matches!(&events[0], Event::Binary(data) if &data[..] == b"data"));
    let Event::Closed(info) = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(info.code, CloseCode::GOING_AWAY);
    assert!(info.clean);
    let frames = frames(Role::Server, &output(&mut client));
    assert_eq!(frames[0].header.opcode, OpCode::CLOSE);
    assert!(client.should_close_transport());
}

/// A close frame with a bad payload behind a message fails the connection once the
/// message is polled, with the close code for the fault.
#[test]
fn a_held_close_that_is_invalid_fails_after_the_message() {
    let (mut server, now) = open_server(plain(server_config()));
    let mut input = masked(true, OpCode::TEXT, b"first");
    input.extend(masked(true, OpCode::CLOSE, &[0x03]));
    server.receive(&input, now);
    assert!(matches!(server.poll_event(), Some(Event::Text(_))));
    assert_failed_with(&mut server, 1002);
}
