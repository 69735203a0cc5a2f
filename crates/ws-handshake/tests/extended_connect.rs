//! The extended CONNECT handshake of RFC 8441 (HTTP/2) and RFC 9220 (HTTP/3), both sides.

use http::{Method, Request, Response, StatusCode, Version};
use ws_handshake::{
    ClientBuilder, ClientOutcome, RequestError, ResponseError, UpgradeRequest, UsageError,
};

/// What an HTTP/2 server library hands over: the client's request as sent.
fn as_received(connect: &ws_handshake::ExtendedConnect) -> Request<()> {
    let mut request = Request::new(());
    *request.method_mut() = connect.request().method().clone();
    *request.version_mut() = connect.request().version();
    *request.uri_mut() = connect.request().uri().clone();
    *request.headers_mut() = connect.request().headers().clone();
    request
}

#[test]
fn client_and_server_agree_on_protocol_and_extension() {
    let connect = ClientBuilder::new("wss://chat.example:8443/room?x=1".parse().unwrap())
        .protocol("chat")
        .protocol("superchat")
        .extension("permessage-deflate; client_max_window_bits")
        .origin("https://chat.example")
        .build_extended_connect()
        .unwrap();
    let request = connect.request();
    assert_eq!(request.method(), Method::CONNECT);
    assert_eq!(request.version(), Version::HTTP_2);
    assert_eq!(request.uri(), "https://chat.example:8443/room?x=1");
    let headers = request.headers();
    assert_eq!(headers["sec-websocket-version"], "13");
    assert_eq!(headers["sec-websocket-protocol"], "chat, superchat");
    assert_eq!(headers["origin"], "https://chat.example");
    // HTTP/2 has no connection-level headers, and extended CONNECT no key.
    for absent in ["upgrade", "connection", "sec-websocket-key", "host"] {
        assert!(!headers.contains_key(absent), "{absent}");
    }

    let upgrade = UpgradeRequest::from_extended_connect(as_received(&connect), "websocket")
        .expect("a valid extended CONNECT");
    assert!(upgrade.is_extended_connect());
    assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
    assert_eq!(
        upgrade.extensions(),
        ["permessage-deflate; client_max_window_bits"]
    );
    let response = upgrade
        .accept()
        .select_protocol(&["superchat"])
        .extension("permessage-deflate; client_max_window_bits=10")
        .into_response()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for absent in ["upgrade", "connection", "sec-websocket-accept"] {
        assert!(!response.headers().contains_key(absent), "{absent}");
    }

    let ClientOutcome::Accepted(accepted) = connect.check_response(response).unwrap() else {
        panic!("refused");
    };
    assert_eq!(accepted.protocol.as_deref(), Some("superchat"));
    assert_eq!(
        accepted.extensions,
        ["permessage-deflate; client_max_window_bits=10"]
    );
}

#[test]
fn a_plain_ws_uri_goes_to_http() {
    let connect = ClientBuilder::new("ws://chat.example/".parse().unwrap())
        .build_extended_connect()
        .unwrap();
    assert_eq!(connect.request().uri(), "http://chat.example/");
}

#[test]
fn client_misuse_is_refused_before_sending() {
    let build = |uri: &str| {
        ClientBuilder::new(uri.parse().unwrap())
            .build_extended_connect()
            .unwrap_err()
    };
    assert_eq!(build("/room"), UsageError::MissingHost);
    assert_eq!(
        build("https://chat.example/"),
        UsageError::UnsupportedScheme("https".into())
    );
    let post = Request::builder()
        .method(Method::POST)
        .uri("wss://chat.example/")
        .body(())
        .unwrap();
    assert_eq!(
        ClientBuilder::from_request(post)
            .build_extended_connect()
            .unwrap_err(),
        UsageError::NotGet(Method::POST)
    );
    let bad_protocol = ClientBuilder::new("wss://chat.example/".parse().unwrap())
        .protocol("no spaces")
        .build_extended_connect()
        .unwrap_err();
    assert_eq!(
        bad_protocol,
        UsageError::InvalidProtocol("no spaces".into())
    );
}

