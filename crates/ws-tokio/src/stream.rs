//! The transport `connect` opens: TCP, TLS over TCP, or TLS inside TLS (`wss://` through
//! an `https://` proxy).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The transport of a client connection from [`connect`](crate::connect): plain TCP for
/// `ws://`, TLS for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`, or `ws://` through an `https://` proxy (boxed: a TLS session is large, and
    /// most connections are not TLS).
    #[cfg(feature = "rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// `wss://` through an `https://` proxy: TLS with the server inside TLS with the proxy.
    #[cfg(feature = "rustls")]
    RustlsInTls(Box<TlsInTls>),
}

/// TLS with the server inside TLS with an `https://` proxy.
#[cfg(feature = "rustls")]
type TlsInTls = tokio_rustls::client::TlsStream<tokio_rustls::client::TlsStream<TcpStream>>;

/// Forwards a call to the variant's stream.
macro_rules! forward {
    ($self:ident, $s:ident => $call:expr) => {
        match $self.get_mut() {
            ClientStream::Plain($s) => $call,
            #[cfg(feature = "rustls")]
            ClientStream::Rustls($s) => $call,
            #[cfg(feature = "rustls")]
            ClientStream::RustlsInTls($s) => $call,
        }
    };
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        forward!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        forward!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        forward!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ClientStream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            ClientStream::Rustls(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            ClientStream::RustlsInTls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
