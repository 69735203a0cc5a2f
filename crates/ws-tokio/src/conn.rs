//! The pump: one transport, one endpoint, one timer, driven by whoever polls.
//!
//! Everything lives in [`Conn`], nothing in the futures that poll it, so dropping a
//! `recv` or `send` future loses nothing (cancel safety). While one task polls the
//! connection (an unsplit socket), the transport and the timer hold that task's own
//! waker. Once two tasks may wait on it (split halves, or an unsplit socket polled from a
//! second task), they are polled with one fan-out waker that wakes whichever tasks are
//! waiting, so neither can steal the other's wake-up.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;
use ws_endpoint::{
    CloseInfo, ConnectionError, Endpoint, Event, ReadyState, SendError, WRITE_AFTER_EVENTS,
};

use crate::{CloseFrame, Error, Message};

/// The smallest free space offered to a read. The read size doubles while reads fill the
/// buffer, up to `MAX_READ`; a read also gets room for a frame of `Conn::frame_hint`.
const MIN_READ: usize = 4 * 1024;
const MAX_READ: usize = 256 * 1024;

/// Buffers are given back after this long without input: an idle connection keeps only
/// its fixed state, while a busy one reuses its buffers instead of allocating them anew
/// for every message.
const IDLE_RELEASE: Duration = Duration::from_secs(1);

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

/// Which waker the transport and the timer are polled with.
enum Wakeup {
    /// At most one task polls: the sources hold its own waker (kept here to notice another
    /// task), so a wake-up goes straight to it. `None` until the first poll.
    Sole(Option<Waker>),
    /// Several tasks may wait: the sources hold `waker`, which wakes every task registered
    /// in `waiters`.
    FanOut { waiters: Arc<Waiters>, waker: Waker },
}

/// A WebSocket connection's state: the transport, the endpoint and the one timer.
pub(crate) struct Conn<S> {
    io: S,
    pub(crate) endpoint: Endpoint,
    timer: Pin<Box<Sleep>>,
    /// The deadline `timer` is armed for.
    armed: Option<Instant>,
    /// `timer` holds the waker of `wakeup` for `armed` (reset whenever that waker may
    /// change), so until it elapses it needs no polling.
    timer_registered: bool,
    wakeup: Wakeup,
    read_size: usize,
    /// The size of the last frame that did not fit in the read that brought its header
    /// (at least `MIN_READ`, at most `MAX_READ`): a peer's next frame is often the same
    /// size, and room for it saves a read per frame. Back to `MIN_READ` when reads bring
    /// less than half of it.
    frame_hint: usize,
    /// Events handed out since output was last written (see [`WRITE_AFTER_EVENTS`]).
    events_since_write: u32,
    /// When to give the endpoint's buffers back if no input came meanwhile.
    release_at: Option<Instant>,
    /// Input arrived since `release_at` was set.
    input_since_release_check: bool,
    /// Waiting holds no buffer: the connection has not been busy since it opened or
    /// since its buffers were given back. Reads go to the stack; a read that finds
    /// nothing gives back whatever is left.
    lean: bool,
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
    /// When the application asked to close. A refused message still waiting may hold the
    /// close frame back for `Config::close_timeout` from then, not longer: a peer that
    /// stops reading cannot make a close hang.
    close_asked: Option<Instant>,
    rtts: VecDeque<(Bytes, Duration)>,
    ping_counter: u64,
}

impl<S> Conn<S> {
    /// Boxed: the futures that own a connection (an accept, an application's task) stay
    /// pointer-sized, where the compiler would otherwise keep a copy of the state for the
    /// handshake and one for the open socket side by side.
    pub(crate) fn new(io: S, endpoint: Endpoint) -> Box<Conn<S>> {
        Box::new(Conn {
            io,
            endpoint,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
            timer_registered: false,
            wakeup: Wakeup::Sole(None),
            read_size: MIN_READ,
            frame_hint: MIN_READ,
            events_since_write: 0,
            release_at: None,
            input_since_release_check: false,
            lean: true,
            unflushed: false,
            transport_done: false,
            failure: None,
            last: None,
            deferred: VecDeque::new(),
            pending_send: None,
            close_asked: None,
            rtts: VecDeque::new(),
            ping_counter: 0,
        })
    }

