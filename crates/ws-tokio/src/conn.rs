//! The pump: one transport, one endpoint, one timer, driven by whoever polls.
//!
//! Everything lives in [`Conn`], nothing in the futures that poll it, so dropping a
//! `recv` or `send` future loses nothing (cancel safety). Both halves of a split socket
//! poll the same `Conn` under a mutex; the transport and the timer are always polled
//! with one fan-out waker that wakes whichever halves are waiting, so neither half can
//! steal the other's wake-up.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;
use ws_endpoint::{CloseInfo, ConnectionError, Endpoint, Event, SendError};

use crate::{CloseFrame, Error, Message};

/// The smallest read, from a stack buffer when the receive buffer has no room. The read
/// size doubles while reads fill the buffer, up to `MAX_READ`.
const MIN_READ: usize = 4 * 1024;
const MAX_READ: usize = 256 * 1024;

/// At most this many transmit chunks go into one vectored write.
const MAX_IO_SLICES: usize = 64;

/// Round-trip times of pongs kept for `ping()` callers that have not looked yet.
const MAX_RTTS: usize = 16;

/// The current time on tokio's clock, so tests with paused time drive the endpoint too.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Which side of a (possibly split) socket is polling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Half {
    /// `recv`, the `Stream` impl, the read half; also the whole socket before a split.
    Read,
    /// `send`, the `Sink` impl, the write half.
    Write,
}

/// The tasks waiting on the connection; waking it wakes them all.
#[derive(Default)]
struct Waiters {
    slots: Mutex<[Option<Waker>; 2]>,
}

impl Waiters {
    fn register(&self, half: Half, waker: &Waker) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = &mut slots[half as usize];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn wake_half(&self, half: Half) {
        let waker = self.slots.lock().unwrap_or_else(PoisonError::into_inner)[half as usize].take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers =
            std::mem::take(&mut *self.slots.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
    }
}

/// A WebSocket connection's state: the transport, the endpoint and the one timer.
pub(crate) struct Conn<S> {
    io: S,
    pub(crate) endpoint: Endpoint,
    timer: Pin<Box<Sleep>>,
    /// The deadline `timer` is armed for.
    armed: Option<Instant>,
    waiters: Arc<Waiters>,
    io_waker: Waker,
    read_size: usize,
    /// Bytes were written since the transport was last flushed.
    unflushed: bool,
    /// The transport was shut down or failed: no more I/O.
    transport_done: bool,
    /// The endpoint's `Error` event, kept until its `Closed` event.
    failure: Option<ConnectionError>,
    /// The last item `recv` returns, kept until the transport is closed.
    last: Option<Result<Message, Error>>,
    /// Items taken from the endpoint by `ping()` while it looked for its pong.
    deferred: VecDeque<Result<Message, Error>>,
    /// A message the endpoint refused for backpressure; sent before anything else.
    pending_send: Option<Message>,
    rtts: VecDeque<(Bytes, Duration)>,
    ping_counter: u64,
}

impl<S> Conn<S> {
    /// Boxed: the futures that own a connection (an accept, an application's task) stay
    /// pointer-sized, where the compiler would otherwise keep a copy of the state for the
    /// handshake and one for the open socket side by side.
    pub(crate) fn new(io: S, endpoint: Endpoint) -> Box<Conn<S>> {
        let waiters = Arc::new(Waiters::default());
        Box::new(Conn {
            io,
            endpoint,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
            io_waker: Waker::from(waiters.clone()),
            waiters,
            read_size: MIN_READ,
            unflushed: false,
            transport_done: false,
            failure: None,
            last: None,
            deferred: VecDeque::new(),
            pending_send: None,
            rtts: VecDeque::new(),
            ping_counter: 0,
        })
    }

    /// Wakes the other half of a split socket: this one changed something it may wait for
    /// (consumed input, freed buffer space), possibly without a transport wake-up.
    fn wake_other(&self, half: Half) {
        self.waiters.wake_half(match half {
            Half::Read => Half::Write,
            Half::Write => Half::Read,
        });
    }

