//! WebSocket over HTTP/2 (RFC 8441): hyper's HTTP/2 server and client carry the extended
//! CONNECT on 127.0.0.1, and ws-tokio runs the WebSocket on the upgraded streams.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::ext::Protocol;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use ws_tokio::{Answer, Config, ConnectOptions, Error, Message};

/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(10);

/// The echo server's answer to one request: a WebSocket for an extended CONNECT to
/// `/echo`, a 404 for other paths, the handshake crate's error response otherwise.
async fn answer(
    mut request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Empty<Bytes>>, Infallible> {
    let protocol = request
        .extensions()
        .get::<Protocol>()
        .map(|protocol| protocol.as_str().to_owned())
        .unwrap_or_default();
    if request.uri().path() != "/echo" {
        let mut response = hyper::Response::new(Empty::new());
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        return Ok(response);
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    let (parts, _body) = request.into_parts();
    let answer = Answer::accept().protocol("chat");
    let response = match ws_tokio::upgrade_extended_connect(
        http::Request::from_parts(parts, ()),
        &protocol,
        Config::default(),
        answer,
    ) {
        Ok((response, upgrading)) => {
            tokio::spawn(async move {
                let upgraded = on_upgrade.await.expect("the stream after the 200");
                let mut ws = upgrading.into_websocket(TokioIo::new(upgraded));
                while let Some(Ok(message)) = ws.recv().await {
                    if message.is_data() {
                        ws.send(message).await.expect("echo");
                    }
                }
            });
            response
        }
        Err(Error::BadRequest(error)) => {
            let mut response = http::Response::new(());
            *response.status_mut() = error.status();
            response
        }
        Err(error) => panic!("{error}"),
    };
    Ok(response.map(|()| Empty::new()))
}

/// An HTTP/2 server (prior knowledge, no TLS) with extended CONNECT enabled, serving
/// connections until the test ends.
async fn h2_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .enable_connect_protocol()
                    .serve_connection(TokioIo::new(tcp), service_fn(answer)),
            );
        }
    });
    addr
}

/// An HTTP/2 client connection to `addr`.
async fn h2_client(
    addr: std::net::SocketAddr,
) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

/// Sends `upgrade`'s request as an extended CONNECT: the response and its stream.
async fn send(
    sender: &mut hyper::client::conn::http2::SendRequest<Empty<Bytes>>,
    request: &http::Request<()>,
) -> (http::Response<()>, Option<hyper::upgrade::Upgraded>) {
    let mut h2_request = hyper::Request::new(Empty::new());
    *h2_request.method_mut() = request.method().clone();
    *h2_request.uri_mut() = request.uri().clone();
    *h2_request.version_mut() = request.version();
    *h2_request.headers_mut() = request.headers().clone();
    h2_request
        .extensions_mut()
        .insert(Protocol::from_static("websocket"));
    let mut response = sender.send_request(h2_request).await.unwrap();
    let upgraded = if response.status().is_success() {
        Some(hyper::upgrade::on(&mut response).await.unwrap())
    } else {
        None
    };
    let (parts, _body) = response.into_parts();
    (http::Response::from_parts(parts, ()), upgraded)
}

#[tokio::test]
async fn websockets_share_one_http2_connection() {
    timeout(LIMIT, async {
        let addr = h2_server().await;
        let mut sender = h2_client(addr).await;
        let mut sockets = Vec::new();
        for _ in 0..3 {
            let upgrade = ConnectOptions::new(&format!("ws://{addr}/echo"))
                .unwrap()
                .protocol("chat")
                .extended_connect()
                .unwrap();
            let (response, stream) = send(&mut sender, upgrade.request()).await;
            assert_eq!(response.status(), 200);
            let ws = upgrade
                .into_websocket(response, TokioIo::new(stream.unwrap()))
                .unwrap();
            assert_eq!(ws.protocol(), Some("chat"));
            sockets.push(ws);
        }
        // Three streams of one connection, each its own WebSocket; compressed text and
        // binary both ways.
        for (i, ws) in sockets.iter_mut().enumerate() {
            let text = format!("stream {i} ").repeat(50);
            ws.send(Message::text(text.clone())).await.unwrap();
            ws.send(Message::binary(vec![i as u8; 3])).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(text));
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                Message::binary(vec![i as u8; 3])
            );
        }
        for mut ws in sockets {
            ws.close(ws_tokio::CloseCode::NORMAL, "done").await.unwrap();
        }
    })
    .await
    .expect("within the limit");
}

#[tokio::test]
async fn an_extended_connect_for_another_protocol_gets_501() {
    timeout(LIMIT, async {
        let addr = h2_server().await;
        let mut sender = h2_client(addr).await;
        let upgrade = ConnectOptions::new(&format!("ws://{addr}/echo"))
            .unwrap()
            .extended_connect()
            .unwrap();
        let (parts, ()) = upgrade.request().clone().into_parts();
        let mut request = hyper::Request::from_parts(parts, Empty::new());
        request
            .extensions_mut()
            .insert(Protocol::from_static("webtransport"));
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), http::StatusCode::NOT_IMPLEMENTED);
    })
    .await
    .expect("within the limit");
}

#[tokio::test]
async fn a_refused_extended_connect_is_rejected_with_its_status() {
    timeout(LIMIT, async {
        let addr = h2_server().await;
        let mut sender = h2_client(addr).await;
        let upgrade = ConnectOptions::new(&format!("ws://{addr}/elsewhere"))
            .unwrap()
            .extended_connect()
            .unwrap();
        let (response, stream) = send(&mut sender, upgrade.request()).await;
        assert!(stream.is_none());
        let (client, _server) = tokio::io::duplex(64);
        match upgrade.into_websocket(response, client) {
            Err(Error::Rejected(response)) => assert_eq!(response.status(), 404),
            other => panic!("{other:?}"),
        }
    })
    .await
    .expect("within the limit");
}

#[test]
fn an_answer_choosing_what_was_not_offered_fails_the_connection() {
    let upgrade = ConnectOptions::new("wss://chat.example/")
        .unwrap()
        .protocol("chat")
        .extended_connect()
        .unwrap();
    assert_eq!(upgrade.request().method(), http::Method::CONNECT);
    assert_eq!(upgrade.request().uri(), "https://chat.example/");
    let mut response = http::Response::new(());
    response.headers_mut().insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("other"),
    );
    let (client, _server) = tokio::io::duplex(64);
    match upgrade.into_websocket(response, client) {
        Err(Error::Connection { error, close_code }) => {
            assert!(error.to_string().contains("other"), "{error}");
            assert_eq!(close_code, ws_tokio::CloseCode::ABNORMAL);
        }
        other => panic!("{other:?}"),
    }
}