    /// Wakes the other half of a split socket: this one changed something it may wait for
    /// (consumed input, freed buffer space), possibly without a transport wake-up.
    fn wake_other(&self, half: Half) {
        if let Wakeup::FanOut { waiters, .. } = &self.wakeup {
            waiters.wake_half(match half {
                Half::Read => Half::Write,
                Half::Write => Half::Read,
            });
        }
    }

    /// A new socket owns the connection: no task has polled it yet.
    pub(crate) fn hand_over(&mut self) {
        self.wakeup = Wakeup::Sole(None);
        self.timer_registered = false;
    }

    /// From now on more than one task may wait on the connection (see [`Wakeup`]).
    pub(crate) fn fan_out(&mut self) {
        let Wakeup::Sole(previous) = &mut self.wakeup else {
            return;
        };
        let previous = previous.take();
        let waiters = Arc::new(Waiters::default());
        self.wakeup = Wakeup::FanOut {
            waker: Waker::from(waiters.clone()),
            waiters,
        };
        self.timer_registered = false;
        // The sources may still hold the previous task's own waker: woken, it polls
        // again and registers with the fan-out waker.
        if let Some(previous) = previous {
            previous.wake();
        }
    }

    /// The fan-out waker to poll the sources with, with `waker` registered for `half`;
    /// `None` while `waker`'s task is the only one that polls, whose own waker will do.
    /// The first time another task polls, switches to fanning out for good.
    fn fan_out_waker(&mut self, waker: &Waker, half: Half) -> Option<Waker> {
        match &mut self.wakeup {
            Wakeup::Sole(Some(owner)) if owner.will_wake(waker) => return None,
            Wakeup::Sole(owner @ None) => {
                *owner = Some(waker.clone());
                return None;
            }
            Wakeup::Sole(Some(_)) => self.fan_out(),
            Wakeup::FanOut { .. } => {}
        }
        let Wakeup::FanOut {
            waiters,
            waker: fan_out,
        } = &self.wakeup
        else {
            unreachable!("fanned out above");
        };
        waiters.register(half, waker);
        Some(fan_out.clone())
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
            Message::Prepared(prepared) => self.endpoint.send_prepared(prepared),
            Message::Close(frame) => {
                // The close timeout counts from the request, however long the message
                // before it waited.
                let asked = self.close_asked.unwrap_or_else(now);
                self.endpoint.close(frame.code, &frame.reason, asked)
            }
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

/// What one drive step did.
#[derive(Clone, Copy, Default)]
struct Progress {
    /// A timer fired, input was processed or the transport closed: there may be events.
    events: bool,
    /// Output was written.
    output: bool,
}

impl Progress {
    fn any(self) -> bool {
        self.events || self.output
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// One pass over the timer, the output and the input. Every source that made no
    /// progress is registered with a waker that wakes `half`'s task (its own, or the
    /// fan-out waker), so when nothing happened that task will be woken.
    fn drive(&mut self, cx: &Context<'_>, half: Half, read: Read) -> Result<Progress, Error> {
        let fan_out = self.fan_out_waker(cx.waker(), half);
        if self.transport_done {
            return Ok(Progress::default());
        }
        let waker = fan_out.as_ref().unwrap_or(cx.waker());
        let result = self.drive_io(&mut Context::from_waker(waker), read);
        if result.is_err() {
            // The transport is unusable; what the endpoint still holds cannot be sent.
            self.transport_done = true;
        }
        if !result.as_ref().is_ok_and(|progress| !progress.any()) {
            self.wake_other(half);
        }
        result.map_err(Error::Io)
    }

    fn drive_io(&mut self, cx: &mut Context<'_>, read: Read) -> io::Result<Progress> {
        let mut progress = Progress {
            events: self.poll_timer(cx),
            output: self.poll_output(cx)?,
        };
        progress.events |= self.transport_done;
        let blocked = self.endpoint.transmit_len() > 0 || self.unflushed;
        if !self.transport_done && self.endpoint.wants_read() && (read == Read::Always || blocked) {
            progress.events |= self.poll_input(cx)?;
        }
        Ok(progress)
    }

    /// Notes that the application asked to close (see `close_asked`); returns when it
    /// first did.
    pub(crate) fn ask_close(&mut self) -> Instant {
        *self.close_asked.get_or_insert_with(now)
    }

    /// When a refused message stops holding back a requested close.
    fn pending_send_deadline(&self) -> Option<Instant> {
        let asked = self.close_asked?;
        self.pending_send
            .as_ref()
            .map(|_| asked + self.endpoint.config().close_timeout)
    }

    /// The earliest of the endpoint's deadline, the buffer release and the end of the
    /// wait for a refused message before a close.
    #[inline(always)]
    fn next_deadline(&self) -> Option<Instant> {
        // Asked on every pass: two comparisons rather than an iterator over an array.
        #[inline(always)]
        fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        earliest(
            earliest(self.endpoint.poll_timeout(), self.release_at),
            self.pending_send_deadline(),
        )
    }

    /// Fires the endpoint's timers that are due and the buffer release, and arms the one
    /// `Sleep` for the next.
    ///
    /// Asked on every pass, about twice per message: the common case (the deadline is
    /// the armed one, which has not elapsed) is checked inline, the rest out of line.
    #[inline(always)]
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = self.next_deadline();
        if deadline.is_none()
            || (self.timer_registered && self.armed == deadline && !self.timer.is_elapsed())
        {
            return false;
        }
        self.fire_and_arm_timer(cx)
    }

    /// [`poll_timer`](Conn::poll_timer) past its common case: fires what is due, then
    /// arms and registers the timer for the next deadline.
    #[inline(never)]
    fn fire_and_arm_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Some(deadline) = self.next_deadline() {
            if self.armed != Some(deadline) {
                self.timer
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(deadline));
                self.armed = Some(deadline);
                self.timer_registered = false;
            }
            if self.timer_registered && !self.timer.is_elapsed() {
                break;
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                self.timer_registered = true;
                break;
            }
            self.timer_registered = false;
            let now = now();
            if self.endpoint.poll_timeout().is_some_and(|d| d <= now) {
                self.endpoint.handle_timeout(now);
                progress = true;
            }
            if self.release_at.is_some_and(|d| d <= now) {
                self.check_idle(now);
            }
            if self.pending_send_deadline().is_some_and(|d| d <= now) {
                // The peer read nothing for the whole close timeout: the message is
                // dropped so that the close can go ahead (and time out in its turn).
                self.pending_send = None;
                progress = true;
            }
            if self.next_deadline() == Some(deadline) {
                break; // Not consumed (cannot happen): do not spin on it.
            }
        }
        progress
    }

