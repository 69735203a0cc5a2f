//! Client side: response parsing from every split point, each rule with its own error,
//! redirects and 401s handed back, limits, and the `http` round trip.

use http::header::{HeaderName, HeaderValue, LOCATION, SEC_WEBSOCKET_KEY, WWW_AUTHENTICATE};
use http::{Response, StatusCode, Version};
use ws_handshake::grammar::GrammarError;
use ws_handshake::{
    ClientBuilder, ClientHandshake, ClientOutcome, Limits, ResponseError, accept_key,
};

fn client() -> ClientHandshake {
    ClientBuilder::new("ws://server.example.com/chat".parse().unwrap())
        .protocol("chat")
        .protocol("superchat")
        .extension("permessage-deflate; client_max_window_bits")
        .extension("x-foo")
        .build()
        .unwrap()
}

/// A valid 101 for `client`, with `extra` header lines (each ending in CRLF).
fn switch(client: &ClientHandshake, extra: &str) -> String {
    let key = client.request().headers()[SEC_WEBSOCKET_KEY].as_bytes();
    format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_key(key)
    )
}

fn outcome(client: &ClientHandshake, bytes: &[u8]) -> (ClientOutcome, usize) {
    client
        .parse_response(bytes)
        .unwrap()
        .expect("a whole response")
}

fn refused(client: &ClientHandshake, text: &str) -> ResponseError {
    client
        .parse_response(text.as_bytes())
        .expect_err("response must be refused")
}

#[test]
fn accepted_response_reports_choices_and_leaves_frames() {
    let client = client();
    let head = switch(
        &client,
        "Sec-WebSocket-Protocol: superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n",
    );
    let mut input = head.clone().into_bytes();
    input.extend_from_slice(b"\x81\x02hi");
    let (outcome, used) = outcome(&client, &input);
    assert_eq!(used, head.len());
    let ClientOutcome::Accepted(accepted) = outcome else {
        panic!("refused: {outcome:?}");
    };
    assert_eq!(accepted.protocol.as_deref(), Some("superchat"));
    assert_eq!(
        accepted.extensions,
        ["permessage-deflate; client_max_window_bits=10"]
    );
    assert_eq!(accepted.response.status(), StatusCode::SWITCHING_PROTOCOLS);
}

#[test]
fn every_split_point_gives_the_same_outcome() {
    let client = client();
    let head = switch(&client, "Sec-WebSocket-Protocol: chat\r\n");
    let mut input = head.clone().into_bytes();
    input.extend_from_slice(b"\x81\x02hi");
    let whole = format!("{:?}", outcome(&client, &input));
    for split in 0..=input.len() {
        let partial = client.parse_response(&input[..split]).unwrap();
        if split < head.len() {
            assert!(partial.is_none(), "complete after only {split} bytes");
        } else {
            assert_eq!(format!("{:?}", partial.unwrap()), whole);
        }
    }
}

#[test]
fn each_rule_has_its_own_error() {
    let client = client();
    let ok = switch(&client, "");
    let cases = [
        (
            ok.replacen("HTTP/1.1", "HTTP/1.0", 1),
            ResponseError::NotHttp11(Version::HTTP_10),
        ),
        (
            ok.replacen("Upgrade: websocket", "Upgrade: h2c", 1),
            ResponseError::MissingUpgrade,
        ),
        (
            ok.replacen("Connection: Upgrade", "Connection: close", 1),
            ResponseError::MissingConnectionUpgrade,
        ),
        (
            ok.replacen("Sec-WebSocket-Accept", "X-Accept", 1),
            ResponseError::MissingAccept,
        ),
        (
            switch(&client, "Sec-WebSocket-Accept: again\r\n"),
            ResponseError::MissingAccept,
        ),
        (
            ok.replacen("Sec-WebSocket-Accept: ", "Sec-WebSocket-Accept: x", 1),
            ResponseError::AcceptMismatch,
        ),
        (
            switch(&client, "Sec-WebSocket-Protocol: chat, superchat\r\n"),
            ResponseError::InvalidProtocolHeader,
        ),
        (
            switch(
                &client,
                "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n",
            ),
            ResponseError::InvalidProtocolHeader,
        ),
        (
            switch(&client, "Sec-WebSocket-Protocol: \"chat\"\r\n"),
            ResponseError::InvalidProtocolHeader,
        ),
        (
            switch(&client, "Sec-WebSocket-Protocol: other\r\n"),
            ResponseError::ProtocolNotOffered("other".into()),
        ),
        (
            switch(&client, "Sec-WebSocket-Extensions: x-foo, x-bar\r\n"),
            ResponseError::ExtensionNotOffered("x-bar".into()),
        ),
        (
            switch(&client, "Sec-WebSocket-Extensions: x-foo; a=\"b\r\n"),
            ResponseError::InvalidExtensionHeader(GrammarError::UnterminatedQuote { at: 9 }),
        ),
        (
            "HTTP/1.1 1O1 Switching\r\n\r\n".to_owned(),
            ResponseError::Malformed(httparse::Error::Status),
        ),
    ];
    for (text, error) in cases {
        assert_eq!(refused(&client, &text), error, "for {text:?}");
    }
}

