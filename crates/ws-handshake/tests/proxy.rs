//! The CONNECT step through an HTTP proxy, with credentials, then the handshake through
//! the tunnel.

use http::StatusCode;
use http::header::PROXY_AUTHENTICATE;
use ws_handshake::{
    ClientBuilder, ClientOutcome, Incoming, Limits, ProxyConnect, ProxyOutcome, ResponseError,
};

fn connect() -> ProxyConnect {
    ProxyConnect::new(
        &"http://user%40corp:p%3Ass@proxy.example:3128"
            .parse()
            .unwrap(),
        &"ws://chat.example:8080/room".parse().unwrap(),
    )
    .unwrap()
}

#[test]
fn connect_with_credentials_then_handshake_through_the_tunnel() {
    let connect = connect();
    let mut to_proxy = Vec::new();
    connect.encode(&mut to_proxy);
    assert_eq!(
        String::from_utf8(to_proxy).unwrap(),
        "CONNECT chat.example:8080 HTTP/1.1\r\n\
         host: chat.example:8080\r\n\
         proxy-authorization: Basic dXNlckBjb3JwOnA6c3M=\r\n\r\n"
    );

    // The proxy's answer and the server's 101 may arrive in one read; each step takes its own.
    let client = ClientBuilder::new("ws://chat.example:8080/room".parse().unwrap())
        .build()
        .unwrap();
    let mut request = Vec::new();
    client.encode(&mut request);
    let (incoming, _) = Incoming::parse(&request, &Limits::default())
        .unwrap()
        .unwrap();
    let Incoming::Upgrade(upgrade) = incoming else {
        panic!("not an upgrade");
    };
    let mut from_proxy = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
    upgrade.accept().encode(&mut from_proxy).unwrap();

    let (outcome, used) = connect.parse_response(&from_proxy).unwrap().unwrap();
    let ProxyOutcome::Connected(response) = outcome else {
        panic!("the proxy refused");
    };
    assert_eq!(response.status(), StatusCode::OK);
    let (outcome, rest) = client.parse_response(&from_proxy[used..]).unwrap().unwrap();
    assert!(matches!(outcome, ClientOutcome::Accepted(_)));
    assert_eq!(used + rest, from_proxy.len());
}

#[test]
fn refusal_is_handed_back_with_headers_and_body() {
    let connect = connect();
    let text = "HTTP/1.1 407 Proxy Authentication Required\r\n\
        Proxy-Authenticate: Basic realm=\"corp\"\r\n\
        Content-Length: 6\r\n\r\ndenied";
    for split in 0..text.len() {
        assert!(
            connect
                .parse_response(&text.as_bytes()[..split])
                .unwrap()
                .is_none()
        );
    }
    let (outcome, used) = connect.parse_response(text.as_bytes()).unwrap().unwrap();
    assert_eq!(used, text.len());
    let ProxyOutcome::Rejected(response) = outcome else {
        panic!("a 407 opened the tunnel");
    };
    assert_eq!(response.status(), StatusCode::PROXY_AUTHENTICATION_REQUIRED);
    assert_eq!(
        response.headers()[PROXY_AUTHENTICATE],
        "Basic realm=\"corp\""
    );
    assert_eq!(response.body(), b"denied");
}

#[test]
fn any_2xx_opens_the_tunnel_and_garbage_is_refused() {
    let connect = connect();
    let (outcome, _) = connect
        .parse_response(b"HTTP/1.0 204 No Content\r\n\r\n")
        .unwrap()
        .unwrap();
    assert!(matches!(outcome, ProxyOutcome::Connected(_)));
    assert_eq!(
        connect.parse_response(b"SSH-2.0-OpenSSH\r\n").unwrap_err(),
        ResponseError::Malformed(httparse::Error::Version)
    );
}

#[test]
fn limits_apply_to_the_proxy_response() {
    let mut limits = Limits::default();
    limits.max_head_bytes = 32;
    let connect = connect().limits(limits);
    let text = "HTTP/1.1 200 Connection established\r\n\r\n";
    assert_eq!(
        connect.parse_response(text.as_bytes()).unwrap_err(),
        ResponseError::HeadTooLarge { max: 32 }
    );
}
