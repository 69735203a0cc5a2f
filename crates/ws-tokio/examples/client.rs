//! A client: sends each line of stdin, prints what comes back.
//!
//! `cargo run -p ws-tokio --example client -- ws://127.0.0.1:9002`

use tokio::io::{AsyncBufReadExt, BufReader};
use ws_tokio::{CloseCode, Message};

#[tokio::main]
async fn main() -> Result<(), ws_tokio::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9002".into());
    let (mut ws, _) = ws_tokio::connect(&url).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => ws.send(Message::text(line)).await?,
                None => break,
            },
            // Cancel-safe: a message arriving while the other branch wins is not lost.
            message = ws.recv() => match message {
                Some(message) => println!("{:?}", message?),
                None => return Ok(()),
            },
        }
    }
    ws.close(CloseCode::NORMAL, "bye").await
}
