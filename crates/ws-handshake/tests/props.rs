//! Property tests for the parsers: any split of the input gives the same result as the
//! whole, and no input makes them panic.

use proptest::prelude::*;
use ws_handshake::{ClientBuilder, ClientHandshake, Incoming, Limits, ProxyConnect, accept_key};

/// Feeds `input` to `parse` the way a reader would, growing the buffer at each cut and
/// stopping at the first outcome or error, and returns that result.
fn fed_in_pieces<T: std::fmt::Debug, E: std::fmt::Debug>(
    input: &[u8],
    cuts: &[prop::sample::Index],
    parse: impl Fn(&[u8]) -> Result<Option<T>, E>,
) -> String {
    let mut ends: Vec<usize> = cuts.iter().map(|cut| cut.index(input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    for end in ends {
        match parse(&input[..end]) {
            Ok(None) => {}
            done => return format!("{done:?}"),
        }
    }
    format!("{:?}", parse(input))
}

fn limits() -> impl Strategy<Value = Limits> {
    (1usize..12, 16usize..400, 4usize..64, 0usize..32).prop_map(|(headers, head, line, body)| {
        let mut limits = Limits::default();
        limits.max_headers = headers;
        limits.max_head_bytes = head;
        limits.max_request_line = line;
        limits.max_body = body;
        limits
    })
}

/// Header lines that matter to the handshake, valid or not, plus noise.
fn header_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Host: a.example".to_owned()),
        Just("Upgrade: websocket".to_owned()),
        Just("Connection: keep-alive, Upgrade".to_owned()),
        Just("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
        Just("Sec-WebSocket-Version: 13".to_owned()),
        Just(format!("Sec-WebSocket-Accept: {ACCEPT}")),
        Just("Content-Length: 3".to_owned()),
        "Sec-WebSocket-Protocol: [a-z ,;\"]{0,12}".prop_map(|s| s),
        "Sec-WebSocket-Extensions: [a-z ,;=\"\\\\]{0,20}".prop_map(|s| s),
        "[A-Za-z-]{1,10}: [ -~]{0,20}".prop_map(|s| s),
    ]
}

/// A request or response head built from plausible parts, then perhaps damaged.
fn head(start_lines: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(&["", "\r\n", "\n\r\n\r\n\r\n\r\n"][..]),
        prop::sample::select(start_lines),
        proptest::collection::vec(header_line(), 0..10),
        proptest::collection::vec(any::<u8>(), 0..8),
        proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
    )
        .prop_map(|(empty_lines, start, headers, tail, damage)| {
            let headers: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
            let mut bytes = format!("{empty_lines}{start}\r\n{headers}\r\n").into_bytes();
            bytes.extend_from_slice(&tail);
            if let Some((at, byte)) = damage {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            bytes
        })
}

fn request_head() -> impl Strategy<Value = Vec<u8>> {
    head(&[
        "GET /chat HTTP/1.1",
        "GET /a/long/path?with=query&and=more HTTP/1.1",
        "POST / HTTP/1.1",
        "GET / HTTP/1.0",
    ])
}

fn response_head() -> impl Strategy<Value = Vec<u8>> {
    head(&[
        "HTTP/1.1 101 Switching Protocols",
        "HTTP/1.1 200 OK",
        "HTTP/1.1 302 Found",
        "HTTP/1.0 101 Switching",
    ])
}

/// Stands for the accept value the client expects; see [`with_accept`].
const ACCEPT: &str = "@ACCEPT@";

fn client(limits: Limits) -> ClientHandshake {
    ClientBuilder::new("ws://a.example/chat".parse().unwrap())
        .protocol("chat")
        .extension("x-a")
        .limits(limits)
        .build()
        .unwrap()
}

/// `input` with the [`ACCEPT`] placeholder replaced by the value `client` expects, so
/// that generated 101s can pass the accept check.
fn with_accept(client: &ClientHandshake, input: &[u8]) -> Vec<u8> {
    let Some(at) = input
        .windows(ACCEPT.len())
        .position(|w| w == ACCEPT.as_bytes())
    else {
        return input.to_vec();
    };
    let accept = accept_key(client.request().headers()["sec-websocket-key"].as_bytes());
    [&input[..at], accept.as_bytes(), &input[at + ACCEPT.len()..]].concat()
}

proptest! {
    #[test]
    fn requests_parse_the_same_at_any_split(
        input in request_head(),
        limits in prop_oneof![Just(Limits::default()), limits()],
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let parse = |buf: &[u8]| Incoming::parse(buf, &limits);
        prop_assert_eq!(fed_in_pieces(&input, &cuts, parse), format!("{:?}", parse(&input)));
    }

    #[test]
    fn responses_parse_the_same_at_any_split(
        input in response_head(),
        limits in prop_oneof![Just(Limits::default()), limits()],
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let client = client(limits);
        let input = with_accept(&client, &input);
        let parse = |buf: &[u8]| client.parse_response(buf);
        prop_assert_eq!(fed_in_pieces(&input, &cuts, parse), format!("{:?}", parse(&input)));

        let proxy = ProxyConnect::new(&"http://p".parse().unwrap(), &"ws://a".parse().unwrap())
            .unwrap()
            .limits(limits);
        let parse = |buf: &[u8]| proxy.parse_response(buf);
        prop_assert_eq!(fed_in_pieces(&input, &cuts, parse), format!("{:?}", parse(&input)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        input in proptest::collection::vec(any::<u8>(), 0..512),
        limits in prop_oneof![Just(Limits::default()), limits()],
    ) {
        let mut buf = Vec::new();
        if let Ok(Some((Incoming::Upgrade(upgrade), _))) = Incoming::parse(&input, &limits) {
            let _ = upgrade.accept().select_protocol(&["chat"]).encode(&mut buf);
        }
        if let Err(error) = Incoming::parse(&input, &limits) {
            error.write_response(&mut buf);
        }
        let _ = client(limits).parse_response(&input);
    }
}
