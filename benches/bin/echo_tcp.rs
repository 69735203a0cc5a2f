//! Plain TCP echo, the floor: read into a buffer, write it all back. No framing, no
//! masking; what is left is the kernel's cost and the runtime's.
//!
//! `echo-tcp ADDR`; worker threads from `WS_E2E_WORKERS` (default 1).

#![forbid(unsafe_code)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One read's worth: a 64 KiB message arrives in one or two reads, as it would into a
/// WebSocket server's buffer.
const BUFFER: usize = 64 * 1024;

fn main() -> std::io::Result<()> {
    ws_benches::serve(|mut tcp| async move {
        let mut buf = vec![0; BUFFER];
        loop {
            let n = tcp.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            tcp.write_all(&buf[..n]).await?;
        }
    })
}