    /// The release deadline passed: give the buffers back if no input came since it was
    /// set, else look again later.
    fn check_idle(&mut self, now: Instant) {
        if std::mem::take(&mut self.input_since_release_check) {
            self.release_at = Some(now + IDLE_RELEASE);
        } else {
            self.endpoint.shrink_buffers();
            self.lean = true;
            self.frame_hint = MIN_READ;
            self.release_at = None;
        }
    }

    /// Writes queued output with vectored writes until done or blocked, then closes the
    /// transport if the endpoint says so.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let mut progress = false;
        while self.endpoint.transmit_len() > 0 && !self.endpoint.should_close_transport() {
            let io = &mut self.io;
            let written = self
                .endpoint
                .with_transmit_slices(|slices| Pin::new(io).poll_write_vectored(cx, slices));
            match written {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.endpoint.advance_transmit(n);
                    progress = true;
                    self.unflushed = true;
                    self.events_since_write = 0;
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

    /// Reads once, straight into the endpoint's buffer, and processes every frame
    /// received. The read size doubles while reads fill the buffer, up to `MAX_READ`.
    ///
    /// A connection that is not busy (just opened, or idle for `IDLE_RELEASE`) holds no
    /// buffer while it waits: its reads go to the stack, copying in only what arrived,
    /// and a read that finds nothing gives the endpoint's empty buffers back. Data after
    /// the handshake makes it busy: reads go straight into a kept buffer until the
    /// connection has been idle for `IDLE_RELEASE`.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        // Room for the rest of a frame whose header is here, so that one read can take it
        // (capped: a peer's length field alone does not make us allocate much).
        let missing = self.endpoint.frame_bytes_missing().min(MAX_READ);
        let buf = self.endpoint.receive_buffer();
        let (read, spare) = if self.lean {
            let mut stack = [MaybeUninit::<u8>::uninit(); MIN_READ];
            let mut stack = ReadBuf::uninit(&mut stack);
            let read = Pin::new(&mut self.io)
                .poll_read(cx, &mut stack)
                .map_ok(|()| {
                    buf.extend_from_slice(stack.filled());
                    stack.filled().len()
                });
            (read, MIN_READ)
        } else {
            if missing > 0 {
                self.frame_hint = (buf.len() + missing).clamp(MIN_READ, MAX_READ);
            }
            let want = missing.max(self.frame_hint);
            if buf.capacity() - buf.len() < want {
                buf.reserve(self.read_size.max(want));
            }
            let spare = buf.capacity() - buf.len();
            (
                tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, buf),
                spare,
            )
        };
        match read {
            Poll::Ready(Ok(0)) => self.endpoint.handle_eof(now()),
            Poll::Ready(Ok(n)) => {
                if self.endpoint.ready_state() == ReadyState::Open {
                    self.lean = false;
                }
                self.input_since_release_check = true;
                self.read_size = if n == spare {
                    (self.read_size * 2).min(MAX_READ)
                } else {
                    MIN_READ
                };
                if n < self.frame_hint / 2 {
                    // Small frames again: a large buffer for each read would only let
                    // one small message that the application keeps pin all of it.
                    self.frame_hint = MIN_READ;
                }
                self.endpoint.handle_received(now());
            }
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => {
                if self.lean {
                    self.endpoint.shrink_buffers();
                } else if self.release_at.is_none() {
                    // Checked once a period, not per read: a clock read and a timer
                    // reset cost more than a busy connection should pay per message.
                    self.release_at = Some(now() + IDLE_RELEASE);
                    self.input_since_release_check = false;
                    // Arm the timer now: this drive step has already polled it.
                    return Ok(self.poll_timer(cx));
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
        if self.events_since_write >= WRITE_AFTER_EVENTS {
            self.write_early(cx, half)?;
        }
        loop {
            if let Some(event) = self.endpoint.poll_event() {
                self.events_since_write = self.events_since_write.saturating_add(1);
                return Poll::Ready(Ok(Some(event)));
            }
            if self.transport_done {
                return Poll::Ready(Ok(None));
            }
            // Output written alone brings no event: waiting is safe once input and the
            // timer are registered, and saves a pass per message.
            if !self.drive(cx, half, Read::Always)?.events {
                return Poll::Pending;
            }
        }
    }

    /// Writes what is queued before more events are taken (reading only if the write is
    /// blocked, as a send does). Out of line: it runs once per `WRITE_AFTER_EVENTS`
    /// events, and kept apart it leaves `poll_event` small enough to be inlined.
    #[inline(never)]
    fn write_early(&mut self, cx: &Context<'_>, half: Half) -> Result<(), Error> {
        if self.endpoint.transmit_len() > 0 && !self.transport_done {
            self.drive(cx, half, Read::IfBlocked)?;
        }
        Ok(())
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
                    if self.transport_done {
                        // No room will ever come: the message is lost with the transport.
                        return Poll::Ready(Err(Error::Closed));
                    }
                    self.pending_send = Some(message);
                    if !self.drive(cx, half, Read::IfBlocked)?.any() {
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
            if !self.drive(cx, half, Read::IfBlocked)?.any() {
                return Poll::Pending;
            }
        }
    }

    /// Sink `poll_close`: sends a close frame (1000) unless one was sent, and drives the
    /// connection until the transport is closed.
    pub(crate) fn poll_close(&mut self, cx: &Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        let asked = self.ask_close();
        ready!(self.poll_ready(cx, half))?;
        if self.endpoint.ready_state() == ReadyState::Open {
            // Only fails when a close frame was already sent: nothing to do then.
            let _ = self
                .endpoint
                .close(ws_endpoint::CloseCode::NORMAL, "", asked);
        }
        // Events are left for `recv`; only the transport's end matters here.
        while !self.transport_done {
            if !self.drive(cx, half, Read::Always)?.any() {
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
