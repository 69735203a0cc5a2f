//! Backpressure: the outgoing queue is bounded; control frames still get out.

mod common;

use common::*;
use ws_endpoint::{CloseCode, Config, Event, MessageKind, SendError};
use ws_frame::{OpCode, Role};

fn small_queue() -> Config {
    let mut config = server_config();
    config.max_queued_bytes = 1000;
    config
}

#[test]
fn send_reports_a_full_buffer() {
    let (mut server, now) = open_server(small_queue());
    // A message larger than the limit is accepted into an empty queue...
    server.send_binary(vec![0; 2000]).unwrap();
    // ...but nothing more until it drains.
    assert_eq!(server.send_text("more"), Err(SendError::BufferFull));
    assert_eq!(
        server.send_fragment(MessageKind::Binary, vec![0], true),
        Err(SendError::BufferFull)
    );
    server.advance_transmit(1500);
    assert_eq!(server.send_binary(vec![0; 600]), Err(SendError::BufferFull));
    server.send_binary(vec![0; 400]).unwrap();
    assert_eq!(server.transmit_len(), 504 + 404);
    // Pings and close are never refused.
    server.send_ping(&b"p"[..], now).unwrap();
    server.close(CloseCode::NORMAL, "", now).unwrap();
    let frames = frames(Role::Client, &output(&mut server)[504..]);
    let ops: Vec<_> = frames.iter().map(|f| f.header.opcode).collect();
    assert_eq!(ops, [OpCode::BINARY, OpCode::PING, OpCode::CLOSE]);
}

#[test]
fn pongs_wait_while_the_queue_is_full_and_the_latest_wins() {
    let (mut server, now) = open_server(small_queue());
    server.send_binary(vec![0; 2000]).unwrap();
    // A peer that floods pings without reading does not grow the queue.
    for i in 0..100u8 {
        server.receive(&masked(true, OpCode::PING, &[i]), now);
    }
    assert_eq!(events(&mut server).len(), 100);
    assert_eq!(server.transmit_len(), 2004);
    // Once drained, one pong goes out, for the latest ping.
    server.advance_transmit(2004);
    let frames = frames(Role::Client, &output(&mut server));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].header.opcode, OpCode::PONG);
    assert_eq!(frames[0].payload[..], [99]);
}

#[test]
fn backpressure_in_the_pair() {
    // Uncompressed: the test counts wire bytes of 3000-byte messages.
    let mut client = plain(Config::default());
    client.max_queued_bytes = 10_000;
    let mut pair = Pair::connected_with(client, server_config());
    let mut sent = 0;
    while pair.client.endpoint.send_binary(vec![1; 3000]).is_ok() {
        sent += 1;
    }
    assert_eq!(sent, 3);
    pair.drive();
    // Written out: room again.
    pair.client.endpoint.send_binary(vec![1; 3000]).unwrap();
    pair.drive();
    assert_eq!(pair.server.messages().len(), 4);
    assert!(
        pair.server
            .events
            .iter()
            .all(|e| matches!(e, Event::Binary(_)))
    );
}