fn server_request(method: Method, version: Version, ws_version: Option<&str>) -> Request<()> {
    let mut request = Request::builder()
        .method(method)
        .version(version)
        .uri("https://chat.example/room");
    if let Some(ws_version) = ws_version {
        request = request.header("sec-websocket-version", ws_version);
    }
    request.body(()).unwrap()
}

#[test]
fn server_refuses_each_broken_rule_with_its_error_and_status() {
    let check = |request, protocol| UpgradeRequest::from_extended_connect(request, protocol);
    let cases = [
        (
            check(
                server_request(Method::GET, Version::HTTP_2, Some("13")),
                "websocket",
            ),
            RequestError::NotConnect(Method::GET),
            StatusCode::BAD_REQUEST,
        ),
        (
            check(
                server_request(Method::CONNECT, Version::HTTP_2, Some("13")),
                "webtransport",
            ),
            RequestError::NotWebSocketProtocol("webtransport".into()),
            StatusCode::NOT_IMPLEMENTED,
        ),
        (
            check(
                server_request(Method::CONNECT, Version::HTTP_11, Some("13")),
                "websocket",
            ),
            RequestError::NotHttp2(Version::HTTP_11),
            StatusCode::BAD_REQUEST,
        ),
        (
            check(
                server_request(Method::CONNECT, Version::HTTP_2, None),
                "websocket",
            ),
            RequestError::MissingVersion,
            StatusCode::UPGRADE_REQUIRED,
        ),
        (
            check(
                server_request(Method::CONNECT, Version::HTTP_3, Some("8")),
                "websocket",
            ),
            RequestError::UnsupportedVersion,
            StatusCode::UPGRADE_REQUIRED,
        ),
    ];
    for (result, expected, status) in cases {
        let error = result.unwrap_err();
        assert_eq!(error, expected);
        assert_eq!(error.status(), status);
    }
    // The protocol token is case-insensitive, as an Upgrade token is; HTTP/3 is RFC 9220.
    let request = server_request(Method::CONNECT, Version::HTTP_3, Some("13"));
    assert!(UpgradeRequest::from_extended_connect(request, "WebSocket").is_ok());
}

#[test]
fn server_accepts_only_offered_extensions_and_has_no_http1_encoding() {
    let request = server_request(Method::CONNECT, Version::HTTP_2, Some("13"));
    let upgrade = UpgradeRequest::from_extended_connect(request, "websocket").unwrap();
    let refused = upgrade
        .accept()
        .extension("x-never-offered")
        .into_response();
    assert_eq!(
        refused.unwrap_err(),
        UsageError::ExtensionNotOffered("x-never-offered".into())
    );
    let mut buf = Vec::new();
    assert_eq!(
        upgrade.accept().encode(&mut buf),
        Err(UsageError::NotHttp11)
    );
    assert!(buf.is_empty());
}

#[test]
fn client_checks_the_answer_against_its_offers() {
    let connect = ClientBuilder::new("wss://chat.example/".parse().unwrap())
        .protocol("chat")
        .build_extended_connect()
        .unwrap();
    let answer = |status: u16, header: Option<(&str, &str)>| {
        let mut response = Response::builder().status(status).version(Version::HTTP_2);
        if let Some((name, value)) = header {
            response = response.header(name, value);
        }
        connect.check_response(response.body(()).unwrap())
    };
    assert!(matches!(
        answer(200, None),
        Ok(ClientOutcome::Accepted(accepted)) if accepted.protocol.is_none()
    ));
    assert!(matches!(
        answer(403, None),
        Ok(ClientOutcome::Rejected(response)) if response.status() == 403
    ));
    assert!(matches!(
        answer(200, Some(("sec-websocket-protocol", "other"))),
        Err(ResponseError::ProtocolNotOffered(p)) if p == "other"
    ));
    assert!(matches!(
        answer(200, Some(("sec-websocket-extensions", "permessage-deflate"))),
        Err(ResponseError::ExtensionNotOffered(e)) if e == "permessage-deflate"
    ));
    // A 101 is no answer to an extended CONNECT: HTTP/2 forbids it.
    assert!(matches!(answer(101, None), Ok(ClientOutcome::Rejected(_))));
}
