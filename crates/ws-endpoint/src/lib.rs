//! The WebSocket connection (RFC 6455) as a sans-IO state machine: one [`Endpoint`] type
//! for a client or a server, covering the opening handshake, messages, fragmentation,
//! control frames, the close handshake, heartbeat and limits. It does no I/O and reads no
//! clock: the adapter passes bytes and `Instant`s in and takes events and bytes out.
//!
//! A client and a server in memory, completing the handshake and echoing a message:
//!
//! ```
//! use std::time::Instant;
//! use ws_endpoint::{Config, Endpoint, Event};
//! use ws_handshake::ClientBuilder;
//!
//! let now = Instant::now();
//! let mut client = Endpoint::client(
//!     Config::default(),
//!     ClientBuilder::new("ws://example.com/chat".parse()?),
//!     now,
//! )?;
//! let mut config = Config::default();
//! config.auto_accept = true; // accept every valid upgrade request
//! let mut server = Endpoint::server(config, now);
//!
//! // The client says hello before the connection is even open: it is queued.
//! client.send_text("hello")?;
//!
//! // Move bytes both ways until nothing more happens; echo what the server receives.
//! let mut wire = Vec::new();
//! let mut received = Vec::new();
//! loop {
//!     wire.clear();
//!     client.poll_transmit(&mut wire);
//!     server.receive(&wire, now);
//!     while let Some(event) = server.poll_event() {
//!         if let Event::Text(text) = event {
//!             server.send_text(text)?; // too short to compress: the same bytes
//!         }
//!     }
//!     wire.clear();
//!     server.poll_transmit(&mut wire);
//!     client.receive(&wire, now);
//!     while let Some(event) = client.poll_event() {
//!         received.push(event);
//!     }
//!     if client.transmit_len() == 0 && server.transmit_len() == 0 {
//!         break;
//!     }
//! }
//! assert!(matches!(&received[0], Event::Open(_)));
//! assert!(matches!(&received[1], Event::Text(text) if text == "hello"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The call order is documented on [`Endpoint`]; the design, the limits and their defaults,
//! the table of errors and close codes, and how extensions (permessage-deflate, on by
//! default) are wired are in
//! `docs/endpoint.md`.

#![forbid(unsafe_code)]

mod config;
mod endpoint;
mod error;
mod event;
mod extensions;
mod prepared;
mod transmit;
mod utf8;

pub use config::Config;
pub use endpoint::{Endpoint, ReadyState};
pub use error::{AcceptError, ClientUpgradeError, ConnectionError, SendError};
pub use event::{CloseInfo, Event, Initiator, MessageKind, Opened, Utf8Bytes};
pub use prepared::PreparedMessage;
pub use ws_frame::{CloseCode, Role};

/// How many events an I/O loop should hand out at most before it writes what is queued,
/// rather than waiting for the events to run out (step 3 of [`Endpoint`]'s call order).
///
/// A read that brings a pipelined burst then sends its first replies while the rest is
/// still being handled: the peer starts on them sooner and, on another core, works in
/// parallel. Measured with 64 pipelined 16-byte messages (both ends ws-tokio,
/// `docs/performance.md`): 16 gave 1.0-1.2 M messages per second against 0.55-0.64 M
/// writing once per burst, and half the median latency; 24 and 32 split less (1.05-1.1
/// M, 0.75-0.85 M), 8 paid more in system calls than it gained (0.76-0.84 M).
pub const WRITE_AFTER_EVENTS: u32 = 16;
