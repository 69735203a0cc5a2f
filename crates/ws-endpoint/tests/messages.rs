//! Messages both ways, zero-copy and corked output, pings and pongs.

mod common;

use bytes::Bytes;
use common::*;
use ws_endpoint::{Event, MessageKind, Role, SendError};
use ws_frame::OpCode;

#[test]
fn messages_both_ways() {
    let mut pair = Pair::connected();
    pair.client.endpoint.send_text("from client").unwrap();
    pair.client.endpoint.send_binary(vec![1, 2, 3]).unwrap();
    pair.server.endpoint.send_text("from server").unwrap();
    pair.server.endpoint.send_binary(Bytes::new()).unwrap();
    pair.client.endpoint.send_text("").unwrap();
    pair.drive();
    assert_eq!(
        pair.server.messages(),
        [
            (true, b"from client".to_vec()),
            (false, vec![1, 2, 3]),
            (true, vec![])
        ]
    );
    assert_eq!(
        pair.client.messages(),
        [(true, b"from server".to_vec()), (false, vec![])]
    );
}

#[test]
fn unicode_text_round_trips() {
    let mut pair = Pair::connected();
    let text = "κόσμε 🦀 ünïcödé".repeat(100);
    pair.client.endpoint.send_text(text.clone()).unwrap();
    pair.drive();
    let Event::Text(received) = &pair.server.events[0] else {
        panic!()
    };
    assert_eq!(received.as_str(), text);
    assert_eq!(received.to_string(), text);
    assert_eq!(format!("{received:?}"), format!("{text:?}"));
}

#[test]
fn large_messages_both_ways() {
    let mut pair = Pair::connected();
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    pair.client.endpoint.send_binary(big.clone()).unwrap();
    pair.server.endpoint.send_binary(big.clone()).unwrap();
    pair.drive();
    assert_eq!(pair.server.messages(), [(false, big.clone())]);
    assert_eq!(pair.client.messages(), [(false, big)]);
}

#[test]
fn server_queues_large_payloads_without_copying() {
    let (mut server, _) = open_server(server_config());
    let payload = Bytes::from(vec![7u8; 10_000]);
    server.send_text("small").unwrap();
    server.send_binary(payload.clone()).unwrap();
    server.send_text("after").unwrap();
    let chunks: Vec<&[u8]> = server.transmit_chunks().collect();
    // Header(s) coalesced with the small frame, then the payload itself, then the rest.
    assert_eq!(
        chunks.len(),
        3,
        "{:?}",
        chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
    );
    assert_eq!(
        chunks[1].as_ptr(),
        payload.as_ptr(),
        "the payload was copied"
    );
    assert_eq!(&chunks[0][..7], b"\x81\x05small");
    assert_eq!(&chunks[0][7..], b"\x82\x7e\x27\x10");
    assert_eq!(chunks[2], b"\x81\x05after");
    let mut slices = [std::io::IoSlice::new(&[]); 8];
    assert_eq!(server.transmit_io_slices(&mut slices), 3);
    assert_eq!(server.transmit_len(), 7 + 4 + 10_000 + 7);

    // Partial writes: advance through the middle of a chunk.
    server.advance_transmit(5);
    server.advance_transmit(10);
    assert_eq!(server.transmit_len(), 7 + 4 + 10_000 + 7 - 15);
    let rest: Vec<u8> = server.transmit_chunks().flat_map(|c| c.to_vec()).collect();
    assert_eq!(rest.len(), server.transmit_len());
    assert!(rest.ends_with(b"\x81\x05after"));
    server.advance_transmit(usize::MAX);
    assert_eq!(server.transmit_len(), 0);
    assert_eq!(server.transmit_chunks().count(), 0);
}

#[test]
fn echo_is_zero_copy() {
    let (mut server, now) = open_server(server_config());
    let big = vec![b'x'; 5000];
    server.receive(&masked(true, OpCode::TEXT, &big), now);
    let Some(Event::Text(text)) = server.poll_event() else {
        panic!()
    };
    let ptr = text.as_bytes().as_ptr();
    server.send_text(text).unwrap();
    let chunks: Vec<&[u8]> = server.transmit_chunks().collect();
    assert_eq!(chunks[1].as_ptr(), ptr);
}

