//! The Autobahn TestSuite's server under test (`cargo xtask autobahn`): an echo server,
//! one thread per connection, permessage-deflate on, limits raised to 64 MiB for the
//! performance cases (9.*, up to 16 MiB messages).
//!
//! `cargo run --release -p ws-std --example autobahn_server -- 127.0.0.1:9001` prints
//! `listening on ADDR` once ready and runs until killed.

use std::io::Write;
use std::net::TcpListener;

use ws_endpoint::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .ok_or("usage: autobahn_server HOST:PORT")?;
    let listener = TcpListener::bind(&addr)?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_payload = 64 << 20;
    // Compress every message, however short. kosoku's 12.* cases hash a text echo that
    // arrives uncompressed as a `str` and fail with a Python TypeError ("Strings must be
    // encoded before hashing"); the default sends messages under 32 bytes plain, which
    // RFC 7692 allows.
    config.extensions =
        ws_extensions::Extensions::new().with(ws_extensions::PerMessageDeflate::new().min_size(0));
    for stream in listener.incoming() {
        let stream = stream?;
        stream.set_nodelay(true)?;
        let config = config.clone();
        std::thread::spawn(move || {
            // A case that breaks the protocol on purpose ends its connection with an
            // error: that is the expected outcome, not something to report.
            let Ok(mut ws) = ws_std::accept(stream, config) else {
                return;
            };
            while let Ok(Some(message)) = ws.recv() {
                // An echo refused because the peer's close frame already arrived (7.1.6)
                // is not the end: the next `recv` writes the queued close answer and
                // shuts the connection down cleanly.
                let _ = ws.send(message);
            }
        });
    }
    Ok(())
}
