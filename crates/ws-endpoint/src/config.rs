//! Configuration: limits, timeouts, heartbeat and options, each with a default that is
//! safe on the internet.

use std::time::Duration;

/// How an [`Endpoint`](crate::Endpoint) behaves. Start from [`Config::default`] and change
/// fields:
///
/// ```
/// use std::time::Duration;
///
/// let mut config = ws_endpoint::Config::default();
/// config.ping_interval = Some(Duration::from_secs(20));
/// config.max_message_size = 1 << 20;
/// // No compression (permessage-deflate is on by default).
/// config.extensions = ws_extensions::Extensions::new();
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Limits on the opening handshake's HTTP head. Default: `ws_handshake::Limits::default()`.
    pub handshake_limits: ws_handshake::Limits,
    /// The largest frame payload accepted; a larger frame fails the connection with 1009
    /// from its header, before its payload is buffered. Default: 16 MiB.
    pub max_frame_payload: u64,
    /// The largest reassembled message; a larger one fails the connection with 1009 as
    /// soon as a header announces it. Not applied with `streaming_receive`. Default: 16 MiB.
    pub max_message_size: u64,
    /// The most fragments a message may come in (1009 past it). Not applied with
    /// `streaming_receive`. Default: 131072 (Autobahn 9.3.1 sends 65536).
    pub max_fragments: usize,
    /// The most bytes of data frames queued for sending (including messages queued before
    /// the connection opens); past it, send commands return
    /// [`SendError::BufferFull`](crate::SendError::BufferFull). Control frames (pongs,
    /// close) are never refused. A message is always accepted into an empty queue.
    /// Default: 4 MiB.
    pub max_queued_bytes: usize,
    /// The most events queued for the application; while it is reached the endpoint stops
    /// processing input and [`Endpoint::wants_read`](crate::Endpoint::wants_read) is false.
    /// Default: 1024.
    pub max_queued_events: usize,
    /// Deliver data messages fragment by fragment ([`Event::Fragment`](crate::Event::Fragment))
    /// instead of reassembled. Default: false.
    pub streaming_receive: bool,
    /// The time allowed for the opening handshake, from the endpoint's creation to open.
    /// `None` disables it (not advised for servers). Default: 10 s.
    pub handshake_timeout: Option<Duration>,
    /// The time the peer has to answer our close frame, and the time a client waits for
    /// the server to close the transport after the close handshake. Default: 10 s.
    pub close_timeout: Duration,
    /// Send a ping this long after the last heartbeat ping. `None` disables the heartbeat.
    /// Default: none.
    pub ping_interval: Option<Duration>,
    /// With a heartbeat, fail the connection (code 1011,
    /// [`ConnectionError::PongTimeout`](crate::ConnectionError::PongTimeout)) when no pong
    /// answers a heartbeat ping within this time. Default: 20 s.
    pub pong_timeout: Duration,
    /// Fail the connection (code 1001,
    /// [`ConnectionError::IdleTimeout`](crate::ConnectionError::IdleTimeout)) when nothing
    /// is received for this long once open. Default: none.
    pub idle_timeout: Option<Duration>,
    /// (Server) accept every valid upgrade request at once, choosing a subprotocol from
    /// `protocols`, instead of surfacing [`Event::UpgradeRequest`](crate::Event::UpgradeRequest)
    /// for the application to answer. Default: false.
    pub auto_accept: bool,
    /// (Server) the subprotocols supported, most preferred first, chosen from the client's
    /// offers by `auto_accept` and by [`Endpoint::accept`](crate::Endpoint::accept).
    /// Default: none.
    pub protocols: Vec<String>,
    /// The extensions supported, most preferred first: offered by a client, accepted by a
    /// server when the client offers them. Default: permessage-deflate (RFC 7692) with the
    /// defaults of [`PerMessageDeflate::new`](ws_extensions::PerMessageDeflate::new), so
    /// messages are compressed whenever both sides agree (browsers always offer it). Turn
    /// compression off with `ws_extensions::Extensions::new()`.
    pub extensions: ws_extensions::Extensions,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            handshake_limits: ws_handshake::Limits::default(),
            max_frame_payload: 16 << 20,
            max_message_size: 16 << 20,
            max_fragments: 1 << 17,
            max_queued_bytes: 4 << 20,
            max_queued_events: 1024,
            streaming_receive: false,
            handshake_timeout: Some(Duration::from_secs(10)),
            close_timeout: Duration::from_secs(10),
            ping_interval: None,
            pong_timeout: Duration::from_secs(20),
            idle_timeout: None,
            auto_accept: false,
            protocols: Vec::new(),
            extensions: ws_extensions::Extensions::new()
                .with(ws_extensions::PerMessageDeflate::new()),
        }
    }
}
