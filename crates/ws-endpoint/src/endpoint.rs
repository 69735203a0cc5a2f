//! The connection state machine.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::mem;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_PROTOCOL};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use ws_extensions::MessageError;
use ws_frame::{
    CloseCode, DecodeError, Decoder, Encoder, Frame, FrameHeader, OpCode, Role, apply_mask_at,
};
use ws_handshake::{
    Accept, ClientBuilder, ClientHandshake, ClientOutcome, ExtendedConnect, Incoming,
    UpgradeRequest, UsageError,
};

use crate::event::{CloseInfo, Event, Initiator, MessageKind, Opened, Utf8Bytes};
use crate::extensions::{self, Extensions};
use crate::transmit::TransmitQueue;
use crate::utf8::Utf8Validator;
use crate::{AcceptError, ClientUpgradeError, Config, ConnectionError, PreparedMessage, SendError};

/// The opcode that starts a data message of `kind`.
fn data_opcode(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::TEXT,
        MessageKind::Binary => OpCode::BINARY,
    }
}

/// The most sent pings remembered for matching pongs to them.
const MAX_TRACKED_PINGS: usize = 16;

/// The longest close reason: a control payload is at most 125 bytes, 2 of them the code.
const MAX_CLOSE_REASON: usize = 123;

/// The WebSocket ready state (as in the browser API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyState {
    /// The opening handshake is in progress.
    Connecting,
    /// The handshake completed; messages flow.
    Open,
    /// This endpoint sent a close frame and waits for the peer's.
    Closing,
    /// The close handshake completed, or the connection failed.
    Closed,
}

/// Where the opening handshake stands.
#[derive(Debug)]
enum Handshake {
    /// (Client) the request is queued; waiting for the response.
    Client(Box<ClientHandshake>),
    /// (Server) waiting for a whole request.
    Server,
    /// (Server) a valid upgrade request waits for the application's answer.
    AwaitingDecision(Box<UpgradeRequest>),
    /// (Server) a plain HTTP request waits for the application's answer.
    AwaitingPlainAnswer,
    /// Done (open, or given up).
    Done,
}

/// The timers, as deadlines.
#[derive(Clone, Copy, Debug)]
enum Timer {
    Handshake = 0,
    /// Waiting for the peer's close frame, or (in `Closed`) for the transport to close.
    Close = 1,
    Keepalive = 2,
    PongDeadline = 3,
    Idle = 4,
}

const TIMERS: [Timer; 5] = [
    Timer::Handshake,
    Timer::Close,
    Timer::Keepalive,
    Timer::PongDeadline,
    Timer::Idle,
];

/// The timers' deadlines, one slot per [`Timer`].
#[derive(Clone, Copy, Debug, Default)]
struct Timers([Option<Instant>; 5]);

impl Timers {
    fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer as usize]
    }

    fn set(&mut self, timer: Timer, deadline: Option<Instant>) {
        self.0[timer as usize] = deadline;
    }

    fn clear(&mut self) {
        *self = Timers::default();
    }

    #[inline]
    fn earliest(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
}

/// When the transport should be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    /// Keep it open.
    Open,
    /// Close it once everything queued is written.
    CloseWhenFlushed,
    /// Close it now, whatever is still queued.
    CloseNow,
}

/// A data message being received.
#[derive(Debug)]
struct IncomingMessage {
    kind: MessageKind,
    /// The RSV bits of its first frame: whether extensions transform it.
    rsv: ws_frame::RsvBits,
    /// Bytes received so far (decoded by the extensions).
    len: u64,
    fragments: usize,
    /// The first fragment, kept as is (zero-copy for one-frame messages).
    first: Option<Bytes>,
    /// The reassembled payload, once a second fragment arrived.
    joined: BytesMut,
}

/// A frame waiting for the connection to open.
#[derive(Debug)]
struct QueuedFrame {
    opcode: OpCode,
    payload: Bytes,
    first: bool,
    last: bool,
    /// Compress the message if an extension was negotiated (read on its first frame).
    compress: bool,
}

/// Input held back until the data messages received before it are polled, so that the
/// application's answers to them (an echo) leave before the close frame.
#[derive(Debug)]
enum Deferred {
    /// A fault in the input (Autobahn 3.*, 4.*, 5.15).
    Failure(ConnectionError),
    /// The peer's close frame, with its payload (Autobahn 7.1.6).
    Close(Bytes),
}

/// A ping this endpoint sent, for matching pongs to it.
#[derive(Debug)]
struct SentPing {
    payload: Bytes,
    at: Instant,
    heartbeat: bool,
}

/// One WebSocket connection, client or server, as a state machine with no I/O and no
/// clock: bytes and time go in, events and bytes to send come out.
///
/// # Call order
///
/// Create it with [`Endpoint::client`] or [`Endpoint::server`]. Then, in the adapter's
/// loop:
///
/// 1. **Input.** When [`wants_read`](Endpoint::wants_read) is true, read from the transport
///    into [`receive_buffer`](Endpoint::receive_buffer) (or pass a slice to
///    [`receive`](Endpoint::receive)), then call
///    [`handle_received(now)`](Endpoint::handle_received). Call
///    [`handle_eof(now)`](Endpoint::handle_eof) when the transport reports end of stream,
///    and [`handle_timeout(now)`](Endpoint::handle_timeout) when the deadline from
///    `poll_timeout` has passed. Every frame already received is processed in one call, so
///    all the replies it causes are queued together (corking).
/// 2. **Events.** Drain [`poll_event`](Endpoint::poll_event) and act on them; this is where
///    the application calls commands ([`send_text`](Endpoint::send_text),
///    [`close`](Endpoint::close), [`accept`](Endpoint::accept), ...).
/// 3. **Output.** Write [`transmit_chunks`](Endpoint::transmit_chunks) (or
///    [`transmit_io_slices`](Endpoint::transmit_io_slices)) to the transport, vectored,
///    and report what was written with [`advance_transmit`](Endpoint::advance_transmit).
///    Do it when the events run out, and while handing out a long run of them, at least
///    every [`WRITE_AFTER_EVENTS`](crate::WRITE_AFTER_EVENTS).
///    When everything is written and
///    [`should_close_transport`](Endpoint::should_close_transport) is true, close the
///    transport and drop the endpoint.
/// 4. **Timer.** Arm one timer for [`poll_timeout`](Endpoint::poll_timeout).
///
/// After any input, command or timeout, repeat steps 2 to 4: pongs, close echoes and
/// heartbeat pings are queued by the endpoint itself.
pub struct Endpoint {
    role: Role,
    config: Config,
    state: ReadyState,
    handshake: Handshake,
    protocol: Option<String>,
    rx: BytesMut,
    decoder: Decoder,
    encoder: Encoder,
    tx: TransmitQueue,
    events: VecDeque<Event>,
    extensions: Extensions,

