//! Heartbeat pings and pong timeout, idle timeout.

mod common;

use std::time::Duration;

use common::*;
use ws_endpoint::{CloseCode, Config, ConnectionError, Event, ReadyState};
use ws_frame::{OpCode, Role};

fn heartbeat_config() -> Config {
    let mut config = server_config();
    config.ping_interval = Some(Duration::from_secs(10));
    config.pong_timeout = Duration::from_secs(5);
    config
}

#[test]
fn heartbeat_success() {
    let mut pair = Pair::connected_with(Config::default(), heartbeat_config());
    let start = pair.time;
    assert_eq!(pair.next_timeout(), Some(start + Duration::from_secs(10)));
    pair.advance_by(Duration::from_secs(35));
    // Pings at 10, 20 and 30 s, each answered at once.
    let pongs: Vec<_> = pair
        .server
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Pong { rtt, .. } => Some(*rtt),
            _ => None,
        })
        .collect();
    assert_eq!(pongs, [Some(Duration::ZERO); 3]);
    let pings = pair
        .client
        .events
        .iter()
        .filter(|e| matches!(e, Event::Ping(_)))
        .count();
    assert_eq!(pings, 3);
    assert_eq!(pair.server.endpoint.ready_state(), ReadyState::Open);
    assert_eq!(pair.next_timeout(), Some(start + Duration::from_secs(40)));
}

#[test]
fn heartbeat_failure() {
    let (mut server, start) = open_server(heartbeat_config());
    let ping_at = start + Duration::from_secs(10);
    assert_eq!(server.poll_timeout(), Some(ping_at));
    server.handle_timeout(ping_at);
    let frames = frames(Role::Client, &output(&mut server));
    assert_eq!(frames[0].header.opcode, OpCode::PING);
    assert_eq!(
        server.poll_timeout(),
        Some(ping_at + Duration::from_secs(5))
    );
    // Some data arrives, but no pong.
    server.receive(&masked(true, OpCode::TEXT, b"busy"), ping_at);
    server.handle_timeout(ping_at + Duration::from_secs(5));
    let error = assert_failed_with_events(&mut server);
    assert_eq!(error, ConnectionError::PongTimeout);
}

fn assert_failed_with_events(server: &mut ws_endpoint::Endpoint) -> ConnectionError {
    let events = events(server);
    assert!(matches!(&events[0], Event::Text(_)));
    let Event::Error(error) = &events[1] else {
        panic!("{events:?}")
    };
    let Event::Closed(info) = &events[2] else {
        panic!()
    };
    assert_eq!(info.code, CloseCode::INTERNAL_ERROR);
    let frames = frames(Role::Client, &output(server));
    assert_eq!(frames.last().unwrap().payload[..2], [0x03, 0xf3]);
    assert!(server.should_close_transport());
    error.clone()
}

#[test]
fn a_late_pong_for_an_earlier_ping_still_counts() {
    let (mut server, start) = open_server(heartbeat_config());
    let ping_at = start + Duration::from_secs(10);
    server.handle_timeout(ping_at);
    let ping = frames(Role::Client, &output(&mut server)).remove(0).payload;
    server.receive(
        &masked(true, OpCode::PONG, &ping),
        ping_at + Duration::from_secs(4),
    );
    assert!(matches!(
        events(&mut server)[..],
        [Event::Pong { rtt: Some(rtt), .. }] if rtt == Duration::from_secs(4)
    ));
    // The pong deadline is gone; the next ping is due.
    assert_eq!(
        server.poll_timeout(),
        Some(ping_at + Duration::from_secs(10))
    );
}

#[test]
fn heartbeat_failure_in_the_pair() {
    let mut pair = Pair::connected_with(Config::default(), heartbeat_config());
    // The server's ping gets lost on the way.
    pair.advance_to_next_timeout();
    pair.client.events.clear();
    let time = pair.time;
    pair.server
        .endpoint
        .handle_timeout(time + Duration::from_secs(10));
    let mut lost = Vec::new();
    pair.server.endpoint.poll_transmit(&mut lost);
    assert!(!lost.is_empty());
    pair.time += Duration::from_secs(10);
    pair.advance_by(Duration::from_secs(5));
    assert_eq!(pair.server.error(), Some(&ConnectionError::PongTimeout));
    let client = pair.client.closed().unwrap();
    assert_eq!(client.code, CloseCode::INTERNAL_ERROR);
}

#[test]
fn idle_timeout() {
    let mut config = server_config();
    config.idle_timeout = Some(Duration::from_secs(30));
    let (mut server, start) = open_server(config);
    assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(30)));
    // Traffic pushes it back.
    let later = start + Duration::from_secs(20);
    server.receive(&masked(true, OpCode::BINARY, b"x"), later);
    assert_eq!(server.poll_timeout(), Some(later + Duration::from_secs(30)));
    // No new bytes (only a partial frame left from before): not activity.
    server.receive(&masked(true, OpCode::BINARY, b"y")[..3], later);
    server.handle_received(later + Duration::from_secs(10));
    assert_eq!(server.poll_timeout(), Some(later + Duration::from_secs(30)));
    server.handle_timeout(later + Duration::from_secs(29));
    assert_eq!(server.ready_state(), ReadyState::Open);
    server.handle_timeout(later + Duration::from_secs(30));
    let events = events(&mut server);
    assert!(matches!(
        &events[1],
        Event::Error(ConnectionError::IdleTimeout)
    ));
    let frames = frames(Role::Client, &output(&mut server));
    assert_eq!(frames.last().unwrap().payload[..2], 1001u16.to_be_bytes());
}

#[test]
fn no_timers_by_default_once_open() {
    let pair = Pair::connected();
    assert_eq!(pair.client.endpoint.poll_timeout(), None);
    assert_eq!(pair.server.endpoint.poll_timeout(), None);
}
