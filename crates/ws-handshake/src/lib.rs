//! The WebSocket opening handshake of RFC 6455 §4: the HTTP/1.1 upgrade, client and
//! server; the extended CONNECT of RFC 8441 (HTTP/2) and RFC 9220 (HTTP/3); and the way
//! through a proxy (HTTP `CONNECT`, SOCKS5, SOCKS4).
//!
//! This crate does no I/O: it turns values into bytes to send and parses bytes received,
//! so it fits any runtime. A client and a server, in memory:
//!
//! ```
//! use ws_handshake::{ClientBuilder, ClientOutcome, Incoming, Limits};
//!
//! // The client writes its request.
//! let client = ClientBuilder::new("ws://example.com/chat".parse()?)
//!     .protocol("chat")
//!     .protocol("superchat")
//!     .build()?;
//! let mut to_server = Vec::new();
//! client.encode(&mut to_server);
//!
//! // The server parses it; it could arrive in any number of pieces.
//! let (incoming, used) =
//!     Incoming::parse(&to_server, &Limits::default())?.expect("a whole request");
//! assert_eq!(used, to_server.len());
//! let Incoming::Upgrade(upgrade) = incoming else {
//!     panic!("a plain HTTP request");
//! };
//! assert_eq!(upgrade.request().uri(), "/chat");
//!
//! // It accepts, in its own order of preference, and sends a first frame at once.
//! let mut to_client = Vec::new();
//! upgrade
//!     .accept()
//!     .select_protocol(&["superchat", "chat"])
//!     .encode(&mut to_client)?;
//! to_client.extend_from_slice(b"\x81\x02hi");
//!
//! // The client checks the response; the frame after it is left for the frame decoder.
//! let (outcome, used) = client.parse_response(&to_client)?.expect("a whole response");
//! let ClientOutcome::Accepted(accepted) = outcome else {
//!     panic!("the server declined");
//! };
//! assert_eq!(accepted.protocol.as_deref(), Some("superchat"));
//! assert_eq!(&to_client[used..], b"\x81\x02hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The client side is [`ClientBuilder`], [`ClientHandshake`] and, through a proxy,
//! [`Tunnel`]; the server side is [`Incoming`], [`UpgradeRequest`] and [`Accept`]. Over
//! HTTP/2 or HTTP/3, whose library parses and sends the heads, the client builds an
//! [`ExtendedConnect`] and the server checks the request with
//! [`UpgradeRequest::from_extended_connect`].
//! Requests and responses are `http` crate types, so the handshake also works with a
//! request or response that hyper or axum already parsed. Parsers take the bytes received
//! so far and return `Ok(None)` until a whole head is there; anything the peer sends that
//! breaks a rule or a [`Limits`] value is a [`RequestError`] or [`ResponseError`], and a
//! caller's mistake is a [`UsageError`]. The [`grammar`] module parses
//! `Sec-WebSocket-Extensions` and `Sec-WebSocket-Protocol` for the layers above.
//!
//! For clients that connect on their own, the [`redirect`] module decides whether and
//! where to follow a redirect and which credentials go along; [`basic_authorization`]
//! and [`userinfo_authorization`] build `Basic` credentials (RFC 7617), as
//! [`ProxyConnect`] does for the proxy URI's userinfo; the [`proxy_env`] module picks the
//! proxy the environment names (`https_proxy`, `no_proxy`...) for a URL; a [`Tunnel`]
//! opens the way through it, one sans-IO exchange for every kind of proxy
//! ([`ProxyKind`]: HTTP `CONNECT` in the clear or inside TLS, SOCKS5, SOCKS4), so that one
//! I/O loop serves them all. [`ClientSettings`] keeps all of these choices for one client
//! (URL, subprotocols, headers, proxy, redirect limit) for an adapter to build on.

#![forbid(unsafe_code)]

mod auth;
mod client;
mod error;
pub mod grammar;
mod key;
mod proxy;
pub mod proxy_env;
pub mod redirect;
mod server;
mod settings;
pub mod socks;
mod tunnel;
mod wire;

pub use auth::{basic_authorization, userinfo_authorization};
pub use client::{Accepted, ClientBuilder, ClientHandshake, ClientOutcome, ExtendedConnect};
pub use error::{RequestError, ResponseError, UsageError};
pub use key::accept_key;
pub use proxy::{ProxyConnect, ProxyKind, ProxyOutcome};
pub use server::{Accept, Incoming, UpgradeRequest};
pub use settings::{ClientSettings, host_port};
pub use tunnel::{Tunnel, TunnelError, TunnelStep};
pub use wire::{Limits, encode_response};
