//! Async WebSocket client and server for tokio: a thin adapter that owns a transport and a
//! [`ws_endpoint::Endpoint`] and moves bytes and time between them. All protocol logic
//! (handshake, framing, permessage-deflate, close, heartbeat, limits) is in the endpoint.
//!
//! A server and a client on 127.0.0.1, exchanging one message:
//!
//! ```
//! use ws_tokio::{Message, connect};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("ws://{}/echo", listener.local_addr()?);
//!
//! // The server: echo every message back.
//! tokio::spawn(async move {
//!     let (tcp, _) = listener.accept().await?;
//!     let mut ws = ws_tokio::accept(tcp).await?;
//!     while let Some(Ok(message)) = ws.recv().await {
//!         if message.is_data() {
//!             ws.send(message).await?;
//!         }
//!     }
//!     Ok::<_, ws_tokio::Error>(())
//! });
//!
//! // The client.
//! let (mut ws, _response) = connect(&url).await?;
//! ws.send(Message::text("hello")).await?;
//! let reply = ws.recv().await.expect("a reply")?;
//! assert_eq!(reply.as_text(), Some("hello"));
//! ws.close(ws_tokio::CloseCode::NORMAL, "done").await?;
//! # Ok(())
//! # }
//! ```
//!
//! # The pump
//!
//! Whoever polls the socket (`recv`, `send`, the `Stream`/`Sink` impls, either half of a
//! [`split`](WebSocket::split)) runs one driver: it reads into the endpoint's receive
//! buffer (no intermediate copy), lets the endpoint process every frame in it, hands out
//! events, writes queued output with vectored writes (so the replies to a batch of input
//! leave together, 16 at most per write while the batch is being handled), and keeps one
//! `tokio::time::Sleep` armed at the endpoint's next deadline, so heartbeat and close
//! timeouts run without the application doing anything but polling. There is no
//! background task and no channel per message.
//!
//! [`send`](WebSocket::send) writes at once; [`feed`](WebSocket::feed) only queues, and
//! the queue is written by the next `flush`, `send`, or `recv` that waits for input or
//! follows the 16th message handed out since the last write: an echo loop that feeds its
//! replies writes them in few writes per batch of input, the first before the batch is
//! done.
//!
//! # Cancel safety
//!
//! The state is in the socket, not in the futures: dropping a `recv` future (in
//! `tokio::select!`) loses no message, and dropping a `send` after it queued its message
//! leaves the message queued.
//!
//! # Connecting
//!
//! [`ConnectOptions`] adds subprotocols, headers, a [`Config`], a proxy
//! ([`proxy`](ConnectOptions::proxy): an HTTP `CONNECT` tunnel, in the clear or inside
//! TLS with the proxy, or a SOCKS5 or SOCKS4 one; then TLS and the handshake through it)
//! and redirects ([`follow_redirects`](ConnectOptions::follow_redirects): off by
//! default, bounded, credentials only for the origin named). A refusal is a typed error carrying the
//! response: [`Error::Rejected`] from the server, [`Error::Proxy`] from the proxy.
//!
//! # HTTP/2
//!
//! A WebSocket can also run on one stream of an HTTP/2 connection (RFC 8441; HTTP/3, RFC
//! 9220), which an HTTP/2 library such as hyper carries: [`upgrade_extended_connect`] on
//! the server, [`ConnectOptions::extended_connect`] on the client; the socket is the same
//! [`WebSocket`].
//!
//! # Features
//!
//! - `rustls`: `wss://` in [`connect`] (webpki roots by default, or
//!   `ConnectOptions::tls_config`), and the `tls` module for servers. (Plain code, not
//!   links: both exist only with the feature, and the docs must build without it.)
//! - `native-roots` (implies `rustls`): `tls::native_roots_config()`, a client
//!   configuration trusting the platform's certificate store.
//!
//! Design notes: `docs/adapters.md`.

#![forbid(unsafe_code)]

mod client;
mod conn;
mod error;
mod handshake;
mod message;
mod proxy;
mod socket;
mod stream;
#[cfg(feature = "rustls")]
pub mod tls;

pub use client::{ClientUpgrade, ConnectOptions, connect};
pub use error::Error;
pub use handshake::{
    Answer, Upgrading, accept, accept_with, accept_with_config, upgrade, upgrade_extended_connect,
};
pub use message::{CloseFrame, Message};
pub use socket::{ReadHalf, ReuniteError, WebSocket, WriteHalf};
pub use stream::ClientStream;
pub use ws_endpoint::{CloseCode, Config, MessageKind, PreparedMessage, ReadyState, Utf8Bytes};
pub use ws_handshake::{TunnelError, UpgradeRequest};
