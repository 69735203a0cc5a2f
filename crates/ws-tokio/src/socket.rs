//! The socket types: [`WebSocket`] and its split halves, with `Stream` and `Sink`.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use ws_endpoint::{CloseCode, Endpoint, ReadyState};

use crate::conn::{Conn, Half};
use crate::{CloseFrame, Error, Message};

/// An open WebSocket connection over a transport `S` (a `TcpStream`, a TLS stream, an
/// upgraded hyper connection, anything `AsyncRead + AsyncWrite + Unpin`).
///
/// The connection makes progress while one of its futures is polled: [`recv`](Self::recv)
/// (or the `Stream` impl) reads, answers pings, runs the heartbeat and the close timeout;
/// [`send`](Self::send) (or the `Sink` impl) writes. There is no background task. A
/// program that only sends should still poll `recv` (or [`split`](Self::split) the socket
/// and read in another task), or pings go unanswered.
///
/// Every method is cancel-safe: the connection's state lives in the socket, not in the
/// futures, so dropping a `recv` future (in `tokio::select!`, under a timeout) loses no
/// message, and dropping a `send` future after it started leaves the message queued.
#[derive(Debug)]
pub struct WebSocket<S> {
    conn: Box<Conn<S>>,
}

impl<S> std::fmt::Debug for Conn<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// A socket over `io` for an endpoint that is open, or will be once its queued
    /// handshake completes.
    pub(crate) fn from_conn(mut conn: Box<Conn<S>>) -> WebSocket<S> {
        conn.hand_over();
        WebSocket { conn }
    }

    /// The next message: `None` once the connection is closed and its transport too.
    ///
    /// A clean close ends with [`Message::Close`] carrying the peer's code; a failure ends
    /// with an error. Pings and pongs are returned too (pings are already answered).
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.conn.poll_recv(cx, Half::Read)).await
    }

    /// Sends `message` and writes everything queued to the transport. Waits while the
    /// send buffer (`Config::max_queued_bytes`) is full.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues `message` without writing it yet: many messages then leave in one write at
    /// the next [`flush`](Self::flush), `send`, or `recv` that has to wait for input or
    /// follows the 16th message handed out since the last write. Waits only while the
    /// send buffer is full.
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.conn.poll_ready(cx, Half::Write)).await?;
        self.conn.start_send(message)
    }

    /// Writes everything queued to the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.conn.poll_flush(cx, Half::Write)).await
    }

    /// Starts the close handshake with `code` and `reason` (at most 123 bytes) and waits
    /// until the transport is closed (at most `Config::close_timeout`). Messages that
    /// arrive meanwhile are dropped; `recv` then returns the peer's close frame.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.ask_close();
        self.feed(Message::Close(CloseFrame {
            code,
            reason: reason.to_owned(),
        }))
        .await?;
        poll_fn(|cx| self.conn.poll_close(cx, Half::Write)).await
    }

    /// Sends a ping and waits for its pong: the round-trip time. Messages that arrive
    /// first are kept for `recv`.
    pub async fn ping(&mut self) -> Result<Duration, Error> {
        let payload = self.conn.next_ping_payload();
        self.send(Message::Ping(payload.clone())).await?;
        poll_fn(|cx| self.conn.poll_pong(cx, Half::Read, &payload)).await
    }

    /// The subprotocol agreed on in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.conn.endpoint.protocol()
    }

    /// Open, closing or closed.
    pub fn ready_state(&self) -> ReadyState {
        self.conn.endpoint.ready_state()
    }

    /// The endpoint, for what this type does not wrap (its configuration, the pending
    /// transmit size).
    pub fn endpoint(&self) -> &Endpoint {
        &self.conn.endpoint
    }

    /// Splits the socket into a read half and a write half for two tasks. They share the
    /// connection under a mutex held only while one of them is polled; the read half
    /// still answers pings (its pongs are written by whichever half runs next).
    /// [`ReadHalf::reunite`] puts them back together.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let mut conn = *self.conn;
        conn.fan_out();
        let shared = Arc::new(Mutex::new(conn));
        (
            ReadHalf {
                shared: shared.clone(),
            },
            WriteHalf { shared },
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().conn.poll_recv(cx, Half::Read)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().conn.poll_ready(cx, Half::Write)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().conn.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().conn.poll_flush(cx, Half::Write)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().conn.poll_close(cx, Half::Write)
    }
}

type Shared<S> = Arc<Mutex<Conn<S>>>;

fn lock<S>(shared: &Shared<S>) -> MutexGuard<'_, Conn<S>> {
    // A panic while polling cannot leave the endpoint half-updated in a way that matters
    // more than losing the connection; go on rather than poison both halves.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The receiving half of a [`WebSocket`], from [`WebSocket::split`]: a `Stream` of
/// messages.
#[derive(Debug)]
pub struct ReadHalf<S> {
    shared: Shared<S>,
}

/// The sending half of a [`WebSocket`], from [`WebSocket::split`]: a `Sink` of messages.
#[derive(Debug)]
pub struct WriteHalf<S> {
    shared: Shared<S>,
}

/// [`ReadHalf::reunite`] was given the halves of two different sockets: here they are back.
#[derive(Debug, thiserror::Error)]
#[error("the read half and the write half come from different sockets")]
pub struct ReuniteError<S>(pub ReadHalf<S>, pub WriteHalf<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next message; as [`WebSocket::recv`]. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| lock(&self.shared).poll_recv(cx, Half::Read)).await
    }

    /// Puts the socket back together from this half and `write`, which must come from the
    /// same [`WebSocket::split`]; otherwise both are given back in the error. Nothing
    /// queued or received is lost.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<WebSocket<S>, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.shared, &write.shared) {
            return Err(ReuniteError(self, write));
        }
        drop(write);
        let conn = Arc::into_inner(self.shared)
            .expect("only the two halves hold the connection, and both are here");
        let conn = conn.into_inner().unwrap_or_else(PoisonError::into_inner);
        Ok(WebSocket::from_conn(Box::new(conn)))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Sends `message` and flushes; as [`WebSocket::send`].
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        poll_fn(|cx| lock(&self.shared).poll_flush(cx, Half::Write)).await
    }

    /// Queues `message` without flushing; as [`WebSocket::feed`].
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_ready(cx, Half::Write)).await?;
        lock(&self.shared).start_send(message)
    }

    /// Starts the close handshake; as [`WebSocket::close`]. The read half then sees the
    /// peer's close frame.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        lock(&self.shared).ask_close();
        self.feed(Message::Close(CloseFrame {
            code,
            reason: reason.to_owned(),
        }))
        .await?;
        poll_fn(|cx| lock(&self.shared).poll_flush(cx, Half::Write)).await
    }

    /// Sends a ping; the round-trip time once its pong arrives, whichever half reads it.
    pub async fn ping(&mut self) -> Result<Duration, Error> {
        let payload = lock(&self.shared).next_ping_payload();
        self.send(Message::Ping(payload.clone())).await?;
        poll_fn(|cx| lock(&self.shared).poll_pong(cx, Half::Write, &payload)).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_recv(cx, Half::Read)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx, Half::Write)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        lock(&self.shared).start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush(cx, Half::Write)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // The close frame goes out; the read half sees the rest of the close handshake.
        let mut conn = lock(&self.shared);
        std::task::ready!(conn.poll_ready(cx, Half::Write))?;
        if conn.endpoint.ready_state() == ReadyState::Open {
            conn.start_send(Message::Close(CloseFrame {
                code: CloseCode::NORMAL,
                reason: String::new(),
            }))?;
        }
        conn.poll_flush(cx, Half::Write)
    }
}
