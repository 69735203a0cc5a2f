//! Echo server on `ws-tokio`, written the way the README teaches: `accept`, a `recv`
//! loop, each data message queued back with `feed` (the next `recv` writes every queued
//! reply before it waits, so a burst's echoes leave in one write). Default `Config`, so
//! permessage-deflate is accepted when the client offers it.
//!
//! `echo-ws-tokio ADDR`; worker threads from `WS_E2E_WORKERS` (default 1).

#![forbid(unsafe_code)]

fn main() -> std::io::Result<()> {
    ws_benches::serve(|tcp| async move {
        let mut ws = ws_tokio::accept(tcp).await?;
        while let Some(message) = ws.recv().await {
            let message = message?;
            if message.is_data() {
                ws.feed(message).await?;
            }
        }
        Ok::<_, ws_tokio::Error>(())
    })
}
