//! Echo server on tokio-tungstenite with its default configuration, in its idiomatic
//! form: `accept_async`, then `while let Some(msg) = ws.next().await`, sending each text
//! or binary message back with `send` (one flush per message).
//!
//! `echo-tokio-tungstenite ADDR`; worker threads from `WS_E2E_WORKERS` (default 1).

#![forbid(unsafe_code)]

use futures_util::{SinkExt, StreamExt};

fn main() -> std::io::Result<()> {
    ws_benches::serve(|tcp| async move {
        let mut ws = tokio_tungstenite::accept_async(tcp).await?;
        while let Some(message) = ws.next().await {
            let message = message?;
            if message.is_text() || message.is_binary() {
                ws.send(message).await?;
            }
        }
        Ok::<_, tokio_tungstenite::tungstenite::Error>(())
    })
}
