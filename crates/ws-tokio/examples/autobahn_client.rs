//! The Autobahn testee, client role, for a fuzzingserver at the given URL: runs every case
//! with an echo loop, then asks the server to write its report.
//!
//! `cargo run --release -p ws-tokio --example autobahn_client -- ws://127.0.0.1:9001 ws-tokio`

use ws_extensions::{DeflateParams, Extensions, PerMessageDeflate};
use ws_tokio::{Config, ConnectOptions, Error, Message, WebSocket};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "ws-tokio".into());

    let mut ws = open(&format!("{base}/getCaseCount")).await?;
    let count: u32 = match ws.recv().await {
        Some(Ok(Message::Text(text))) => text.as_str().trim().parse().unwrap_or(0),
        other => panic!("no case count: {other:?}"),
    };
    while ws.recv().await.is_some() {}
    eprintln!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(error) = run_case(&url).await {
            eprintln!("case {case}: {error}");
        }
    }

    let mut ws = open(&format!("{base}/updateReports?agent={agent}")).await?;
    while ws.recv().await.is_some() {}
    Ok(())
}

async fn run_case(url: &str) -> Result<(), Error> {
    let mut ws = open(url).await?;
    while let Some(message) = ws.recv().await {
        let message = message?;
        if message.is_data() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}

async fn open(url: &str) -> Result<WebSocket<ws_tokio::ClientStream>, Error> {
    let (ws, _response) = ConnectOptions::new(url)?.config(config()).connect().await?;
    Ok(ws)
}

fn config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_payload = 64 << 20;
    // client_no_context_takeover first (the fuzzingserver runs 13.2/13.5/13.6 only with
    // it), then a plain offer for servers that refuse it.
    let deflate = PerMessageDeflate::with_params(DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    })
    .fallback(DeflateParams::default())
    // Every message compressed: see the server testee for kosoku's trouble with short
    // uncompressed messages on a deflate connection.
    .min_size(0);
    config.extensions = Extensions::new().with(deflate);
    config
}