#[test]
fn protocol_chosen_without_offer_is_refused() {
    let client = ClientBuilder::new("ws://a/".parse().unwrap())
        .build()
        .unwrap();
    let text = switch(&client, "Sec-WebSocket-Protocol: chat\r\n");
    assert_eq!(
        refused(&client, &text),
        ResponseError::ProtocolNotOffered("chat".into())
    );
}

#[test]
fn redirect_is_handed_back_with_headers_and_body() {
    let client = client();
    let text = "HTTP/1.1 302 Found\r\n\
        Location: wss://elsewhere.example/chat\r\n\
        Content-Length: 5\r\n\r\nmoved";
    for split in 0..text.len() {
        assert!(
            client
                .parse_response(&text.as_bytes()[..split])
                .unwrap()
                .is_none()
        );
    }
    let (outcome, used) = outcome(&client, text.as_bytes());
    assert_eq!(used, text.len());
    let ClientOutcome::Rejected(response) = outcome else {
        panic!("a 302 was accepted");
    };
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[LOCATION], "wss://elsewhere.example/chat");
    assert_eq!(response.body(), b"moved");
}

#[test]
fn unauthorized_is_handed_back_without_a_known_length() {
    let client = client();
    let text = "HTTP/1.1 401 Unauthorized\r\n\
        WWW-Authenticate: Basic realm=\"chat\"\r\n\
        Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (outcome, used) = outcome(&client, text.as_bytes());
    let ClientOutcome::Rejected(response) = outcome else {
        panic!("a 401 was accepted");
    };
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[WWW_AUTHENTICATE], "Basic realm=\"chat\"");
    // The chunked body's end is not this crate's to find: it is left in the input.
    assert!(response.body().is_empty());
    assert!(text[used..].starts_with("5\r\nhello"));
}

#[test]
fn body_over_the_limit_is_not_waited_for() {
    let mut limits = Limits::default();
    limits.max_body = 4;
    let client = ClientBuilder::new("ws://a/".parse().unwrap())
        .limits(limits)
        .build()
        .unwrap();
    let text = "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\n";
    let (outcome, used) = outcome(&client, text.as_bytes());
    assert_eq!(used, text.len());
    assert!(matches!(outcome, ClientOutcome::Rejected(r) if r.body().is_empty()));
}

#[test]
fn each_limit_is_enforced() {
    let mut limits = Limits::default();
    limits.max_headers = 3;
    let client = ClientBuilder::new("ws://a/".parse().unwrap())
        .limits(limits)
        .build()
        .unwrap();
    let text = switch(&client, "X: 1\r\n");
    assert_eq!(
        refused(&client, &text),
        ResponseError::TooManyHeaders { max: 3 }
    );

    let mut limits = Limits::default();
    limits.max_head_bytes = 64;
    let client = ClientBuilder::new("ws://a/".parse().unwrap())
        .limits(limits)
        .build()
        .unwrap();
    let text = switch(&client, "");
    assert_eq!(
        refused(&client, &text),
        ResponseError::HeadTooLarge { max: 64 }
    );

    let mut limits = Limits::default();
    limits.max_head_bytes = 100_000;
    let client = ClientBuilder::new("ws://a/".parse().unwrap())
        .limits(limits)
        .build()
        .unwrap();
    let text = switch(&client, &format!("{}: 1\r\n", "x".repeat(70_000)));
    assert_eq!(refused(&client, &text), ResponseError::InvalidHeader);
}

#[test]
fn responses_from_http_types_are_checked_the_same_way() {
    let client = client();
    let key = client.request().headers()[SEC_WEBSOCKET_KEY].as_bytes();
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("sec-websocket-accept", accept_key(key))
        .body(())
        .unwrap();
    assert!(matches!(
        client.check_response(response.clone()),
        Ok(ClientOutcome::Accepted(_))
    ));

    let mut wrong = response;
    wrong.headers_mut().insert(
        HeaderName::from_static("sec-websocket-accept"),
        HeaderValue::from_static("AAAA"),
    );
    assert_eq!(
        client.check_response(wrong).unwrap_err(),
        ResponseError::AcceptMismatch
    );

    let teapot = Response::builder().status(418).body(()).unwrap();
    assert!(matches!(
        client.check_response(teapot),
        Ok(ClientOutcome::Rejected(r)) if r.status() == StatusCode::IM_A_TEAPOT
    ));
}

#[test]
fn request_round_trips_through_http_types() {
    let client = client();
    let mut bytes = Vec::new();
    client.encode(&mut bytes);
    // The server side reads back exactly the request the client holds.
    let (incoming, _) = ws_handshake::Incoming::parse(&bytes, &Limits::default())
        .unwrap()
        .unwrap();
    let ws_handshake::Incoming::Upgrade(upgrade) = incoming else {
        panic!("the client's request is not an upgrade");
    };
    assert_eq!(upgrade.request().headers(), client.request().headers());
    assert_eq!(
        upgrade.request().uri().path(),
        client.request().uri().path()
    );
    assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
    assert_eq!(
        upgrade.extensions(),
        ["permessage-deflate; client_max_window_bits", "x-foo"]
    );
}