    // Receiving.
    incoming: Option<IncomingMessage>,
    /// UTF-8 state of the text message being received.
    validator: Utf8Validator,
    /// Payload bytes of the incomplete frame at the front of `rx` already UTF-8-checked.
    frame_validated: usize,
    /// Scratch space for unmasking a copy of a partial frame.
    scratch: Vec<u8>,
    /// No more input is processed (a close frame arrived, or the connection failed).
    read_closed: bool,
    eof: bool,
    /// Input processing stopped because `max_queued_events` was reached.
    paused: bool,
    /// A fault or close frame found in the input while data messages before it still
    /// wait to be polled: it takes effect once they are. No input is read meanwhile.
    deferred: Option<Deferred>,
    /// The receive buffer's length after the last processing: more means new bytes.
    rx_processed: usize,
    last_now: Instant,

    // Sending.
    pre_open: VecDeque<QueuedFrame>,
    pre_open_len: usize,
    /// The kind and UTF-8 state of a streamed message being sent.
    streaming_send: Option<(MessageKind, Utf8Validator)>,
    pending_pong: Option<Bytes>,
    pings: VecDeque<SentPing>,
    ping_counter: u64,
    close_sent: bool,
    initiator: Option<Initiator>,
    transport: Transport,
    timers: Timers,
}

