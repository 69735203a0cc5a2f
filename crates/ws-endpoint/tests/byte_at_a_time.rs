//! Input fed one byte at a time gives the same events as input fed whole.

mod common;

use std::time::Instant;

use ws_endpoint::{CloseCode, Config, Endpoint, Event, MessageKind};

/// Moves all output of `from` into `to`, one byte per `receive` call.
fn trickle(from: &mut Endpoint, to: &mut Endpoint, now: Instant) {
    let mut bytes = Vec::new();
    from.poll_transmit(&mut bytes);
    for byte in bytes {
        to.receive(&[byte], now);
    }
}

fn summary(events: impl Iterator<Item = Event>) -> Vec<String> {
    events
        .map(|e| match e {
            Event::Open(o) => format!("open {:?}", o.protocol),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn one_byte_at_a_time() {
    let now = Instant::now();
    let mut client = Endpoint::client(
        Config::default(),
        common::client_builder().protocol("p"),
        now,
    )
    .unwrap();
    let mut config = common::server_config();
    config.protocols = vec!["p".into()];
    let mut server = Endpoint::server(config, now);

    client.send_text("héllo wörld €€€ 🦀").unwrap();
    client.send_binary(vec![0xff; 300]).unwrap();
    client
        .send_fragment(MessageKind::Text, "frag", false)
        .unwrap();
    client.send_ping(&b"ping"[..], now).unwrap();
    client
        .send_fragment(MessageKind::Text, "mented", true)
        .unwrap();
    client.send_binary(vec![7; 70_000]).unwrap();

    // Request, response, then the messages queued before open.
    trickle(&mut client, &mut server, now);
    trickle(&mut server, &mut client, now);
    trickle(&mut client, &mut server, now);
    server.send_text("réply").unwrap();
    server.close(CloseCode::NORMAL, "bye", now).unwrap();
    trickle(&mut server, &mut client, now);
    // The client answers the close only once the message before it was polled (so that
    // an answer to that message could still be sent).
    let client_events = summary(std::iter::from_fn(|| client.poll_event()));
    trickle(&mut client, &mut server, now);

    let server_events = summary(std::iter::from_fn(|| server.poll_event()));
    let long = format!("Binary({:?})", bytes::Bytes::from(vec![7u8; 70_000]));
    let expected_server = [
        "open Some(\"p\")".to_owned(),
        "Text(\"héllo wörld €€€ 🦀\")".to_owned(),
        format!("Binary({:?})", bytes::Bytes::from(vec![0xffu8; 300])),
        "Ping(b\"ping\")".to_owned(),
        "Text(\"fragmented\")".to_owned(),
        long,
        "Closed(CloseInfo { code: CloseCode(1000 normal closure), reason: \"\", initiator: Local, clean: true })".to_owned(),
    ];
    assert_eq!(server_events, expected_server);
    assert_eq!(client_events[0], "open Some(\"p\")");
    assert_eq!(
        client_events[1],
        "Pong { payload: b\"ping\", rtt: Some(0ns) }"
    );
    assert_eq!(client_events[2], "Text(\"réply\")");
    assert!(client_events[3].starts_with("Closed(CloseInfo { code: CloseCode(1000 normal closure), reason: \"bye\", initiator: Remote, clean: true"));
    assert!(server.should_close_transport());
}
