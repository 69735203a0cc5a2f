//! An echo server for WebSockets over HTTP/2 (RFC 8441), with hyper carrying HTTP/2:
//! `cargo run -p ws-tokio --example http2_server -- 127.0.0.1:9003`
//!
//! HTTP/2 without TLS (prior knowledge), so try it with `ws connect --http2
//! ws://127.0.0.1:9003/`; behind TLS with ALPN `h2` (as `ws serve --cert` does) browsers
//! use it too.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::ext::Protocol;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ws_tokio::{Answer, Config};

/// One request on the HTTP/2 connection: an extended CONNECT becomes a WebSocket.
async fn answer(
    mut request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Empty<Bytes>>, Infallible> {
    let protocol = request.extensions().get::<Protocol>().map(Protocol::as_str);
    let protocol = protocol.unwrap_or_default().to_owned();
    let on_upgrade = hyper::upgrade::on(&mut request);
    let (parts, _body) = request.into_parts();
    let head = http::Request::from_parts(parts, ());
    let response = match ws_tokio::upgrade_extended_connect(
        head,
        &protocol,
        Config::default(),
        Answer::accept(),
    ) {
        Ok((response, upgrading)) => {
            // The stream is handed over once the 200 is sent.
            tokio::spawn(async move {
                let upgraded = on_upgrade.await?;
                let mut ws = upgrading.into_websocket(TokioIo::new(upgraded));
                while let Some(message) = ws.recv().await {
                    let message = message?;
                    if message.is_data() {
                        ws.feed(message).await?;
                    }
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            });
            response
        }
        // Not an extended CONNECT for WebSocket: the status says why (400, 426, 501).
        Err(ws_tokio::Error::BadRequest(error)) => status(error.status()),
        Err(_) => status(http::StatusCode::INTERNAL_SERVER_ERROR),
    };
    Ok(response.map(|()| Empty::new()))
}

fn status(status: http::StatusCode) -> http::Response<()> {
    let mut response = http::Response::new(());
    *response.status_mut() = status;
    response
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(
            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .enable_connect_protocol()
                .serve_connection(TokioIo::new(tcp), hyper::service::service_fn(answer)),
        );
    }
}