#[test]
fn replies_to_a_batch_leave_in_one_write() {
    let mut pair = Pair::connected();
    for i in 0..50u8 {
        pair.client.endpoint.send_binary(vec![i]).unwrap();
    }
    pair.drive();
    let writes_before = pair.server.writes;
    // The server echoes every message of the batch; all replies leave in one write.
    for event in pair.server.take_events() {
        if let Event::Binary(data) = event {
            pair.server.endpoint.send_binary(data).unwrap();
        }
    }
    assert_eq!(pair.server.endpoint.transmit_chunks().count(), 1);
    pair.drive();
    assert_eq!(pair.server.writes, writes_before + 1);
    assert_eq!(pair.client.messages().len(), 50);
}

#[test]
fn every_ping_is_answered_while_the_output_flows() {
    let (mut server, now) = open_server(server_config());
    let mut input = Vec::new();
    input.extend(masked(true, OpCode::PING, b"one"));
    input.extend(masked(true, OpCode::PING, b"two"));
    input.extend(masked(true, OpCode::PING, b"three"));
    server.receive(&input, now);
    let events = events(&mut server);
    let pings: Vec<_> = events
        .iter()
        .map(|e| match e {
            Event::Ping(p) => p.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pings, ["one", "two", "three"]);
    // A pong per ping, in order (Autobahn 2.10); only a backed-up output coalesces them
    // (backpressure.rs).
    let frames = frames(Role::Client, &output(&mut server));
    let pongs: Vec<_> = frames
        .iter()
        .map(|f| {
            assert_eq!(f.header.opcode, OpCode::PONG);
            f.payload.clone()
        })
        .collect();
    assert_eq!(pongs, ["one", "two", "three"]);
}

#[test]
fn ping_rtt_and_unsolicited_pongs() {
    let mut pair = Pair::connected();
    let now = pair.time;
    pair.client.endpoint.send_ping(&b"rtt?"[..], now).unwrap();
    pair.client.endpoint.send_ping(Bytes::new(), now).unwrap();
    pair.server.endpoint.send_pong(&b"unsolicited"[..]).unwrap();
    // The server reads later: the RTT is the time between.
    pair.time += std::time::Duration::from_millis(30);
    pair.drive();
    let pongs: Vec<_> = pair
        .client
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Pong { payload, rtt } => Some((payload.clone(), *rtt)),
            _ => None,
        })
        .collect();
    // The server answers both pings; the one with a payload reports the RTT.
    assert_eq!(pongs[0], (Bytes::from_static(b"unsolicited"), None));
    assert_eq!(pongs.len(), 3, "{pongs:?}");
    assert_eq!(
        pongs[1],
        (
            Bytes::from_static(b"rtt?"),
            Some(std::time::Duration::from_millis(30))
        )
    );
    assert_eq!(pongs[2], (Bytes::new(), None));

    pair.client.events.clear();
    let now = pair.time;
    pair.client.endpoint.send_ping(&b"alone"[..], now).unwrap();
    pair.time += std::time::Duration::from_millis(30);
    pair.drive();
    assert!(matches!(
        &pair.client.events[..],
        [Event::Pong { payload, rtt: Some(rtt) }]
            if payload == "alone" && *rtt == std::time::Duration::from_millis(30)
    ));
}

#[test]
fn control_payload_limits() {
    let mut pair = Pair::connected();
    let now = pair.time;
    assert_eq!(
        pair.client.endpoint.send_ping(vec![0; 126], now),
        Err(SendError::ControlTooLong)
    );
    assert_eq!(
        pair.client.endpoint.send_pong(vec![0; 126]),
        Err(SendError::ControlTooLong)
    );
    pair.client.endpoint.send_ping(vec![0; 125], now).unwrap();
    pair.drive();
    assert!(matches!(&pair.server.events[..], [Event::Ping(p)] if p.len() == 125));
    let _ = MessageKind::Text;
}
