//! What a [`WebSocket`](crate::WebSocket) needs from its byte stream beyond `Read + Write`.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A blocking byte stream the WebSocket runs on.
///
/// The read timeout is how the blocking adapter keeps the endpoint's timers (heartbeat,
/// close and idle timeouts) running while it waits for input, so a transport must support
/// one. Implemented for [`TcpStream`], [`ClientStream`], and with the `rustls` feature for
/// `tls::TlsStream`; for another stream, delegate to the socket underneath.
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

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown()
    }
}

/// The transport of a client connection from [`connect`](crate::connect): plain TCP for
/// `ws://`, TLS for `wss://` (with the `rustls` feature).
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`, or `ws://` through an `https://` proxy (boxed: a TLS session is large,
    /// and most connections are not TLS).
    #[cfg(feature = "rustls")]
    Rustls(Box<crate::tls::ClientTlsStream>),
    /// `wss://` through an `https://` proxy: TLS with the server inside TLS with the proxy.
    #[cfg(feature = "rustls")]
    RustlsInTls(Box<crate::tls::ClientTlsInTlsStream>),
}

/// Forwards a call to the variant's stream.
macro_rules! forward {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            ClientStream::Plain($s) => $call,
            #[cfg(feature = "rustls")]
            ClientStream::Rustls($s) => $call,
            #[cfg(feature = "rustls")]
            ClientStream::RustlsInTls($s) => $call,
        }
    };
}

impl Read for ClientStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        forward!(self, s => s.read(buf))
    }
}

impl Write for ClientStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        forward!(self, s => s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        forward!(self, s => s.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        forward!(self, s => s.flush())
    }
}

impl Transport for ClientStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        forward!(self, s => Transport::set_read_timeout(s, timeout))
    }

    fn shutdown(&mut self) -> io::Result<()> {
        forward!(self, s => Transport::shutdown(s))
    }
}