    /// A payload for the next `ping()`: unique on this connection, so its pong is found.
    pub(crate) fn next_ping_payload(&mut self) -> Bytes {
        self.ping_counter += 1;
        let mut payload = b"wst".to_vec();
        payload.extend_from_slice(&self.ping_counter.to_be_bytes());
        Bytes::from(payload)
    }

    /// Hands `message` to the endpoint; gives it back if the send buffer is full.
    fn submit(&mut self, message: Message) -> Result<(), Result<Message, Error>> {
        // Only pings and closes start timers: data messages skip the clock read.
        let result = match &message {
            Message::Text(text) => self.endpoint.send_text(text.clone()),
            Message::Binary(data) => self.endpoint.send_binary(data.clone()),
            Message::Ping(payload) => self.endpoint.send_ping(payload.clone(), now()),
            Message::Pong(payload) => self.endpoint.send_pong(payload.clone()),
            Message::Fragment { kind, data, last } => {
                self.endpoint.send_fragment(*kind, data.clone(), *last)
            }
            Message::Close(frame) => self.endpoint.close(frame.code, &frame.reason, now()),
        };
        match result {
            Ok(()) => Ok(()),
            Err(SendError::BufferFull) => Err(Ok(message)),
            Err(SendError::Closed) => Err(Err(Error::Closed)),
            Err(error) => Err(Err(Error::Send(error))),
        }
    }
}

/// How eagerly a drive step reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Read whenever the endpoint wants input (receiving).
    Always,
    /// Read only while output is blocked (sending): a peer that writes while we write
    /// must not deadlock both sides, but a send should not cost a read syscall.
    IfBlocked,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// One pass over the timer, the output and the input. Returns whether anything
    /// happened; when nothing did, every source is registered with the fan-out waker and
    /// `half`'s task will be woken.
    fn drive(&mut self, cx: &Context<'_>, half: Half, read: Read) -> Result<bool, Error> {
        self.waiters.register(half, cx.waker());
        if self.transport_done {
            return Ok(false);
        }
        let waker = self.io_waker.clone();
        let mut io_cx = Context::from_waker(&waker);
        let result = self.drive_io(&mut io_cx, read);
        if result.is_err() {
            // The transport is unusable; what the endpoint still holds cannot be sent.
            self.transport_done = true;
        }
        if !matches!(result, Ok(false)) {
            self.wake_other(half);
        }
        result.map_err(Error::Io)
    }

    fn drive_io(&mut self, cx: &mut Context<'_>, read: Read) -> io::Result<bool> {
        let mut progress = self.poll_timer(cx);
        progress |= self.poll_output(cx)?;
        let blocked = self.endpoint.transmit_len() > 0 || self.unflushed;
        if !self.transport_done && self.endpoint.wants_read() && (read == Read::Always || blocked) {
            progress |= self.poll_input(cx)?;
        }
        Ok(progress)
    }

