//! Server side: request parsing from every split point, each rule and limit with its own
//! error and status, subprotocol selection, accepting, and the `http` round trip.

use http::header::{SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION};
use http::{Method, Request, StatusCode, Version};
use ws_handshake::grammar::GrammarError;
use ws_handshake::{Incoming, Limits, RequestError, UpgradeRequest, UsageError, accept_key};

/// The request of RFC 6455 §1.2, with a query and an extension offer added.
const REQUEST: &str = "GET /chat?room=1 HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fn parse(bytes: &[u8]) -> Result<Option<(Incoming, usize)>, RequestError> {
    Incoming::parse(bytes, &Limits::default())
}

fn upgrade(bytes: &[u8]) -> UpgradeRequest {
    match parse(bytes).unwrap().unwrap().0 {
        Incoming::Upgrade(upgrade) => upgrade,
        Incoming::Plain(request) => panic!("not an upgrade: {request:?}"),
    }
}

/// `REQUEST` with `line` (a header line, without CRLF) removed and `add` appended to the
/// headers.
fn edited(remove: &str, add: &str) -> String {
    let mut text = String::new();
    for line in REQUEST.split_inclusive("\r\n") {
        if line == "\r\n" {
            text.push_str(add);
            text.push_str(line);
        } else if remove.is_empty() || !line.starts_with(remove) {
            text.push_str(line);
        }
    }
    text
}

fn rejected(text: &str) -> RequestError {
    parse(text.as_bytes()).expect_err("request must be refused")
}

#[test]
fn rfc_request_is_accepted_with_rfc_answer() {
    let upgrade = upgrade(REQUEST.as_bytes());
    assert_eq!(upgrade.request().uri(), "/chat?room=1");
    assert_eq!(upgrade.request().headers()["origin"], "http://example.com");
    assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
    assert_eq!(
        upgrade.extensions(),
        [
            "permessage-deflate; client_max_window_bits",
            "x-webkit-deflate-frame"
        ]
    );
    let mut buf = Vec::new();
    upgrade
        .accept()
        .select_protocol(&["chat"])
        .encode(&mut buf)
        .unwrap();
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         upgrade: websocket\r\n\
         connection: Upgrade\r\n\
         sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         sec-websocket-protocol: chat\r\n\r\n"
    );
}

#[test]
fn rfc_sample_key_gives_rfc_accept() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn every_split_point_gives_the_same_request() {
    let mut input = REQUEST.as_bytes().to_vec();
    input.extend_from_slice(b"\x81\x82frame");
    let whole = format!("{:?}", parse(&input).unwrap().unwrap());
    for split in 0..input.len() {
        let first = parse(&input[..split]).unwrap();
        if split < REQUEST.len() {
            assert!(first.is_none(), "complete after only {split} bytes");
        } else {
            let (incoming, used) = first.unwrap();
            assert_eq!(used, REQUEST.len());
            assert_eq!(format!("{:?}", (incoming, used)), whole);
        }
    }
}

#[test]
fn plain_requests_are_handed_over() {
    let text = "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    let (incoming, used) = parse(text.as_bytes()).unwrap().unwrap();
    let Incoming::Plain(request) = incoming else {
        panic!("a plain request was taken for an upgrade");
    };
    assert_eq!(request.method(), Method::POST);
    assert_eq!(&text[used..], "abc");
    // Another protocol's upgrade is not ours either.
    let h2c = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    assert!(matches!(
        parse(h2c.as_bytes()).unwrap().unwrap().0,
        Incoming::Plain(_)
    ));
}

#[test]
fn header_matching_is_case_insensitive_and_list_aware() {
    let text = edited("Upgrade:", "upgrade: WebSocket\r\n")
        .replace("Connection: Upgrade", "connection: keep-alive, UPGRADE");
    upgrade(text.as_bytes());
}

