//! The Autobahn testee, server role: echoes every text and binary message unchanged, with
//! permessage-deflate and 64 MiB limits. Prints `listening on ADDR` when ready.
//!
//! `cargo run --release -p ws-tokio --example autobahn_server -- 127.0.0.1:9001`

use std::io::Write;

use tokio::net::TcpListener;
use ws_extensions::{Extensions, PerMessageDeflate};
use ws_tokio::{Answer, Config};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(async move {
            let accepted = ws_tokio::accept_with_config(tcp, config(), |_| Answer::accept());
            let Ok(mut ws) = accepted.await else { return };
            while let Some(Ok(message)) = ws.recv().await {
                // Replies are fed, not sent: they leave together once the input is drained.
                if message.is_data() && ws.feed(message).await.is_err() {
                    break;
                }
            }
        });
    }
}

fn config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_payload = 64 << 20;
    // Compress every message, however short. Sending short ones uncompressed is valid
    // (RFC 7692 §6) and the default, but kosoku 0.1.0 then hands the echo to its case
    // as a `str` and errors in its own hashing (12.x.1 / 13.x.1, 16-byte messages).
    config.extensions = Extensions::new().with(PerMessageDeflate::new().min_size(0));
    config
}