    /// Fires the endpoint's timers that are due and arms the one `Sleep` for the next.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Some(deadline) = self.endpoint.poll_timeout() {
            if self.armed != Some(deadline) {
                self.timer
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(deadline));
                self.armed = Some(deadline);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                break;
            }
            self.endpoint.handle_timeout(now());
            progress = true;
            if self.endpoint.poll_timeout() == Some(deadline) {
                break; // Not consumed (cannot happen): do not spin on it.
            }
        }
        progress
    }

    /// Writes queued output with vectored writes until done or blocked, then closes the
    /// transport if the endpoint says so.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let mut progress = false;
        while self.endpoint.transmit_len() > 0 && !self.endpoint.should_close_transport() {
            let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
            let count = self.endpoint.transmit_io_slices(&mut slices);
            match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.endpoint.advance_transmit(n);
                    progress = true;
                    self.unflushed = true;
                }
                Poll::Ready(Err(error)) => return Err(error),
                Poll::Pending => break,
            }
        }
        if self.unflushed && self.endpoint.transmit_len() == 0 {
            // Buffered transports (TLS) hold what was written until flushed.
            if let Poll::Ready(result) = Pin::new(&mut self.io).poll_flush(cx) {
                result?;
                self.unflushed = false;
            }
        }
        if self.endpoint.should_close_transport() {
            match Pin::new(&mut self.io).poll_shutdown(cx) {
                // A peer that already went away makes the shutdown fail: closed either way.
                Poll::Ready(_) => {
                    self.transport_done = true;
                    progress = true;
                }
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Reads once and processes every frame received.
    ///
    /// An idle connection holds no receive buffer: while the endpoint's buffer has no
    /// room, a read goes to the stack and only the bytes that arrived are copied in, and
    /// a read that finds nothing gives the endpoint's empty buffers back. Reads go
    /// straight into the endpoint's buffer (no copy) while they keep filling it, growing
    /// up to `MAX_READ`.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let buf = self.endpoint.receive_buffer();
        if self.read_size > MIN_READ && buf.capacity() - buf.len() < MIN_READ {
            buf.reserve(self.read_size);
        }
        let spare = buf.capacity() - buf.len();
        let read = if spare >= MIN_READ {
            tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, buf)
        } else {
            let mut stack = [MaybeUninit::<u8>::uninit(); MIN_READ];
            let mut stack = ReadBuf::uninit(&mut stack);
            Pin::new(&mut self.io)
                .poll_read(cx, &mut stack)
                .map_ok(|()| {
                    buf.extend_from_slice(stack.filled());
                    stack.filled().len()
                })
        };
        match read {
            Poll::Ready(Ok(0)) => self.endpoint.handle_eof(now()),
            Poll::Ready(Ok(n)) => {
                self.read_size = if n >= spare.max(MIN_READ) {
                    (self.read_size * 2).min(MAX_READ)
                } else {
                    MIN_READ
                };
                self.endpoint.handle_received(now());
            }
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => {
                if self.endpoint.receive_buffer().is_empty() {
                    self.endpoint.shrink_buffers();
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The next raw endpoint event, driving I/O until there is one; `None` once the
    /// transport is closed and every event was taken.
    pub(crate) fn poll_event(
        &mut self,
        cx: &Context<'_>,
        half: Half,
    ) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if let Some(event) = self.endpoint.poll_event() {
                return Poll::Ready(Ok(Some(event)));
            }
            if self.transport_done {
                return Poll::Ready(Ok(None));
            }
            if !self.drive(cx, half, Read::Always)? {
                return Poll::Pending;
            }
        }
    }

    /// The next message for the application, from the endpoint only (not `deferred`).
    fn poll_item(&mut self, cx: &Context<'_>, half: Half) -> Poll<Option<Result<Message, Error>>> {
        loop {
            let event = match ready!(self.poll_event(cx, half)) {
                Ok(Some(event)) => event,
                // The connection is over: its last word, once.
                Ok(None) => return Poll::Ready(self.last.take()),
                Err(error) => return Poll::Ready(Some(Err(error))),
            };
            let message = match event {
                Event::Text(text) => Message::Text(text),
                Event::Binary(data) => Message::Binary(data),
                Event::Fragment { kind, data, last } => Message::Fragment { kind, data, last },
                Event::Ping(payload) => Message::Ping(payload),
                Event::Pong { payload, rtt } => {
                    if let Some(rtt) = rtt {
                        if self.rtts.len() == MAX_RTTS {
                            self.rtts.pop_front();
                        }
                        self.rtts.push_back((payload.clone(), rtt));
                    }
                    Message::Pong(payload)
                }
                Event::Error(error) => {
                    self.keep_failure(error);
                    continue;
                }
                Event::Closed(info) => {
                    // Delivered once the transport is closed, so that the close echo
                    // is written even if the application stops reading here.
                    self.last = Some(self.closing_item(info));
                    continue;
                }
                // Handshake events are consumed before the socket is handed out.
                _ => continue,
            };
            return Poll::Ready(Some(Ok(message)));
        }
    }

    /// Keeps the endpoint's error until its `Closed` event.
    pub(crate) fn keep_failure(&mut self, error: ConnectionError) {
        self.failure = Some(error);
    }

    /// What `recv` reports for the connection's end.
    pub(crate) fn closing_item(&mut self, info: CloseInfo) -> Result<Message, Error> {
        match self.failure.take() {
            Some(error) => Err(Error::Connection {
                error,
                close_code: info.code,
            }),
            None => Ok(Message::Close(CloseFrame {
                code: info.code,
                reason: info.reason,
            })),
        }
    }

    /// `recv`: messages kept by `ping()` first, then the endpoint's.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &Context<'_>,
        half: Half,
    ) -> Poll<Option<Result<Message, Error>>> {
        if let Some(item) = self.deferred.pop_front() {
            return Poll::Ready(Some(item));
        }
        self.poll_item(cx, half)
    }

    /// Waits for the pong answering a ping with `payload`, keeping other messages for
    /// `recv`.
    pub(crate) fn poll_pong(
        &mut self,
        cx: &Context<'_>,
        half: Half,
        payload: &Bytes,
    ) -> Poll<Result<Duration, Error>> {
        loop {
            if let Some(i) = self.rtts.iter().position(|(p, _)| p == payload) {
                return Poll::Ready(Ok(self
                    .rtts
                    .remove(i)
                    .map(|(_, rtt)| rtt)
                    .unwrap_or_default()));
            }
            if self.deferred.len() >= self.endpoint.config().max_queued_events {
                return Poll::Ready(Err(Error::PingOverrun));
            }
            match ready!(self.poll_item(cx, half)) {
                Some(item) => {
                    self.deferred.push_back(item);
                    self.wake_other(half);
                }
                None => return Poll::Ready(Err(Error::Closed)),
            }
        }
    }

    /// Sink `poll_ready`: room for one more message (the one the endpoint refused, if
    /// any, has been handed over).
    pub(crate) fn poll_ready(&mut self, cx: &Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        while let Some(message) = self.pending_send.take() {
            match self.submit(message) {
                Ok(()) => {}
                Err(Ok(message)) => {
                    self.pending_send = Some(message);
                    if !self.drive(cx, half, Read::IfBlocked)? {
                        return Poll::Pending;
                    }
                }
                Err(Err(error)) => return Poll::Ready(Err(error)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Sink `start_send`: queues `message` in the endpoint, or keeps it if the send buffer
    /// is full (one message beyond `Config::max_queued_bytes` at most).
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        debug_assert!(self.pending_send.is_none(), "start_send without poll_ready");
        match self.submit(message) {
            Ok(()) => Ok(()),
            Err(Ok(message)) => {
                self.pending_send = Some(message);
                Ok(())
            }
            Err(Err(error)) => Err(error),
        }
    }

    /// Sink `poll_flush`: everything queued is written to the transport.
    pub(crate) fn poll_flush(&mut self, cx: &Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        ready!(self.poll_ready(cx, half))?;
        loop {
            if self.endpoint.transmit_len() == 0 && !self.unflushed {
                return Poll::Ready(Ok(()));
            }
            if self.transport_done {
                return Poll::Ready(Err(Error::Closed));
            }
            if !self.drive(cx, half, Read::IfBlocked)? {
                return Poll::Pending;
            }
        }
    }

    /// Sink `poll_close`: sends a close frame (1000) unless one was sent, and drives the
    /// connection until the transport is closed.
    pub(crate) fn poll_close(&mut self, cx: &Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        ready!(self.poll_ready(cx, half))?;
        if self.endpoint.ready_state() == ws_endpoint::ReadyState::Open {
            // Only fails when a close frame was already sent: nothing to do then.
            let _ = self
                .endpoint
                .close(ws_endpoint::CloseCode::NORMAL, "", now());
        }
        // Events are left for `recv`; only the transport's end matters here.
        while !self.transport_done {
            if !self.drive(cx, half, Read::Always)? {
                if self.endpoint.wants_read() || self.endpoint.transmit_len() > 0 {
                    return Poll::Pending;
                }
                // Paused on unread events: take them so the close handshake can finish.
                match ready!(self.poll_item(cx, half)) {
                    // The transport is closed now: keep the last word for `recv`.
                    Some(Ok(last @ Message::Close(_))) => self.last = Some(Ok(last)),
                    // Data the peer sent before it saw our close: the application is done
                    // reading.
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Poll::Ready(Err(error)),
                    None => break,
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}
