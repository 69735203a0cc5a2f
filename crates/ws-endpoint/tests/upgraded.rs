//! `Endpoint::server_upgraded`: a request another HTTP server parsed and answers.

use std::time::Instant;

use ws_endpoint::{Config, Endpoint, Event, ReadyState};
use ws_handshake::{ClientBuilder, Incoming, Limits};

#[test]
fn opens_from_a_parsed_request_and_leaves_the_response_to_the_caller() {
    let now = Instant::now();
    let builder = ClientBuilder::new("ws://example.com/chat".parse().unwrap()).protocol("chat");
    let mut client = Endpoint::client(Config::default(), builder, now).unwrap();
    let mut wire = Vec::new();
    client.poll_transmit(&mut wire);
    let (Incoming::Upgrade(request), _) =
        Incoming::parse(&wire, &Limits::default()).unwrap().unwrap()
    else {
        panic!("not an upgrade");
    };

    let (mut server, response) = Endpoint::server_upgraded(
        Config::default(),
        request,
        |accept| accept.select_protocol(&["chat"]),
        now,
    )
    .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(server.ready_state(), ReadyState::Open);
    assert_eq!(server.protocol(), Some("chat"));
    // The 101 is the caller's to send: nothing of it is queued.
    assert_eq!(server.transmit_len(), 0);
    assert!(matches!(server.poll_event(), Some(Event::Open(opened)) if opened.request.is_some()));

    // The caller's 101, then the endpoint's frames; deflate was negotiated.
    let mut to_client = Vec::new();
    ws_handshake::encode_response(&response.map(|()| []), &mut to_client);
    server.send_text("hello ".repeat(20)).unwrap();
    server.poll_transmit(&mut to_client);
    client.receive(&to_client, now);
    let Some(Event::Open(opened)) = client.poll_event() else {
        panic!("client not open");
    };
    assert_eq!(opened.protocol.as_deref(), Some("chat"));
    assert!(opened.extensions[0].starts_with("permessage-deflate"));
    assert!(
        matches!(client.poll_event(), Some(Event::Text(t)) if t == "hello ".repeat(20).as_str())
    );

    // And the other way.
    client.send_binary(vec![1, 2, 3]).unwrap();
    wire.clear();
    client.poll_transmit(&mut wire);
    server.receive(&wire, now);
    assert!(matches!(server.poll_event(), Some(Event::Binary(b)) if b[..] == [1, 2, 3]));
}