#[test]
fn each_rule_has_its_own_error() {
    let cases: Vec<(String, RequestError)> = vec![
        (
            REQUEST.replacen("GET", "POST", 1),
            RequestError::NotGet(Method::POST),
        ),
        (
            REQUEST.replacen("HTTP/1.1", "HTTP/1.0", 1),
            RequestError::NotHttp11(Version::HTTP_10),
        ),
        (edited("Host:", ""), RequestError::MissingHost),
        (
            edited("Connection:", "Connection: keep-alive\r\n"),
            RequestError::MissingConnectionUpgrade,
        ),
        (edited("Sec-WebSocket-Key:", ""), RequestError::MissingKey),
        (
            edited("Sec-WebSocket-Key:", "Sec-WebSocket-Key: c2hvcnQ=\r\n"),
            RequestError::InvalidKey,
        ),
        (
            edited("", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
            RequestError::DuplicateHeader(SEC_WEBSOCKET_KEY),
        ),
        (
            edited("", "Sec-WebSocket-Version: 13\r\n"),
            RequestError::DuplicateHeader(SEC_WEBSOCKET_VERSION),
        ),
        (
            edited("Sec-WebSocket-Version:", ""),
            RequestError::MissingVersion,
        ),
        (
            edited("Sec-WebSocket-Version:", "Sec-WebSocket-Version: 8\r\n"),
            RequestError::UnsupportedVersion,
        ),
        (
            edited("", "Sec-WebSocket-Protocol: a b\r\n"),
            RequestError::InvalidProtocolHeader(GrammarError::UnexpectedByte { at: 2 }),
        ),
        (
            edited("", "Sec-WebSocket-Extensions: x; y=\"\"\r\n"),
            RequestError::InvalidExtensionHeader(GrammarError::QuotedNotToken { at: 5 }),
        ),
        (
            "GET /\x01 HTTP/1.1\r\n\r\n".to_owned(),
            RequestError::Malformed(httparse::Error::Token),
        ),
        (
            REQUEST.replacen("/chat?room=1", "http://[::1/", 1),
            RequestError::InvalidTarget,
        ),
        (
            edited("", "X: a\x7fb\r\n"),
            RequestError::Malformed(httparse::Error::HeaderValue),
        ),
    ];
    for (text, error) in cases {
        assert_eq!(rejected(&text), error, "for {text:?}");
        let status = if matches!(
            error,
            RequestError::MissingVersion | RequestError::UnsupportedVersion
        ) {
            StatusCode::UPGRADE_REQUIRED
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(error.status(), status, "for {error:?}");
    }
}

#[test]
fn each_limit_has_its_status() {
    let mut limits = Limits::default();
    limits.max_request_line = 20;
    let error = Incoming::parse(REQUEST.as_bytes(), &limits).unwrap_err();
    assert_eq!(error, RequestError::RequestLineTooLong { max: 20 });
    assert_eq!(error.status(), StatusCode::URI_TOO_LONG);

    let mut limits = Limits::default();
    limits.max_headers = 7;
    let error = Incoming::parse(REQUEST.as_bytes(), &limits).unwrap_err();
    assert_eq!(error, RequestError::TooManyHeaders { max: 7 });
    assert_eq!(error.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let mut limits = Limits::default();
    limits.max_head_bytes = 100;
    let error = Incoming::parse(REQUEST.as_bytes(), &limits).unwrap_err();
    assert_eq!(error, RequestError::HeadTooLarge { max: 100 });
    assert_eq!(error.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    // A head that never ends is refused once it passes the limit, not buffered forever.
    let endless = "GET / HTTP/1.1\r\nX: ".to_owned() + &"a".repeat(200);
    let error = Incoming::parse(endless.as_bytes(), &limits).unwrap_err();
    assert_eq!(error, RequestError::HeadTooLarge { max: 100 });

    // The defaults take the RFC request, and exactly-at-limit is within it.
    let mut limits = Limits::default();
    limits.max_head_bytes = REQUEST.len();
    limits.max_headers = 8;
    limits.max_request_line = "GET /chat?room=1 HTTP/1.1".len();
    assert!(
        Incoming::parse(REQUEST.as_bytes(), &limits)
            .unwrap()
            .is_some()
    );
}

#[test]
fn non_ascii_where_tokens_are_required_is_refused() {
    let mut text = edited("", "").into_bytes();
    let at = text.len() - 2;
    text.splice(
        at..at,
        b"Sec-WebSocket-Protocol: ch\xffat\r\n".iter().copied(),
    );
    assert_eq!(
        parse(&text).unwrap_err(),
        RequestError::InvalidProtocolHeader(GrammarError::UnexpectedByte { at: 2 })
    );
    let mut text = edited("", "").into_bytes();
    text.splice(at..at, "Sec-WebSocket-Extensions: dé\r\n".bytes());
    assert_eq!(
        parse(&text).unwrap_err(),
        RequestError::InvalidExtensionHeader(GrammarError::UnexpectedByte { at: 1 })
    );
}

#[test]
fn headers_http_cannot_hold_are_refused() {
    // httparse takes any token as a name, but `http` caps names at 64 KiB.
    let long_name = edited("", &format!("{}: 1\r\n", "x".repeat(70_000)));
    let mut limits = Limits::default();
    limits.max_head_bytes = 100_000;
    let error = Incoming::parse(long_name.as_bytes(), &limits).unwrap_err();
    assert_eq!(error, RequestError::InvalidHeader);
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn error_responses_carry_status_and_headers() {
    let mut buf = Vec::new();
    RequestError::UnsupportedVersion.write_response(&mut buf);
    let text = String::from_utf8(buf).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nsec-websocket-version: 13\r\n"), "{text}");
    assert!(text.contains("\r\nupgrade: websocket\r\n"), "{text}");
    assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nSec-WebSocket-Version is not 13\n"));

    let mut buf = Vec::new();
    RequestError::TooManyHeaders { max: 3 }.write_response(&mut buf);
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    assert!(!text.contains("sec-websocket-version"));
    let body = "more than 3 header lines\n";
    assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
    assert!(text.ends_with(body));
}

#[test]
fn subprotocol_is_the_servers_first_choice_among_offers() {
    let upgrade = upgrade(REQUEST.as_bytes());
    let select = |supported: &[&str]| upgrade.accept().select_protocol(supported).protocol();
    assert_eq!(select(&["superchat", "chat"]), Some("superchat"));
    assert_eq!(select(&["chat", "superchat"]), Some("chat"));
    assert_eq!(select(&["other", "chat"]), Some("chat"));
    assert_eq!(select(&["other"]), None);
    assert_eq!(select(&[]), None);
    // Names are compared exactly.
    assert_eq!(select(&["Chat"]), None);
    let response = upgrade
        .accept()
        .select_protocol(&["other"])
        .into_response()
        .unwrap();
    assert!(!response.headers().contains_key("sec-websocket-protocol"));
}

#[test]
fn offered_extensions_can_be_accepted_and_others_cannot() {
    let upgrade = upgrade(REQUEST.as_bytes());
    let response = upgrade
        .accept()
        .extension("permessage-deflate; server_no_context_takeover")
        .header(
            http::header::SET_COOKIE,
            http::HeaderValue::from_static("id=1"),
        )
        .into_response()
        .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        response.headers()["sec-websocket-extensions"],
        "permessage-deflate; server_no_context_takeover"
    );
    assert_eq!(response.headers()["set-cookie"], "id=1");

    let error = upgrade.accept().extension("x-other").into_response();
    assert_eq!(
        error.unwrap_err(),
        UsageError::ExtensionNotOffered("x-other".into())
    );
    let error = upgrade
        .accept()
        .extension("permessage-deflate;")
        .encode(&mut Vec::new());
    assert!(matches!(
        error.unwrap_err(),
        UsageError::InvalidExtension {
            error: GrammarError::ExpectedToken { .. },
            ..
        }
    ));
}

#[test]
fn requests_from_http_types_are_checked_the_same_way() {
    let request = Request::builder()
        .uri("/chat")
        .header("host", "a")
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    let Ok(Incoming::Upgrade(upgrade)) = Incoming::try_from(request.clone()) else {
        panic!("a valid request was refused");
    };
    let response = upgrade.accept().into_response().unwrap();
    assert_eq!(
        response.headers()["sec-websocket-accept"],
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(upgrade.into_request().uri(), "/chat");

    let mut old = request;
    *old.version_mut() = Version::HTTP_2;
    assert_eq!(
        Incoming::try_from(old).unwrap_err(),
        RequestError::NotHttp11(Version::HTTP_2)
    );
}
