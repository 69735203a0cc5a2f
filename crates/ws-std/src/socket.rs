//! The blocking WebSocket: the opening handshake, then send, receive and close, each a
//! loop around the endpoint's call order (input, events, output, timer).

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ws_endpoint::{
    CloseCode, CloseInfo, Config, ConnectionError, Endpoint, Event, MessageKind, Opened,
    PreparedMessage, SendError, Utf8Bytes, WRITE_AFTER_EVENTS,
};
use ws_handshake::{ClientBuilder, UpgradeRequest};

use crate::{Error, Transport};

/// How much room each read gets in the receive buffer: large enough that a 16 MiB message
/// takes few system calls, small enough to zero cheaply for a short read.
const READ_CHUNK: usize = 64 << 10;

/// A WebSocket message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// One fragment of a message: received with `Config::streaming_receive`, and sent to
    /// stream a message (the first fragment starts it, `last` ends it).
    Fragment {
        /// Whether the message is text or binary.
        kind: MessageKind,
        /// The fragment's payload (a text fragment may end inside a character).
        data: Bytes,
        /// Whether this fragment ends the message.
        last: bool,
    },
    /// A text or binary message prepared for many connections: compressed once per kind
    /// of connection, not once per connection (a broadcast). Only sent, never received.
    Prepared(PreparedMessage),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Message {
        Message::Binary(data.into())
    }
}

/// A server's answer to an upgrade request, returned by the [`accept_with`] callback.
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// Accept, choosing the subprotocol from `Config::protocols`.
    Accept,
    /// Accept with this subprotocol (chosen only if the client offered it) and these extra
    /// headers on the 101 response (e.g. `Set-Cookie`).
    AcceptWith {
        /// The subprotocol; `None` chooses from `Config::protocols`.
        protocol: Option<String>,
        /// Headers added to the response.
        headers: http::HeaderMap,
    },
    /// Refuse with this response (e.g. 403); the connection is then closed.
    Reject(http::Response<Vec<u8>>),
}

/// An open WebSocket connection over a blocking transport.
///
/// Each call runs the endpoint until it has what was asked for: [`recv`](WebSocket::recv)
/// reads until a message arrives, answering pings and running the timers (heartbeat, idle
/// and close timeouts) through the transport's read timeout; [`send`](WebSocket::send)
/// writes the message out before returning. Timers only run inside `recv` and `close`, so
/// a connection with a heartbeat needs a thread that keeps receiving.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    endpoint: Endpoint,
    opened: Option<Box<Opened>>,
    /// Why the connection failed, reported by the endpoint before `Closed`.
    error: Option<ConnectionError>,
    close_info: Option<CloseInfo>,
    /// The endpoint asked for the transport to be closed, and it was.
    transport_closed: bool,
    /// The read timeout last set on the transport, to skip redundant system calls.
    read_timeout: Option<Option<Duration>>,
    /// Events handed out since output was last written (see [`WRITE_AFTER_EVENTS`]).
    events_since_write: u32,
}

/// Runs the server side of the opening handshake on `stream` (a connection from
/// `TcpListener::accept`), accepting every valid upgrade request.
///
/// # Errors
/// [`Error::Connection`] for a bad request or the handshake timeout (the error response
/// was sent), [`Error::Refused`] for a plain HTTP request (answered with 400),
/// [`Error::Io`] when the transport fails.
pub fn accept<S: Transport>(stream: S, config: Config) -> Result<WebSocket<S>, Error> {
    accept_with(stream, config, |_| Decision::Accept)
}