/// A client's frame encoder, masking with keys from an OS-seeded CSPRNG (RFC 6455 §5.3).
fn client_encoder() -> Encoder {
    let mut rng = StdRng::from_os_rng();
    // One word from the generator's buffered block: `fill_bytes` for four bytes took the
    // general path and cost ~100 instructions per frame.
    Encoder::client(move || rng.next_u32().to_le_bytes())
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("received", &self.rx.len())
            .field("to_send", &self.tx.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// A client endpoint. Its upgrade request is queued for sending at once; `builder`
    /// carries the URI, subprotocol offers and headers. `now` starts the handshake timeout.
    pub fn client(
        config: Config,
        builder: ClientBuilder,
        now: Instant,
    ) -> Result<Endpoint, UsageError> {
        let builder = extensions::client_offer(builder.limits(config.handshake_limits), &config);
        let handshake = builder.build()?;
        let mut endpoint = Endpoint::new(Role::Client, client_encoder(), config, now);
        let mut request = Vec::new();
        handshake.encode(&mut request);
        endpoint.tx.extend(&request);
        endpoint.handshake = Handshake::Client(Box::new(handshake));
        Ok(endpoint)
    }

    /// A server endpoint, waiting for the client's request. `now` starts the handshake
    /// timeout.
    pub fn server(config: Config, now: Instant) -> Endpoint {
        Endpoint::new(Role::Server, Encoder::server(), config, now)
    }

    /// A server endpoint for an upgrade request that another HTTP server (hyper, axum)
    /// parsed and answers itself. Negotiates like [`accept_with`](Endpoint::accept_with)
    /// (`f` may choose the subprotocol and add headers) and returns the endpoint already
    /// open, with the 101 response for the application to send; the connection's bytes
    /// after that response are frames. [`Event::Open`] is the first event, as usual.
    pub fn server_upgraded(
        config: Config,
        request: UpgradeRequest,
        f: impl for<'r> FnOnce(Accept<'r>) -> Accept<'r>,
        now: Instant,
    ) -> Result<(Endpoint, http::Response<()>), AcceptError> {
        let mut endpoint = Endpoint::server(config, now);
        let (response, extensions) = endpoint.answer_upgrade(&request, f)?;
        // `answer_upgrade` queued the response's bytes; here the application sends it.
        endpoint.tx.advance(endpoint.tx.len());
        let request = request.into_request();
        endpoint.open(now, extensions, Some(request), None, response.clone());
        Ok((endpoint, response))
    }

    /// (Client) the request for a WebSocket on one stream of an HTTP/2 connection (RFC
    /// 8441) or HTTP/3 connection (RFC 9220), which another HTTP client (hyper, h2, h3)
    /// carries: an extended CONNECT with the builder's offers and those of `config`'s
    /// extensions. Send its [`request`](ExtendedConnect::request) with the `:protocol`
    /// pseudo-header `websocket`, then open the endpoint with the answer:
    /// [`client_upgraded`](Endpoint::client_upgraded).
    pub fn extended_connect(
        config: &Config,
        builder: ClientBuilder,
    ) -> Result<ExtendedConnect, UsageError> {
        extensions::client_offer(builder.limits(config.handshake_limits), config)
            .build_extended_connect()
    }

    /// (Client) the endpoint for an [`extended_connect`](Endpoint::extended_connect)
    /// request that the server answered with `response`, open when it accepted (2xx): the
    /// stream's bytes are frames from here on. [`Event::Open`] is the first event, as
    /// usual, with the response. Takes the place of [`client`](Endpoint::client), whose
    /// handshake runs over HTTP/1.1 on the endpoint's own bytes.
    ///
    /// # Errors
    /// [`ClientUpgradeError::Rejected`] for any other status;
    /// [`ClientUpgradeError::Failed`] when the answer breaks RFC 6455/8441 or chooses
    /// what was not offered ([`ConnectionError::BadResponse`]) or extension parameters
    /// that cannot be honoured ([`ConnectionError::Negotiation`]).
    pub fn client_upgraded(
        config: Config,
        connect: &ExtendedConnect,
        response: http::Response<()>,
        now: Instant,
    ) -> Result<Endpoint, ClientUpgradeError> {
        let accepted = match connect
            .check_response(response)
            .map_err(ConnectionError::BadResponse)?
        {
            ClientOutcome::Accepted(accepted) => accepted,
            ClientOutcome::Rejected(response) => {
                return Err(ClientUpgradeError::Rejected(Box::new(response.map(drop))));
            }
        };
        let extensions = extensions::client_accepted(&accepted.extensions, &config)?;
        let mut endpoint = Endpoint::new(Role::Client, client_encoder(), config, now);
        let response = accepted.response;
        endpoint.open(now, extensions, None, Some(response.clone()), response);
        Ok(endpoint)
    }

    fn new(role: Role, encoder: Encoder, config: Config, now: Instant) -> Endpoint {
        let max_payload = if config.streaming_receive {
            config.max_frame_payload
        } else {
            config.max_frame_payload.min(config.max_message_size)
        };
        let mut timers = Timers::default();
        timers.set(Timer::Handshake, config.handshake_timeout.map(|t| now + t));
        Endpoint {
            role,
            state: ReadyState::Connecting,
            handshake: Handshake::Server,
            protocol: None,
            rx: BytesMut::new(),
            decoder: Decoder::new(role).with_max_payload_len(max_payload),
            encoder,
            tx: TransmitQueue::default(),
            events: VecDeque::new(),
            extensions: Extensions::default(),
            incoming: None,
            validator: Utf8Validator::new(),
            frame_validated: 0,
            scratch: Vec::new(),
            read_closed: false,
            eof: false,
            paused: false,
            deferred: None,
            rx_processed: 0,
            last_now: now,
            pre_open: VecDeque::new(),
            pre_open_len: 0,
            streaming_send: None,
            pending_pong: None,
            pings: VecDeque::new(),
            ping_counter: 0,
            close_sent: false,
            initiator: None,
            transport: Transport::Open,
            timers,
            config,
        }
    }

    // ---- Getters ----

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Connecting, open, closing or closed.
    pub fn ready_state(&self) -> ReadyState {
        self.state
    }

    /// The subprotocol agreed on, once open.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// (Server) the upgrade request waiting for [`accept`](Endpoint::accept) or
    /// [`reject`](Endpoint::reject), if any.
    pub fn pending_request(&self) -> Option<&UpgradeRequest> {
        match &self.handshake {
            Handshake::AwaitingDecision(request) => Some(request),
            _ => None,
        }
    }

    // ---- Input ----

    /// Whether the adapter should read from the transport now. False after end of stream,
    /// once the transport should be closed, while a server waits for the application's
    /// answer to the request, and while `Config::max_queued_events` events wait to be
    /// polled. The receive buffer thus holds at most one incomplete frame or request head,
    /// both bounded by the configured limits.
    pub fn wants_read(&self) -> bool {
        !self.eof
            && self.transport == Transport::Open
            && !self.paused
            && self.deferred.is_none()
            && matches!(
                self.handshake,
                Handshake::Client(_) | Handshake::Server | Handshake::Done
            )
    }

    /// The buffer to read received bytes into (appending); call
    /// [`handle_received`](Endpoint::handle_received) after.
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        &mut self.rx
    }

    /// How many more bytes complete the frame at the front of the receive buffer, once
    /// its header is there (0 otherwise): an adapter can make room for that much and read
    /// it at once, instead of growing its reads step by step.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use ws_endpoint::{Config, Endpoint};
    /// # let now = Instant::now();
    /// # let mut server = Endpoint::server(Config::default(), now);
    /// # let request = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\
    /// #     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    /// #     Sec-WebSocket-Version: 13\r\n\r\n";
    /// # server.receive(request.as_bytes(), now);
    /// # server.accept(now).unwrap();
    /// // The first 100 bytes of a masked 1,000-byte binary frame (4-byte header, 4-byte key).
    /// let mut frame = vec![0x82, 0xfe, 0x03, 0xe8, 1, 2, 3, 4];
    /// frame.resize(100, 0);
    /// server.receive(&frame, now);
    /// assert_eq!(server.frame_bytes_missing(), 8 + 1000 - 100);
    /// ```
    pub fn frame_bytes_missing(&self) -> usize {
        if !matches!(self.handshake, Handshake::Done) || self.rx.is_empty() {
            return 0;
        }
        match self.decoder.peek_header(&self.rx) {
            Ok(Some((header, header_len))) => usize::try_from(header.payload_len)
                .ok()
                .and_then(|payload| payload.checked_add(header_len))
                .map_or(0, |total| total.saturating_sub(self.rx.len())),
            _ => 0,
        }
    }

    /// Processes the bytes appended to [`receive_buffer`](Endpoint::receive_buffer).
    pub fn handle_received(&mut self, now: Instant) {
        if self.state == ReadyState::Open
            && self.rx.len() > self.rx_processed
            && let Some(idle) = self.config.idle_timeout
        {
            self.timers.set(Timer::Idle, Some(now + idle));
        }
        self.process(now);
    }

    /// Gives back the capacity of buffers and queues that hold nothing: call it when the
    /// connection goes idle (a read found nothing to read), so that an idle connection
    /// keeps only its fixed state. Buffers grow again on demand; a busy connection that
    /// never calls this reuses them instead.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use ws_endpoint::{Config, Endpoint};
    /// let mut endpoint = Endpoint::server(Config::default(), Instant::now());
    /// endpoint.receive_buffer().reserve(64 * 1024);
    /// endpoint.shrink_buffers();
    /// assert_eq!(endpoint.buffer_capacity(), 0);
    /// ```
    pub fn shrink_buffers(&mut self) {
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
        self.tx.shrink();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        if self.pre_open.is_empty() {
            self.pre_open = VecDeque::new();
        }
        if self.pings.is_empty() {
            self.pings = VecDeque::new();
        }
        self.scratch = Vec::new();
        if let Some(message) = &mut self.incoming
            && message.joined.is_empty()
        {
            message.joined = BytesMut::new();
        }
    }

    /// The bytes of buffer capacity this endpoint holds (receive buffer, send queue,
    /// partial message), data included: what [`shrink_buffers`](Endpoint::shrink_buffers)
    /// can give back once the data is gone. Payloads already handed out are not counted.
    pub fn buffer_capacity(&self) -> usize {
        let joined = self.incoming.as_ref().map_or(0, |m| m.joined.capacity());
        self.rx.capacity() + self.tx.capacity() + self.scratch.capacity() + joined
    }

    /// Appends `data` to the receive buffer and processes it.
    pub fn receive(&mut self, data: &[u8], now: Instant) {
        self.rx.extend_from_slice(data);
        self.handle_received(now);
    }

    /// The transport reported end of stream: the peer sends nothing more.
    pub fn handle_eof(&mut self, now: Instant) {
        if self.eof {
            return;
        }
        self.process(now);
        self.eof = true;
        self.end_of_input(now);
    }

    /// What end of stream means, once no input is held back.
    fn end_of_input(&mut self, now: Instant) {
        if self.deferred.is_some() {
            // Decided when the held-back close or fault is acted on.
            return;
        }
        if self.state == ReadyState::Closed {
            // A client waiting for the server to close the transport after the close
            // handshake: it has.
            if self.transport == Transport::Open {
                self.transport = Transport::CloseWhenFlushed;
            }
        } else {
            self.fail_as(ConnectionError::UnexpectedEof, Initiator::Remote, now);
        }
    }

    /// Handles every timer whose deadline is at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = now;
        for timer in TIMERS {
            if self.timers.get(timer).is_none_or(|t| t > now) {
                continue;
            }
            self.timers.set(timer, None);
            match timer {
                Timer::Handshake => {
                    if self.state == ReadyState::Connecting {
                        self.fail(ConnectionError::HandshakeTimeout, now);
                    }
                }
                Timer::Close => match self.state {
                    ReadyState::Closing => self.fail(ConnectionError::CloseTimeout, now),
                    ReadyState::Closed => self.transport = Transport::CloseNow,
                    _ => {}
                },
                Timer::Keepalive => self.heartbeat(now),
                Timer::PongDeadline => {
                    if self.state == ReadyState::Open {
                        self.fail(ConnectionError::PongTimeout, now);
                    }
                }
                Timer::Idle => {
                    if self.state == ReadyState::Open {
                        self.fail(ConnectionError::IdleTimeout, now);
                    }
                }
            }
        }
        self.flush_pong();
    }

    // ---- Output ----

    /// The next event, if any.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        // Asked twice per message by an I/O loop: inlined, with the rare resumptions of
        // held-back input out of line.
        if self.deferred.is_some() || self.paused {
            return self.poll_event_resuming();
        }
        self.events.pop_front()
    }

    /// `poll_event` when input waits: deferred by a command, or paused by a full event
    /// queue.
    #[inline(never)]
    fn poll_event_resuming(&mut self) -> Option<Event> {
        if self.events.is_empty()
            && let Some(deferred) = self.deferred.take()
        {
            self.resume(deferred);
        }
        let event = self.events.pop_front();
        if self.paused && self.events.len() < self.config.max_queued_events {
            // Resume the input that was left waiting.
            self.process(self.last_now);
        }
        event
    }

    /// The bytes to write to the transport, in order, as slices for a vectored write.
    pub fn transmit_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.tx.chunks()
    }

    /// Fills `slices` with the first chunks to write; returns how many it filled.
    pub fn transmit_io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        self.tx.io_slices(slices)
    }

    /// Calls `write` with the first chunks to write (at most 64) as slices for one
    /// vectored write, and returns what it returns; then call
    /// [`advance_transmit`](Endpoint::advance_transmit) with what was written.
    ///
    /// Only as many slices are set up as there are chunks, so a write of one or two
    /// chunks (the usual case) does not pay for clearing 64.
    ///
    /// ```
    /// use std::time::Instant;
    /// use ws_endpoint::{Config, Endpoint};
    /// use ws_handshake::ClientBuilder;
    ///
    /// let builder = ClientBuilder::new("ws://example.com/chat".parse()?);
    /// let mut client = Endpoint::client(Config::default(), builder, Instant::now())?;
    /// let mut wire = Vec::new();
    /// while client.transmit_len() > 0 {
    ///     let written = client.with_transmit_slices(|slices| {
    ///         std::io::Write::write_vectored(&mut wire, slices)
    ///     })?;
    ///     client.advance_transmit(written);
    /// }
    /// assert!(wire.starts_with(b"GET /chat HTTP/1.1\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_transmit_slices<R>(&self, write: impl FnOnce(&[IoSlice<'_>]) -> R) -> R {
        self.tx.with_io_slices(write)
    }

    /// The number of bytes waiting to be written.
    pub fn transmit_len(&self) -> usize {
        self.tx.len()
    }

    /// Records that the first `n` bytes of [`transmit_chunks`](Endpoint::transmit_chunks)
    /// were written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.tx.advance(n);
        self.flush_pong();
    }

    /// Appends every byte waiting to be written to `buf` and takes them from the queue
    /// (a copy: for tests and simple adapters); returns how many.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.tx.len();
        buf.reserve(n);
        for chunk in self.tx.chunks() {
            buf.extend_from_slice(chunk);
        }
        self.advance_transmit(n);
        n
    }

    /// The next deadline the endpoint cares about: call
    /// [`handle_timeout`](Endpoint::handle_timeout) once it has passed.
    #[inline] // Asked on every pass of an adapter's loop.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.transport == Transport::CloseNow {
            return None;
        }
        self.timers.earliest()
    }

    /// Whether the adapter should close the transport now (after writing what
    /// [`transmit_len`](Endpoint::transmit_len) says is left, unless a timeout expired).
    ///
    /// A server closes the transport as soon as the close handshake is done; a client
    /// waits for the server to close it ([`handle_eof`](Endpoint::handle_eof)) for up to
    /// `Config::close_timeout`. After a failure either side closes.
    pub fn should_close_transport(&self) -> bool {
        match self.transport {
            Transport::Open => false,
            Transport::CloseWhenFlushed => self.tx.is_empty(),
            Transport::CloseNow => true,
        }
    }

    // ---- Commands: handshake ----

    /// (Server) accepts the pending upgrade request, choosing the subprotocol from
    /// `Config::protocols`.
    pub fn accept(&mut self, now: Instant) -> Result<(), AcceptError> {
        self.accept_with(now, |accept| accept)
    }

    /// (Server) accepts the pending upgrade request, letting `f` adjust the 101 response
    /// (another subprotocol choice with `select_protocol`, extra headers with `header`).
    pub fn accept_with(
        &mut self,
        now: Instant,
        f: impl for<'r> FnOnce(Accept<'r>) -> Accept<'r>,
    ) -> Result<(), AcceptError> {
        let request = match mem::replace(&mut self.handshake, Handshake::Done) {
            Handshake::AwaitingDecision(request) => request,
            other => {
                self.handshake = other;
                return Err(AcceptError::NoPendingRequest);
            }
        };
        match self.answer_upgrade(&request, f) {
            Ok((response, extensions)) => {
                let request = (*request).into_request();
                self.open(now, extensions, Some(request), None, response);
                self.process(now);
                Ok(())
            }
            Err(error) => {
                self.handshake = Handshake::AwaitingDecision(request);
                Err(error.into())
            }
        }
    }

    /// Builds and queues the 101 response; returns it and the negotiated extensions.
    fn answer_upgrade(
        &mut self,
        request: &UpgradeRequest,
        f: impl for<'r> FnOnce(Accept<'r>) -> Accept<'r>,
    ) -> Result<(http::Response<()>, Extensions), UsageError> {
        let protocols: Vec<&str> = self.config.protocols.iter().map(String::as_str).collect();
        let accept = f(request.accept().select_protocol(&protocols));
        let (accept, extensions) = extensions::server_accept(request, accept, &self.config);
        let response = accept.into_response()?;
        let mut bytes = Vec::new();
        ws_handshake::encode_response(&response.clone().map(|()| []), &mut bytes);
        self.tx.extend(&bytes);
        Ok((response, extensions))
    }

    /// (Server) answers the pending request (upgrade or plain HTTP) with `response`, e.g. a
    /// 403 or a page, and closes the connection.
    pub fn reject<B: AsRef<[u8]>>(
        &mut self,
        response: &http::Response<B>,
        now: Instant,
    ) -> Result<(), AcceptError> {
        if !matches!(
            self.handshake,
            Handshake::AwaitingDecision(_) | Handshake::AwaitingPlainAnswer
        ) {
            return Err(AcceptError::NoPendingRequest);
        }
        let mut bytes = Vec::new();
        ws_handshake::encode_response(response, &mut bytes);
        self.tx.extend(&bytes);
        self.end_handshake(None, Initiator::Local, now);
        Ok(())
    }

    // ---- Commands: messages ----

    /// Sends a text message. Before the connection opens, it is queued (and compressed,
    /// if negotiated, once it opens).
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), SendError> {
        self.send_message(OpCode::TEXT, text.into().into(), true)
    }

    /// Sends a binary message. Before the connection opens, it is queued. Compressed when
    /// permessage-deflate was negotiated and the message is at least its minimum size;
    /// otherwise a server sends the payload without copying it.
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_message(OpCode::BINARY, data.into(), true)
    }

    /// Sends a binary message never compressed, even when permessage-deflate was
    /// negotiated: for data that is already compressed (images, archives), where deflate
    /// would only cost CPU. Otherwise as [`send_binary`](Endpoint::send_binary); a server
    /// sends the payload without copying it.
    pub fn send_binary_uncompressed(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_message(OpCode::BINARY, data.into(), false)
    }

    /// Sends a message prepared for many connections: encoded (compressed) once per kind
    /// of connection, see [`PreparedMessage`]. Otherwise as
    /// [`send_text`](Endpoint::send_text) and [`send_binary`](Endpoint::send_binary):
    /// before the connection opens, it is queued and encoded for this connection alone.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        let opcode = data_opcode(message.kind());
        let payload = message.payload().clone();
        if self.streaming_send.is_some() || self.state == ReadyState::Connecting {
            return self.send_message(opcode, payload, message.compress());
        }
        self.check_can_send(payload.len())?;
        let queued = self
            .extensions
            .encode_prepared(message)
            .map(|(rsv, payload)| {
                let header = FrameHeader {
                    rsv,
                    ..FrameHeader::new(opcode, payload.len() as u64)
                };
                self.push_frame(header, payload);
            });
        self.fail_unless_queued(queued)
    }

    fn send_message(
        &mut self,
        opcode: OpCode,
        payload: Bytes,
        compress: bool,
    ) -> Result<(), SendError> {
        if self.streaming_send.is_some() {
            self.check_can_send(payload.len())?;
            return Err(SendError::MessageInProgress);
        }
        self.send_data(opcode, payload, true, true, compress)
    }

    /// Sends one fragment of a streamed message: the first call starts a message of `kind`,
    /// later calls continue it, and `last` ends it. Text fragments may split a character;
    /// together they must be valid UTF-8. With permessage-deflate negotiated the message is
    /// compressed as a stream; a fragment the compressor holds back goes out as an empty
    /// frame, so each call still sends one frame.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        last: bool,
    ) -> Result<(), SendError> {
        let data = data.into();
        self.check_can_send(data.len())?;
        let (first, mut validator) = match self.streaming_send {
            None => (true, Utf8Validator::new()),
            Some((k, _)) if k != kind => return Err(SendError::KindMismatch),
            Some((_, v)) => (false, v),
        };
        if kind == MessageKind::Text {
            validator.feed(&data).map_err(|_| SendError::InvalidUtf8)?;
            if last && !validator.is_complete() {
                return Err(SendError::InvalidUtf8);
            }
        }
        self.send_data(data_opcode(kind), data, first, last, true)?;
        self.streaming_send = (!last).then_some((kind, validator));
        Ok(())
    }

    /// Refuses a data send that cannot be made now.
    fn check_can_send(&self, len: usize) -> Result<(), SendError> {
        if self.close_sent || self.state == ReadyState::Closed {
            return Err(SendError::Closed);
        }
        let queued = self.tx.len() + self.pre_open_len;
        if queued > 0 && queued.saturating_add(len) > self.config.max_queued_bytes {
            return Err(SendError::BufferFull);
        }
        Ok(())
    }

    fn send_data(
        &mut self,
        opcode: OpCode,
        payload: Bytes,
        first: bool,
        last: bool,
        compress: bool,
    ) -> Result<(), SendError> {
        self.check_can_send(payload.len())?;
        if self.state == ReadyState::Connecting {
            // Encoded when the connection opens: only then is the negotiation known.
            self.pre_open_len += payload.len();
            self.pre_open.push_back(QueuedFrame {
                opcode,
                payload,
                first,
                last,
                compress,
            });
        } else {
            let queued = self.encode_data(opcode, payload, first, last, compress);
            self.fail_unless_queued(queued)?;
        }
        Ok(())
    }

    /// A message our own encoder failed on (never the peer's doing) fails the connection.
    fn fail_unless_queued(&mut self, queued: Result<(), MessageError>) -> Result<(), SendError> {
        queued.map_err(|error| {
            self.fail(error.into(), self.last_now);
            SendError::Closed
        })
    }

    /// Sends a ping. A non-empty payload lets the matching pong report the round-trip time.
    pub fn send_ping(&mut self, payload: impl Into<Bytes>, now: Instant) -> Result<(), SendError> {
        let payload = payload.into();
        self.check_control(&payload)?;
        if !payload.is_empty() {
            self.track_ping(payload.clone(), now, false);
        }
        self.send_control(OpCode::PING, payload);
        Ok(())
    }

    /// Sends an unsolicited pong (pings are answered automatically).
    pub fn send_pong(&mut self, payload: impl Into<Bytes>) -> Result<(), SendError> {
        let payload = payload.into();
        self.check_control(&payload)?;
        self.send_control(OpCode::PONG, payload);
        Ok(())
    }

    fn check_control(&self, payload: &Bytes) -> Result<(), SendError> {
        if self.close_sent || self.state == ReadyState::Closed {
            return Err(SendError::Closed);
        }
        if payload.len() > 125 {
            return Err(SendError::ControlTooLong);
        }
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: Bytes) {
        if self.state == ReadyState::Connecting {
            self.pre_open.push_back(QueuedFrame {
                opcode,
                payload,
                first: true,
                last: true,
                compress: false,
            });
        } else {
            self.push_frame(FrameHeader::new(opcode, payload.len() as u64), payload);
        }
    }

    /// Starts the close handshake with `code` and `reason` (at most 123 bytes). Before the
    /// connection opens, it gives up the handshake instead and closes the transport.
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Instant) -> Result<(), SendError> {
        if self.close_sent || self.state == ReadyState::Closed {
            return Err(SendError::Closed);
        }
        if !code.is_valid_on_wire() {
            return Err(SendError::InvalidCloseCode(code));
        }
        if reason.len() > MAX_CLOSE_REASON {
            return Err(SendError::ReasonTooLong);
        }
        if self.state == ReadyState::Connecting {
            self.handshake = Handshake::Done;
            self.pre_open.clear();
            self.pre_open_len = 0;
            self.abort(None, Initiator::Local, Transport::CloseNow, now);
            return Ok(());
        }
        self.send_close(Some(code), reason);
        self.state = ReadyState::Closing;
        self.initiator = Some(Initiator::Local);
        self.timers
            .set(Timer::Close, Some(now + self.config.close_timeout));
        for timer in [Timer::Keepalive, Timer::PongDeadline, Timer::Idle] {
            self.timers.set(timer, None);
        }
        Ok(())
    }

    // ---- Internals: encoding ----

    fn send_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let mut payload = BytesMut::new();
        if let Some(code) = code {
            payload.extend_from_slice(&code.as_u16().to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
        }
        let payload = payload.freeze();
        self.push_frame(
            FrameHeader::new(OpCode::CLOSE, payload.len() as u64),
            payload,
        );
        self.close_sent = true;
        self.pending_pong = None;
    }

    /// Queues one data frame, through the negotiated extensions. Fails only if our own
    /// compressor fails.
    fn encode_data(
        &mut self,
        opcode: OpCode,
        payload: Bytes,
        first: bool,
        last: bool,
        compress: bool,
    ) -> Result<(), MessageError> {
        let (rsv, payload) = self
            .extensions
            .encode_fragment(payload, first, last, compress)?;
        let header = FrameHeader {
            fin: last,
            rsv,
            opcode: if first { opcode } else { OpCode::CONTINUATION },
            mask: None,
            payload_len: payload.len() as u64,
        };
        self.push_frame(header, payload);
        Ok(())
    }

    fn push_frame(&mut self, header: FrameHeader, payload: Bytes) {
        match self.role {
            Role::Server => {
                let encoded = self.encoder.encode_header(header);
                self.tx.extend(encoded.as_bytes());
                self.tx.push_chunk(payload);
            }
            Role::Client => {
                let before = self.tx.tail_mut().len();
                self.encoder.encode(header, &payload, self.tx.tail_mut());
                let written = self.tx.tail_mut().len() - before;
                self.tx.grew(written);
            }
        }
    }

    /// Queues the pong for the latest ping, unless the output is backed up (then it waits,
    /// and a later ping replaces it).
    fn flush_pong(&mut self) {
        if self.pending_pong.is_some()
            && !self.close_sent
            && self.state == ReadyState::Open
            && self.tx.len() < self.config.max_queued_bytes
        {
            let payload = self.pending_pong.take().unwrap_or_default();
            self.push_frame(
                FrameHeader::new(OpCode::PONG, payload.len() as u64),
                payload,
            );
        }
    }

    fn track_ping(&mut self, payload: Bytes, now: Instant, heartbeat: bool) {
        if self.pings.len() == MAX_TRACKED_PINGS {
            self.pings.pop_front();
        }
        self.pings.push_back(SentPing {
            payload,
            at: now,
            heartbeat,
        });
    }

    fn heartbeat(&mut self, now: Instant) {
        if self.state != ReadyState::Open || self.close_sent {
            return;
        }
        let Some(interval) = self.config.ping_interval else {
            return;
        };
        self.ping_counter += 1;
        let payload = Bytes::copy_from_slice(&self.ping_counter.to_be_bytes());
        self.track_ping(payload.clone(), now, true);
        self.push_frame(
            FrameHeader::new(OpCode::PING, payload.len() as u64),
            payload,
        );
        if self.timers.get(Timer::PongDeadline).is_none() {
            self.timers
                .set(Timer::PongDeadline, Some(now + self.config.pong_timeout));
        }
        self.timers.set(Timer::Keepalive, Some(now + interval));
    }

    // ---- Internals: state changes ----

    fn open(
        &mut self,
        now: Instant,
        extensions: Extensions,
        request: Option<http::Request<()>>,
        response: Option<http::Response<()>>,
        headers_from: http::Response<()>,
    ) {
        let headers = headers_from.headers();
        self.protocol = headers
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned());
        let extension_list =
            ws_handshake::grammar::parse_extensions(headers.get_all(SEC_WEBSOCKET_EXTENSIONS))
                .filter_map(Result::ok)
                .map(|e| e.as_str().to_owned())
                .collect();
        self.extensions = extensions;
        self.decoder = self.decoder.with_allowed_rsv(self.extensions.allowed_rsv());
        self.handshake = Handshake::Done;
        self.state = ReadyState::Open;
        self.timers.set(Timer::Handshake, None);
        if let Some(interval) = self.config.ping_interval {
            self.timers.set(Timer::Keepalive, Some(now + interval));
        }
        if let Some(idle) = self.config.idle_timeout {
            self.timers.set(Timer::Idle, Some(now + idle));
        }
        self.events.push_back(Event::Open(Box::new(Opened {
            protocol: self.protocol.clone(),
            extensions: extension_list,
            request,
            response,
        })));
        self.pre_open_len = 0;
        for frame in mem::take(&mut self.pre_open) {
            if frame.opcode.is_control() {
                if frame.opcode == OpCode::PING && !frame.payload.is_empty() {
                    // The RTT counts from the connection's opening, when it is really sent.
                    if let Some(p) = self.pings.iter_mut().find(|p| p.payload == frame.payload) {
                        p.at = now;
                    }
                }
                let len = frame.payload.len() as u64;
                self.push_frame(FrameHeader::new(frame.opcode, len), frame.payload);
            } else if let Err(error) = self.encode_data(
                frame.opcode,
                frame.payload,
                frame.first,
                frame.last,
                frame.compress,
            ) {
                self.fail(error.into(), now);
                break;
            }
        }
    }

    /// Whether a close or fault found in the input must wait: data messages received
    /// before it are still to be polled.
    fn must_wait(&self) -> bool {
        self.state == ReadyState::Open
            && self.events.iter().any(|event| {
                matches!(
                    event,
                    Event::Text(_) | Event::Binary(_) | Event::Fragment { .. }
                )
            })
    }

    /// Keeps `input` until the messages before it are polled; reads nothing more meanwhile.
    fn hold(&mut self, input: Deferred) {
        self.deferred = Some(input);
        self.read_closed = true;
    }

    /// Acts on the close frame or fault held back by [`Self::hold`], now that the
    /// messages before it were polled.
    fn resume(&mut self, deferred: Deferred) {
        let now = self.last_now;
        let result = match deferred {
            Deferred::Failure(error) => Err(error),
            Deferred::Close(payload) => self.on_close(payload, now),
        };
        if let Err(error) = result {
            self.fail(error, now);
        }
        if self.eof {
            self.end_of_input(now);
        }
    }

    /// Receives the peer's close frame, unless messages before it wait to be polled.
    fn close_received(&mut self, payload: Bytes, now: Instant) -> Result<(), ConnectionError> {
        if self.must_wait() {
            self.hold(Deferred::Close(payload));
            return Ok(());
        }
        self.on_close(payload, now)
    }

    /// Fails the connection because of `error` (RFC 6455 §7.1.7).
    fn fail(&mut self, error: ConnectionError, now: Instant) {
        if self.deferred.is_some() {
            return; // The peer's close or first fault, held back, decides the end.
        }
        if self.must_wait() {
            self.hold(Deferred::Failure(error));
            return;
        }
        let initiator = self.initiator.unwrap_or(Initiator::Local);
        self.fail_as(error, initiator, now);
    }

    fn fail_as(&mut self, error: ConnectionError, initiator: Initiator, now: Instant) {
        if self.state == ReadyState::Closed {
            return;
        }
        let code = error.close_code();
        let timed_out = matches!(
            error,
            ConnectionError::HandshakeTimeout
                | ConnectionError::CloseTimeout
                | ConnectionError::PongTimeout
                | ConnectionError::IdleTimeout
        );
        let mut sent = None;
        if let Some(code) = code
            && self.state == ReadyState::Open
            && !self.close_sent
        {
            self.send_close(Some(code), "");
            sent = Some(code);
        }
        self.events.push_back(Event::Error(error));
        let transport = if timed_out && sent.is_none() {
            Transport::CloseNow
        } else {
            Transport::CloseWhenFlushed
        };
        self.finish(
            CloseInfo {
                code: sent.unwrap_or(CloseCode::ABNORMAL),
                reason: String::new(),
                initiator,
                clean: false,
            },
            transport,
            now,
        );
    }

    /// Ends the connection without a close handshake (handshake phase).
    /// Ends the opening handshake without opening: reports `error` (if any) and closes
    /// the transport once what is queued (an error response, say) is written.
    fn end_handshake(
        &mut self,
        error: Option<ConnectionError>,
        initiator: Initiator,
        now: Instant,
    ) {
        self.handshake = Handshake::Done;
        self.abort(error, initiator, Transport::CloseWhenFlushed, now);
    }

    fn abort(
        &mut self,
        error: Option<ConnectionError>,
        initiator: Initiator,
        transport: Transport,
        now: Instant,
    ) {
        if self.state == ReadyState::Closed {
            return;
        }
        if let Some(error) = error {
            self.events.push_back(Event::Error(error));
        }
        self.finish(
            CloseInfo {
                code: CloseCode::ABNORMAL,
                reason: String::new(),
                initiator,
                clean: false,
            },
            transport,
            now,
        );
    }

    /// Enters `Closed`: reports `info`, stops input, and arranges for the transport to be
    /// closed (a client waits for the server to close it after a clean close).
    fn finish(&mut self, info: CloseInfo, transport: Transport, now: Instant) {
        let client_waits = info.clean && self.role == Role::Client && !self.eof;
        self.state = ReadyState::Closed;
        self.read_closed = true;
        self.rx.clear();
        self.incoming = None;
        self.pending_pong = None;
        self.pre_open.clear();
        self.pre_open_len = 0;
        if matches!(self.handshake, Handshake::AwaitingDecision(_)) {
            self.handshake = Handshake::Done;
        }
        self.timers.clear();
        self.events.push_back(Event::Closed(info));
        if transport == Transport::CloseNow {
            self.transport = Transport::CloseNow;
            return;
        }
        if !client_waits {
            self.transport = Transport::CloseWhenFlushed;
        }
        // Bounds both the client's wait and a flush to a peer that stopped reading.
        self.timers
            .set(Timer::Close, Some(now + self.config.close_timeout));
    }

    // ---- Internals: input ----

    fn process(&mut self, now: Instant) {
        self.last_now = now;
        loop {
            if self.read_closed {
                self.rx.clear();
                break;
            }
            if self.events.len() >= self.config.max_queued_events {
                self.paused = true;
                break;
            }
            self.paused = false;
            let more = match self.handshake {
                Handshake::Client(_) => self.client_handshake(now),
                Handshake::Server => self.server_handshake(now),
                Handshake::AwaitingDecision(_) | Handshake::AwaitingPlainAnswer => false,
                Handshake::Done => self.next_frame(now),
            };
            if !more {
                break;
            }
        }
        self.rx_processed = self.rx.len();
        self.flush_pong();
    }

    /// Parses the server's response; returns whether to go on processing.
    fn client_handshake(&mut self, now: Instant) -> bool {
        let Handshake::Client(handshake) = &self.handshake else {
            return false;
        };
        match handshake.parse_response(&self.rx) {
            Ok(None) => false,
            Ok(Some((ClientOutcome::Accepted(accepted), used))) => {
                self.rx.advance(used);
                match extensions::client_accepted(&accepted.extensions, &self.config) {
                    Ok(extensions) => {
                        let response = accepted.response;
                        self.open(now, extensions, None, Some(response.clone()), response);
                        true
                    }
                    Err(error) => {
                        self.end_handshake(Some(error), Initiator::Local, now);
                        false
                    }
                }
            }
            Ok(Some((ClientOutcome::Rejected(response), used))) => {
                self.rx.advance(used);
                self.events.push_back(Event::Rejected(Box::new(response)));
                self.end_handshake(None, Initiator::Remote, now);
                false
            }
            Err(error) => {
                let error = ConnectionError::BadResponse(error);
                self.end_handshake(Some(error), Initiator::Local, now);
                false
            }
        }
    }

    /// Parses the client's request; returns whether to go on processing.
    fn server_handshake(&mut self, now: Instant) -> bool {
        match Incoming::parse(&self.rx, &self.config.handshake_limits) {
            Ok(None) => false,
            Ok(Some((Incoming::Upgrade(request), used))) => {
                self.rx.advance(used);
                if self.config.auto_accept {
                    self.handshake = Handshake::AwaitingDecision(Box::new(request));
                    if let Err(error) = self.accept(now) {
                        // Only the negotiated extensions could make it invalid: a bug, reported
                        // as a refused request rather than a panic.
                        debug_assert!(false, "auto accept failed: {error}");
                        self.end_handshake(None, Initiator::Local, now);
                    }
                    return false; // `accept` processed the rest.
                }
                self.events
                    .push_back(Event::UpgradeRequest(Box::new(request.clone())));
                self.handshake = Handshake::AwaitingDecision(Box::new(request));
                false
            }
            Ok(Some((Incoming::Plain(request), used))) => {
                self.rx.advance(used);
                self.handshake = Handshake::AwaitingPlainAnswer;
                self.events
                    .push_back(Event::PlainRequest(Box::new(request)));
                false
            }
            Err(error) => {
                let mut bytes = Vec::new();
                error.write_response(&mut bytes);
                self.tx.extend(&bytes);
                let error = ConnectionError::BadRequest(error);
                self.end_handshake(Some(error), Initiator::Local, now);
                false
            }
        }
    }

    /// Decodes and handles the next frame; returns whether to go on.
    fn next_frame(&mut self, now: Instant) -> bool {
        match self.decoder.decode(&mut self.rx) {
            Ok(Some(frame)) => {
                self.on_frame(frame, now);
                true
            }
            Ok(None) => {
                if let Err(error) = self.check_partial_frame() {
                    self.fail(error, now);
                }
                false
            }
            Err(error) => {
                let error = match error {
                    // The decoder's limit is the smaller of the frame and message limits:
                    // say which one the frame broke.
                    DecodeError::PayloadTooLarge { len, .. }
                        if !self.config.streaming_receive && len > self.config.max_message_size =>
                    {
                        ConnectionError::MessageTooBig {
                            max: self.config.max_message_size,
                        }
                    }
                    error => error.into(),
                };
                self.fail(error, now);
                false
            }
        }
    }

    fn on_frame(&mut self, frame: Frame, now: Instant) {
        let Frame { header, payload } = frame;
        let first_data = matches!(header.opcode, OpCode::TEXT | OpCode::BINARY);
        if !first_data && !header.rsv.is_empty() {
            // The decoder allows the negotiated bits on every frame; they belong on a
            // message's first frame only.
            self.fail(ConnectionError::RsvNotAllowed, now);
            return;
        }
        let result = match header.opcode {
            OpCode::PING => {
                self.events.push_back(Event::Ping(payload.clone()));
                if !self.close_sent {
                    // Answered at once while the output flows (Autobahn 2.10 expects a pong
                    // per ping); while it is backed up, the latest ping wins and one pong
                    // answers all those pending.
                    self.pending_pong = Some(payload);
                    self.flush_pong();
                }
                Ok(())
            }
            OpCode::PONG => {
                self.on_pong(payload, now);
                Ok(())
            }
            OpCode::CLOSE => self.close_received(payload, now),
            OpCode::TEXT | OpCode::BINARY => {
                if self.incoming.is_some() {
                    Err(ConnectionError::ExpectedContinuation)
                } else if let Err(error) = self.extensions.begin_incoming(header.rsv) {
                    Err(error)
                } else {
                    let kind = if header.opcode == OpCode::TEXT {
                        MessageKind::Text
                    } else {
                        MessageKind::Binary
                    };
                    if self.frame_validated == 0 {
                        self.validator = Utf8Validator::new();
                    }
                    self.incoming = Some(IncomingMessage {
                        kind,
                        rsv: header.rsv,
                        len: 0,
                        fragments: 0,
                        first: None,
                        joined: BytesMut::new(),
                    });
                    self.on_data(payload, header.fin)
                }
            }
            _ => {
                // The decoder refuses reserved opcodes, so this is a continuation.
                if self.incoming.is_none() {
                    Err(ConnectionError::UnexpectedContinuation)
                } else {
                    self.on_data(payload, header.fin)
                }
            }
        };
        if let Err(error) = result {
            self.fail(error, now);
        }
    }

    fn on_data(&mut self, payload: Bytes, last: bool) -> Result<(), ConnectionError> {
        let validated = mem::take(&mut self.frame_validated);
        let streaming = self.config.streaming_receive;
        let Some(message) = self.incoming.as_mut() else {
            return Ok(());
        };
        message.fragments += 1;
        if !streaming && message.fragments > self.config.max_fragments {
            return Err(ConnectionError::TooManyFragments {
                max: self.config.max_fragments,
            });
        }
        // Decoded before UTF-8 validation, which applies to the decompressed text. With
        // streaming receive the message is unbounded, but each frame's decoded size is
        // bounded by the message limit: a sender's compressor may hold data back, so one
        // small frame can legitimately carry many earlier fragments' worth.
        let limit = if streaming {
            message.len.saturating_add(self.config.max_message_size)
        } else {
            self.config.max_message_size
        };
        let data = self
            .extensions
            .decode_fragment(message.rsv, payload, last, limit)?;
        message.len += data.len() as u64;
        if !streaming && message.len > self.config.max_message_size {
            return Err(ConnectionError::MessageTooBig {
                max: self.config.max_message_size,
            });
        }
        if message.kind == MessageKind::Text {
            let fresh = data.get(validated..).unwrap_or_default();
            self.validator
                .feed(fresh)
                .map_err(|_| ConnectionError::InvalidUtf8)?;
            if last && !self.validator.is_complete() {
                return Err(ConnectionError::InvalidUtf8);
            }
        }
        let kind = message.kind;
        if streaming {
            self.events.push_back(Event::Fragment { kind, data, last });
        } else {
            match message.first.take() {
                None if message.joined.is_empty() => message.first = Some(data),
                None => message.joined.extend_from_slice(&data),
                Some(first) => {
                    message.joined.reserve(first.len() + data.len());
                    message.joined.extend_from_slice(&first);
                    message.joined.extend_from_slice(&data);
                }
            }
            if last {
                let payload = match message.first.take() {
                    Some(first) => first,
                    None => mem::take(&mut message.joined).freeze(),
                };
                self.events.push_back(match kind {
                    MessageKind::Text => Event::Text(Utf8Bytes::new_validated(payload)),
                    MessageKind::Binary => Event::Binary(payload),
                });
            }
        }
        if last {
            self.incoming = None;
        }
        Ok(())
    }

    /// Checks what can be checked of the incomplete frame at the front of the receive
    /// buffer: fragment order, size limits, and the UTF-8 of the text received so far
    /// (Autobahn 6.4.3/6.4.4: fail before the frame is complete).
    fn check_partial_frame(&mut self) -> Result<(), ConnectionError> {
        let Ok(Some((header, header_len))) = self.decoder.peek_header(&self.rx) else {
            return Ok(());
        };
        if header.opcode.is_control() {
            return Ok(());
        }
        let message = self.incoming.as_ref();
        match (header.opcode, message) {
            (OpCode::CONTINUATION, None) => return Err(ConnectionError::UnexpectedContinuation),
            (OpCode::TEXT | OpCode::BINARY, Some(_)) => {
                return Err(ConnectionError::ExpectedContinuation);
            }
            _ => {}
        }
        if !self.config.streaming_receive {
            let so_far = message.map_or(0, |m| m.len);
            if so_far.saturating_add(header.payload_len) > self.config.max_message_size {
                return Err(ConnectionError::MessageTooBig {
                    max: self.config.max_message_size,
                });
            }
            if message.map_or(0, |m| m.fragments) >= self.config.max_fragments {
                return Err(ConnectionError::TooManyFragments {
                    max: self.config.max_fragments,
                });
            }
        }
        let text = match message {
            None => {
                header.opcode == OpCode::TEXT && !self.extensions.transforms_incoming(header.rsv)
            }
            Some(m) => m.kind == MessageKind::Text && !self.extensions.transforms_incoming(m.rsv),
        };
        let arrived = self.rx.len() - header_len;
        if !text || arrived <= self.frame_validated {
            return Ok(());
        }
        if message.is_none() && self.frame_validated == 0 {
            self.validator = Utf8Validator::new();
        }
        self.scratch.clear();
        self.scratch
            .extend_from_slice(&self.rx[header_len + self.frame_validated..]);
        if let Some(key) = header.mask {
            apply_mask_at(&mut self.scratch, key, self.frame_validated);
        }
        self.frame_validated = arrived;
        self.validator
            .feed(&self.scratch)
            .map_err(|_| ConnectionError::InvalidUtf8)
    }

    fn on_pong(&mut self, payload: Bytes, now: Instant) {
        let mut rtt = None;
        if !payload.is_empty()
            && let Some(i) = self.pings.iter().position(|p| p.payload == payload)
        {
            rtt = Some(now.saturating_duration_since(self.pings[i].at));
            // A pong answers its ping and every earlier one (the peer may answer only the
            // latest).
            if self.pings.drain(..=i).any(|p| p.heartbeat) {
                self.timers.set(Timer::PongDeadline, None);
            }
        }
        self.events.push_back(Event::Pong { payload, rtt });
    }

    fn on_close(&mut self, payload: Bytes, now: Instant) -> Result<(), ConnectionError> {
        let (code, reason) = match payload.len() {
            0 => (CloseCode::NO_STATUS, String::new()),
            1 => return Err(ConnectionError::InvalidClosePayload),
            _ => {
                let code = CloseCode::from(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_valid_on_wire() {
                    return Err(ConnectionError::InvalidCloseCode(code.as_u16()));
                }
                let reason = std::str::from_utf8(&payload[2..])
                    .map_err(|_| ConnectionError::InvalidCloseReason)?;
                (code, reason.to_owned())
            }
        };
        let initiator = if self.close_sent {
            Initiator::Local
        } else {
            // Echo the peer's code (RFC 6455 §5.5.1).
            let echo = (code != CloseCode::NO_STATUS).then_some(code);
            self.send_close(echo, "");
            Initiator::Remote
        };
        self.initiator = Some(initiator);
        self.finish(
            CloseInfo {
                code,
                reason,
                initiator,
                clean: true,
            },
            Transport::CloseWhenFlushed,
            now,
        );
        Ok(())
    }
}
