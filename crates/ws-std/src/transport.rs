//! What a [`WebSocket`](crate::WebSocket) needs from its byte stream beyond `Read + Write`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A blocking byte stream the WebSocket runs on.
///
/// The read timeout is how the blocking adapter keeps the endpoint's timers (heartbeat,
/// close and idle timeouts) running while it waits for input, so a transport must support
/// one. Implemented for [`TcpStream`]; implement it for a TLS stream by delegating to the
/// socket underneath.
pub trait Transport: Read + Write {
    /// Makes a `read` that waits longer than `timeout` fail with `WouldBlock` or
    /// `TimedOut`; `None` waits forever. Same contract as
    /// [`TcpStream::set_read_timeout`].
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;

    /// Ends the connection in both directions, once everything was written.
    fn shutdown(&mut self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
    }
}
