//! Echo server on fastwebsockets 0.10 as its README and examples teach: hyper serves the
//! HTTP/1.1 upgrade (`upgrade::upgrade`), the WebSocket runs in its own task (unconstrained,
//! as in those examples) behind a `FragmentCollector`, and each text or binary frame is
//! written back with `write_frame`. Defaults otherwise (auto-close and auto-pong on).
//!
//! `echo-fastwebsockets ADDR`; worker threads from `WS_E2E_WORKERS` (default 1).

#![forbid(unsafe_code)]

use fastwebsockets::{FragmentCollector, OpCode, WebSocketError, upgrade};
use http_body_util::Empty;
use hyper::{
    Request, Response,
    body::{Bytes, Incoming},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;

async fn echo(upgrading: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(upgrading.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

async fn upgrade(mut request: Request<Incoming>) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgrading) = upgrade::upgrade(&mut request)?;
    tokio::spawn(async move {
        if let Err(error) = tokio::task::unconstrained(echo(upgrading)).await {
            eprintln!("websocket: {error}");
        }
    });
    Ok(response)
}

fn main() -> std::io::Result<()> {
    ws_benches::serve(|tcp| {
        http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service_fn(upgrade))
            .with_upgrades()
    })
}
