//! `shrink_buffers`: an idle connection gives its buffers back and loses nothing.

mod common;

use common::*;
use ws_endpoint::Event;
use ws_frame::{OpCode, Role};

fn binary_payloads(events: Vec<Event>) -> Vec<Vec<u8>> {
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::Binary(data) => Some(data.to_vec()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_burst_leaves_no_receive_capacity_once_shrunk() {
    let (mut server, now) = open_server(plain(server_config()));
    let burst: Vec<u8> = (0..100u8)
        .flat_map(|i| masked(true, OpCode::BINARY, &[i; 500]))
        .collect();
    // Read as an adapter does: into spare room, which outlives the frames split off.
    server.receive_buffer().reserve(64 << 10);
    server.receive_buffer().extend_from_slice(&burst);
    server.handle_received(now);
    let received = binary_payloads(events(&mut server));
    assert_eq!(received.len(), 100);
    // The room left after the frames were split off is still held.
    assert!(server.buffer_capacity() >= (64 << 10) - burst.len());

    server.shrink_buffers();
    assert_eq!(server.buffer_capacity(), 0);
    // The payloads handed out share the old buffer and stay intact.
    assert!(
        received
            .iter()
            .enumerate()
            .all(|(i, p)| p == &[i as u8; 500])
    );

    // And the connection goes on.
    server.receive(&masked(true, OpCode::BINARY, b"again"), now);
    assert_eq!(binary_payloads(events(&mut server)), [b"again".to_vec()]);
}

#[test]
fn a_partial_frame_survives() {
    let (mut server, now) = open_server(plain(server_config()));
    let frame = masked(true, OpCode::BINARY, &[7; 300]);
    server.receive(&frame[..100], now);
    assert!(events(&mut server).is_empty());
    server.shrink_buffers();
    server.receive(&frame[100..], now);
    assert_eq!(binary_payloads(events(&mut server)), [vec![7; 300]]);
}

#[test]
fn a_partial_fragmented_message_survives() {
    let (mut server, now) = open_server(plain(server_config()));
    server.receive(&masked(false, OpCode::BINARY, b"first "), now);
    server.receive(&masked(false, OpCode::CONTINUATION, b"second "), now);
    server.shrink_buffers();
    server.receive(&masked(true, OpCode::CONTINUATION, b"third"), now);
    assert_eq!(
        binary_payloads(events(&mut server)),
        [b"first second third".to_vec()]
    );
}

#[test]
fn unsent_output_and_unpolled_events_survive() {
    let (mut server, now) = open_server(plain(server_config()));
    server.send_binary(vec![1; 2000]).unwrap();
    server.send_text("small").unwrap();
    server.receive(&masked(true, OpCode::BINARY, b"waiting"), now);
    server.shrink_buffers();
    let frames = frames(Role::Client, &output(&mut server));
    let payloads: Vec<_> = frames.iter().map(|f| f.payload.to_vec()).collect();
    assert_eq!(payloads, [vec![1; 2000], b"small".to_vec()]);
    assert_eq!(binary_payloads(events(&mut server)), [b"waiting".to_vec()]);
}

#[test]
fn frame_bytes_missing_says_how_much_completes_the_frame() {
    let (mut server, now) = open_server(plain(server_config()));
    assert_eq!(server.frame_bytes_missing(), 0);
    let frame = masked(true, OpCode::BINARY, &[9; 20_000]);
    // Not even the length yet: unknown.
    server.receive(&frame[..1], now);
    assert_eq!(server.frame_bytes_missing(), 0);
    server.receive(&frame[1..3000], now);
    assert_eq!(server.frame_bytes_missing(), frame.len() - 3000);
    server.receive(&frame[3000..], now);
    assert_eq!(server.frame_bytes_missing(), 0);
    assert_eq!(binary_payloads(events(&mut server)), [vec![9; 20_000]]);
}
