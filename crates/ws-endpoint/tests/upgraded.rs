//! `Endpoint::server_upgraded`: a request another HTTP server parsed and answers; and
//! both ends of an extended CONNECT (RFC 8441), which an HTTP/2 library carries.

use std::time::Instant;

use ws_endpoint::{ClientUpgradeError, Config, ConnectionError, Endpoint, Event, ReadyState};
use ws_handshake::{ClientBuilder, Incoming, Limits, ResponseError, UpgradeRequest};

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

    let (mut server, response) = accept_chat(request, now);
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

/// The server's view of an extended CONNECT request: as an HTTP/2 library hands it over.
fn received(request: &http::Request<()>) -> http::Request<()> {
    let mut copy = http::Request::new(());
    *copy.method_mut() = request.method().clone();
    *copy.version_mut() = request.version();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

#[test]
fn extended_connect_opens_both_ends_with_deflate_and_a_subprotocol() {
    let now = Instant::now();
    let builder = ClientBuilder::new("wss://example.com/chat".parse().unwrap()).protocol("chat");
    let connect = Endpoint::extended_connect(&Config::default(), builder).unwrap();
    // The config's permessage-deflate offer went into the request.
    let offers = &connect.request().headers()["sec-websocket-extensions"];
    assert!(offers.to_str().unwrap().starts_with("permessage-deflate"));

    let request =
        UpgradeRequest::from_extended_connect(received(connect.request()), "websocket").unwrap();
    let (mut server, response) = accept_chat(request, now);
    assert_eq!(response.status(), 200);
    assert_eq!(server.transmit_len(), 0);
    assert!(matches!(server.poll_event(), Some(Event::Open(_))));

    let mut client = Endpoint::client_upgraded(Config::default(), &connect, response, now).unwrap();
    assert_eq!(client.ready_state(), ReadyState::Open);
    let Some(Event::Open(opened)) = client.poll_event() else {
        panic!("client not open");
    };
    assert_eq!(opened.protocol.as_deref(), Some("chat"));
    assert!(opened.extensions[0].starts_with("permessage-deflate"));
    assert_eq!(opened.response.unwrap().status(), 200);

    // Frames both ways on the stream, compressed, the client's masked.
    let text = "over HTTP/2 ".repeat(20);
    client.send_text(text.clone()).unwrap();
    let mut wire = Vec::new();
    client.poll_transmit(&mut wire);
    assert!(wire.len() < text.len(), "compressed");
    assert_ne!(wire[1] & 0x80, 0, "masked");
    server.receive(&wire, now);
    assert!(matches!(server.poll_event(), Some(Event::Text(t)) if t == text.as_str()));
    server.send_binary(vec![4, 5, 6]).unwrap();
    wire.clear();
    server.poll_transmit(&mut wire);
    client.receive(&wire, now);
    assert!(matches!(client.poll_event(), Some(Event::Binary(b)) if b[..] == [4, 5, 6]));
}

#[test]
fn extended_connect_refusals_and_bad_answers_are_typed() {
    let now = Instant::now();
    let builder = ClientBuilder::new("ws://example.com/".parse().unwrap()).protocol("chat");
    let connect = Endpoint::extended_connect(&Config::default(), builder).unwrap();
    let answer = |status: u16, header: Option<(&str, &str)>| {
        let mut response = http::Response::builder().status(status);
        if let Some((name, value)) = header {
            response = response.header(name, value);
        }
        let response = response.body(()).unwrap();
        Endpoint::client_upgraded(Config::default(), &connect, response, now)
    };
    assert!(matches!(
        answer(404, None),
        Err(ClientUpgradeError::Rejected(response)) if response.status() == 404
    ));
    assert!(matches!(
        answer(200, Some(("sec-websocket-protocol", "other"))),
        Err(ClientUpgradeError::Failed(ConnectionError::BadResponse(
            ResponseError::ProtocolNotOffered(_)
        )))
    ));
    // Offered, but with a parameter the client cannot honour.
    assert!(matches!(
        answer(
            200,
            Some(("sec-websocket-extensions", "permessage-deflate; x=1"))
        ),
        Err(ClientUpgradeError::Failed(ConnectionError::Negotiation(_)))
    ));
}

/// The server's side for a request parsed elsewhere: opened, choosing `chat`.
fn accept_chat(request: UpgradeRequest, now: Instant) -> (Endpoint, http::Response<()>) {
    Endpoint::server_upgraded(
        Config::default(),
        request,
        |accept| accept.select_protocol(&["chat"]),
        now,
    )
    .unwrap()
}
