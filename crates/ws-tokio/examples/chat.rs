//! A chat room: every text message is broadcast to everyone connected.
//!
//! `cargo run -p ws-tokio --example chat -- 127.0.0.1:9003`

use tokio::sync::broadcast;
use ws_tokio::Message;

#[tokio::main]
async fn main() -> Result<(), ws_tokio::Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let (room, _) = broadcast::channel::<Message>(256);
    loop {
        let (tcp, _) = listener.accept().await?;
        let (room, mut inbox) = (room.clone(), room.subscribe());
        tokio::spawn(async move {
            let mut ws = ws_tokio::accept(tcp).await?;
            loop {
                tokio::select! {
                    message = ws.recv() => match message {
                        Some(Ok(message @ Message::Text(_))) => drop(room.send(message)),
                        Some(Ok(_)) => {}
                        Some(Err(error)) => return Err(error),
                        None => return Ok(()),
                    },
                    Ok(message) = inbox.recv() => ws.send(message).await?,
                }
            }
        });
    }
}