/// Like [`accept`], but `decide` inspects the upgrade request (path, `Origin`, cookies,
/// offered subprotocols) and answers it. `Config::auto_accept` is ignored: the callback
/// decides.
///
/// ```no_run
/// use ws_std::Decision;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
/// let (stream, _) = listener.accept()?;
/// let ws = ws_std::accept_with(stream, ws_endpoint::Config::default(), |request| {
///     if request.request().uri().path() == "/chat" {
///         Decision::AcceptWith { protocol: Some("chat".into()), headers: Default::default() }
///     } else {
///         let mut response = http::Response::new(b"not found".to_vec());
///         *response.status_mut() = http::StatusCode::NOT_FOUND;
///         Decision::Reject(response)
///     }
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`accept`]; [`Error::Refused`] when `decide` rejected the request (the response was
/// sent), [`Error::Accept`] when its acceptance was invalid.
pub fn accept_with<S, F>(stream: S, mut config: Config, decide: F) -> Result<WebSocket<S>, Error>
where
    S: Transport,
    F: FnOnce(&UpgradeRequest) -> Decision,
{
    config.auto_accept = false;
    WebSocket::new(stream, Endpoint::server(config, Instant::now())).open(decide)
}

/// Runs the client handshake on a stream the caller opened (TLS, a proxy tunnel); `request`
/// carries the URI, subprotocol offers and headers.
///
/// # Errors
/// [`Error::Rejected`] when the server answers with another status than 101 (no redirect
/// is followed: that is [`ConnectOptions`](crate::ConnectOptions)' job),
/// [`Error::Connection`] for an invalid answer or the handshake timeout, [`Error::Io`]
/// when the transport fails, [`Error::Usage`] when the request cannot be built.
pub fn client<S: Transport>(
    stream: S,
    request: ClientBuilder,
    config: Config,
) -> Result<WebSocket<S>, Error> {
    let endpoint = Endpoint::client(config, request, Instant::now())?;
    // A client never receives an upgrade request, so the decision is never asked for.
    WebSocket::new(stream, endpoint).open(|_| Decision::Accept)
}

impl<S: Transport> WebSocket<S> {
    fn new(stream: S, endpoint: Endpoint) -> WebSocket<S> {
        WebSocket {
            stream,
            endpoint,
            opened: None,
            error: None,
            close_info: None,
            transport_closed: false,
            read_timeout: None,
            events_since_write: 0,
        }
    }

    /// Runs the opening handshake until the connection is open or has failed.
    fn open(mut self, decide: impl FnOnce(&UpgradeRequest) -> Decision) -> Result<Self, Error> {
        let mut decide = Some(decide);
        let mut refusal = None;
        while let Some(event) = self.next_event()? {
            match event {
                Event::Open(opened) => {
                    self.opened = Some(opened);
                    // A server's 101 is still queued: send it now, whatever comes next.
                    self.flush()?;
                    return Ok(self);
                }
                Event::UpgradeRequest(request) => {
                    let now = Instant::now();
                    // The endpoint reports one request per connection.
                    match decide.take().map_or(Decision::Accept, |f| f(&request)) {
                        Decision::Accept => self.endpoint.accept(now)?,
                        Decision::AcceptWith { protocol, headers } => {
                            self.endpoint.accept_with(now, |mut accept| {
                                if let Some(protocol) = &protocol {
                                    accept = accept.select_protocol(&[protocol]);
                                }
                                for (name, value) in &headers {
                                    accept = accept.header(name.clone(), value.clone());
                                }
                                accept
                            })?;
                        }
                        Decision::Reject(response) => {
                            self.endpoint.reject(&response, now)?;
                            refusal = Some(Error::Refused(response.status()));
                        }
                    }
                }
                Event::PlainRequest(_) => {
                    let mut response = http::Response::new(&b"WebSocket endpoint\n"[..]);
                    *response.status_mut() = http::StatusCode::BAD_REQUEST;
                    self.endpoint.reject(&response, Instant::now())?;
                    refusal = Some(Error::Refused(response.status()));
                }
                Event::Rejected(response) => refusal = Some(Error::Rejected(response)),
                Event::Error(error) => self.error = Some(error),
                _ => {}
            }
        }
        // The transport is closed: the handshake failed or was refused.
        Err(refusal
            .or_else(|| {
                // No close frame is sent before the handshake is done.
                let error = self.error.take()?;
                let close_code = CloseCode::ABNORMAL;
                Some(Error::Connection { error, close_code })
            })
            .unwrap_or(Error::Closed))
    }

    /// The next message, or `None` once the connection was closed cleanly (the close
    /// handshake completed and the transport is closed). Pings are answered, and the
    /// endpoint's timers run while waiting.
    ///
    /// # Errors
    /// [`Error::Connection`] when the connection failed (the peer broke the protocol or a
    /// limit, or a timeout expired; the close frame was sent), [`Error::Io`] when the
    /// transport failed.
    pub fn recv(&mut self) -> Result<Option<Message>, Error> {
        while let Some(event) = self.next_event()? {
            match event {
                Event::Text(text) => return Ok(Some(Message::Text(text))),
                Event::Binary(data) => return Ok(Some(Message::Binary(data))),
                Event::Fragment { kind, data, last } => {
                    return Ok(Some(Message::Fragment { kind, data, last }));
                }
                Event::Error(error) => self.error = Some(error),
                Event::Closed(info) => self.close_info = Some(info),
                // Pings are answered by the endpoint; pongs only matter to its heartbeat.
                _ => {}
            }
        }
        match &self.error {
            Some(error) => Err(Error::Connection {
                error: error.clone(),
                close_code: self
                    .close_info
                    .as_ref()
                    .map_or(CloseCode::ABNORMAL, |info| info.code),
            }),
            None => Ok(None),
        }
    }

    /// Sends a message and writes it out (with anything else queued, in one vectored
    /// write where possible): [`feed`](WebSocket::feed), then [`flush`](WebSocket::flush).
    ///
    /// # Errors
    /// [`Error::Send`] when the connection is closing or closed or for misuse of fragments,
    /// [`Error::Io`] when the transport fails.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message)?;
        self.flush()
    }

    /// Queues a message without writing it, so that many replies leave in one write.
    /// Queued messages are written by [`send`](WebSocket::send) and
    /// [`flush`](WebSocket::flush), by [`recv`](WebSocket::recv) before it waits for input
    /// and after every [`WRITE_AFTER_EVENTS`] messages it returns, and by `feed` itself
    /// when the queue is full (`Config::max_queued_bytes`).
    ///
    /// ```no_run
    /// # fn echo(mut ws: ws_std::WebSocket<std::net::TcpStream>) -> Result<(), ws_std::Error> {
    /// // Echo replies to a pipelined burst leave together, not one write each.
    /// while let Some(message) = ws.recv()? {
    ///     ws.feed(message)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`send`](WebSocket::send).
    pub fn feed(&mut self, message: Message) -> Result<(), Error> {
        loop {
            // Cloning a message clones `Bytes` handles, not the payload.
            let result = match message.clone() {
                Message::Text(text) => self.endpoint.send_text(text),
                Message::Binary(data) => self.endpoint.send_binary(data),
                Message::Fragment { kind, data, last } => {
                    self.endpoint.send_fragment(kind, data, last)
                }
                Message::Prepared(prepared) => self.endpoint.send_prepared(&prepared),
            };
            match result {
                // An empty queue accepts any message, so one flush is enough.
                Err(SendError::BufferFull) => self.flush()?,
                result => return Ok(result?),
            }
        }
    }

    /// Closes the connection: sends a close frame with `code` and `reason` (at most 123
    /// bytes), then waits for the peer's answer (at most `Config::close_timeout`) and for
    /// the transport to close. Messages still arriving meanwhile are dropped.
    ///
    /// # Errors
    /// [`Error::Send`] when the connection is already closing or closed or the code may
    /// not be sent, [`Error::Connection`] when the peer did not answer in time or broke
    /// the protocol, [`Error::Io`] when the transport fails.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.endpoint.close(code, reason, Instant::now())?;
        while self.recv()?.is_some() {}
        Ok(())
    }

    /// The outcome of the opening handshake: subprotocol, extensions, the request (server)
    /// or response (client).
    pub fn opened(&self) -> &Opened {
        self.opened
            .as_deref()
            .expect("a WebSocket is only handed out once open")
    }

    /// How the connection ended, once [`recv`](WebSocket::recv) reported the end.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.close_info.as_ref()
    }

    /// The transport, e.g. for its peer address.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Runs the endpoint until it reports an event; `None` once the transport is closed
    /// and every event was taken.
    fn next_event(&mut self) -> Result<Option<Event>, Error> {
        if self.events_since_write >= WRITE_AFTER_EVENTS {
            self.flush()?;
        }
        loop {
            if let Some(event) = self.endpoint.poll_event() {
                self.events_since_write = self.events_since_write.saturating_add(1);
                return Ok(Some(event));
            }
            self.flush()?;
            if self.transport_closed {
                return Ok(None);
            }
            if self.endpoint.should_close_transport() {
                // The connection is over either way; a peer that already left makes the
                // shutdown fail, which changes nothing.
                let _ = self.stream.shutdown();
                self.transport_closed = true;
                continue;
            }
            let now = Instant::now();
            let deadline = self.endpoint.poll_timeout();
            if deadline.is_some_and(|deadline| deadline <= now) {
                self.endpoint.handle_timeout(now);
                continue;
            }
            let wait = deadline.map(|deadline| deadline - now);
            if self.endpoint.wants_read() {
                self.read(wait)?;
            } else if let Some(wait) = wait {
                // Nothing to read (end of stream seen): only a timer can move things on.
                std::thread::sleep(wait);
            } else {
                // Neither input nor a timer can change anything: treat it as closed.
                self.transport_closed = true;
            }
        }
    }

    /// One read into the endpoint's receive buffer, waiting at most `wait`.
    fn read(&mut self, wait: Option<Duration>) -> Result<(), Error> {
        // A zero timeout is an error for `set_read_timeout`, so wait at least 1 ms; waking
        // a little late only delays a timer by as much.
        let wait = wait.map(|wait| wait.max(Duration::from_millis(1)));
        if self.read_timeout != Some(wait) {
            self.stream.set_read_timeout(wait)?;
            self.read_timeout = Some(wait);
        }
        let buf = self.endpoint.receive_buffer();
        let start = buf.len();
        buf.resize(start + READ_CHUNK, 0);
        let result = self.stream.read(&mut buf[start..]);
        buf.truncate(start + result.as_ref().map_or(0, |&n| n));
        let now = Instant::now();
        match result {
            // A TLS peer that closed the socket without close_notify: the endpoint
            // judges the end as it judges any other (clean only after the close handshake).
            Ok(0) => self.endpoint.handle_eof(now),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => self.endpoint.handle_eof(now),
            Ok(_) => self.endpoint.handle_received(now),
            // The read timeout: the caller's loop handles the timer that is due.
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Writes everything queued (messages fed, pongs, a close frame), vectored.
    ///
    /// # Errors
    /// [`Error::Io`] when the transport fails.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.events_since_write = 0;
        if self.endpoint.transmit_len() == 0 {
            return Ok(());
        }
        while self.endpoint.transmit_len() > 0 {
            let stream = &mut self.stream;
            let written = self
                .endpoint
                .with_transmit_slices(|s| stream.write_vectored(s));
            let written = match written {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => return Err(e.into()),
            };
            self.endpoint.advance_transmit(written);
        }
        self.stream.flush()?;
        Ok(())
    }
}

/// Whether a read failed because its timeout expired (`WouldBlock` on Unix, `TimedOut`
/// on Windows).
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
