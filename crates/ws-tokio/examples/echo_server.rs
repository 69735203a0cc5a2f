//! An echo server: `cargo run -p ws-tokio --example echo_server -- 127.0.0.1:9002`

#[tokio::main]
async fn main() -> Result<(), ws_tokio::Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut ws = ws_tokio::accept(tcp).await?;
            while let Some(message) = ws.recv().await {
                let message = message?;
                if message.is_data() {
                    // Queued, not written yet: the next `recv` writes every queued
                    // reply before it waits, so a burst's echoes leave in one write.
                    ws.feed(message).await?;
                }
            }
            Ok::<_, ws_tokio::Error>(())
        });
    }
}
