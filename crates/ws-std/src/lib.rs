//! A blocking WebSocket client and server over any `Read + Write` transport
//! ([`std::net::TcpStream`] first of all), driving the sans-IO [`ws_endpoint::Endpoint`].
//! All protocol logic lives in the endpoint; this crate moves bytes and reads the clock.
//!
//! An echo server and a client over 127.0.0.1:
//!
//! ```
//! use std::net::TcpListener;
//! use ws_endpoint::Config;
//! use ws_std::Message;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let url = format!("ws://{}/", listener.local_addr()?);
//! let server = std::thread::spawn(move || -> Result<(), ws_std::Error> {
//!     let (stream, _) = listener.accept()?;
//!     let mut ws = ws_std::accept(stream, Config::default())?;
//!     // Echo until the client closes: `recv` returns `None` after a clean close.
//!     while let Some(message) = ws.recv()? {
//!         ws.send(message)?;
//!     }
//!     Ok(())
//! });
//!
//! let mut ws = ws_std::connect(&url, Config::default())?;
//! ws.send(Message::text("hello"))?;
//! assert_eq!(ws.recv()?, Some(Message::text("hello")));
//! ws.close(ws_endpoint::CloseCode::NORMAL, "done")?;
//! server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`accept`] and [`accept_with`] run the server's opening handshake on an accepted stream
//! (`accept_with` lets a callback inspect the request and answer it); [`connect`] opens a
//! connection to a `ws://` (or `wss://`) URL and [`client`] runs the client handshake on a
//! stream the caller opened (a Unix socket, a TLS stream of its own). The result is a
//! [`WebSocket`]: [`send`](WebSocket::send), [`recv`](WebSocket::recv),
//! [`close`](WebSocket::close), and [`feed`](WebSocket::feed) to queue replies that
//! [`recv`](WebSocket::recv) then writes together (one write for a pipelined burst's
//! echoes, not one each). Configuration (limits, timeouts, heartbeat,
//! permessage-deflate) is [`ws_endpoint::Config`].
//!
//! # Connecting
//!
//! [`ConnectOptions`] adds subprotocols, headers, a connect timeout, a proxy
//! ([`proxy`](ConnectOptions::proxy): an HTTP `CONNECT` tunnel, in the clear or inside TLS
//! with the proxy, or a SOCKS5 or SOCKS4 one; then TLS and the handshake through it) and
//! redirects ([`follow_redirects`](ConnectOptions::follow_redirects): off by default,
//! bounded, credentials only for the origin named), the same options as ws-tokio's. A refusal is a typed error carrying the response: [`Error::Rejected`] from
//! the server, [`Error::Proxy`] from the proxy. No step waits forever by default:
//! see [its timeouts](ConnectOptions#timeouts).
//!
//! # Features
//!
//! - `rustls`: `wss://` in [`connect`] (webpki roots) and `ConnectOptions::tls_config`,
//!   and the `tls` module: `tls::connect` with a `rustls::ClientConfig` of your own, and
//!   `tls::TlsStream::server` to accept over TLS. The timers keep running through TLS: the read timeout is set on the
//!   `TcpStream` underneath. (Plain code, not links: the module exists only with the
//!   feature, and the docs must build without it.)

#![forbid(unsafe_code)]

mod connect;
mod error;
mod proxy;
mod socket;
#[cfg(feature = "rustls")]
pub mod tls;
mod transport;

pub use connect::{ConnectOptions, connect};
pub use error::Error;
pub use socket::{Decision, Message, WebSocket, accept, accept_with, client};
pub use transport::{ClientStream, Transport};
pub use ws_handshake::TunnelError;
