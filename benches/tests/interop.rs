//! Another implementation's client against this stack's server: tokio-tungstenite (a
//! dependency of this crate for the benchmarks) talks to the README's echo server
//! (`echo-ws-tokio`) as a browser or any other client would. The other direction, this
//! stack's client against tokio-tungstenite's and fastwebsockets' servers, is in
//! `binaries.rs`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

mod support;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `session` with the URL of a fresh echo server; fails if it takes over `TIMEOUT`.
fn with_server<S: Future<Output = ()>>(session: impl FnOnce(String) -> S) {
    let (_server, addr) = support::start(env!("CARGO_BIN_EXE_echo-ws-tokio"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let session = session(format!("ws://{addr}/"));
    runtime
        .block_on(async { tokio::time::timeout(TIMEOUT, session).await })
        .expect("the session did not finish in time");
}

#[test]
fn a_tokio_tungstenite_client_is_served() {
    with_server(|url| async move {
        let (mut ws, response) = tokio_tungstenite::connect_async(url).await.unwrap();
        assert_eq!(response.status(), 101);
        let messages = [
            Message::text("héllo, wörld"),
            Message::binary(vec![9u8; 200_000]),
            Message::text(""),
        ];
        for message in messages {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), message);
        }
        // A ping is answered with a pong carrying its payload.
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Pong(b"are you there".to_vec().into())
        );
        // Pipelined: 100 messages in one flush come back in order.
        for i in 0..100u32 {
            ws.feed(Message::binary(i.to_be_bytes().to_vec()))
                .await
                .unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..100u32 {
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                Message::binary(i.to_be_bytes().to_vec())
            );
        }
        // The close handshake: our close is echoed with its code, then the stream ends.
        ws.close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
            other => panic!("expected the close echo, got {other:?}"),
        }
        assert!(ws.next().await.is_none());
    });
}

#[test]
fn a_tokio_tungstenite_client_breaking_the_protocol_gets_1002() {
    with_server(|url| async move {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        // A continuation frame with no message started: a protocol error.
        let frame = tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
            b"orphan".to_vec(),
            tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Continue,
            ),
            true,
        );
        ws.send(Message::Frame(frame)).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::Protocol);
            }
            other => panic!("expected a close with 1002, got {other:?}"),
        }
    });
}
