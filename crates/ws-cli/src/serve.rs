//! `ws serve`: an echo server, or a chat room with `--broadcast`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http::header::SEC_WEBSOCKET_EXTENSIONS;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use ws_tokio::tls::TlsAcceptor;
use ws_tokio::{Answer, CloseCode, CloseFrame, Config, Message, PreparedMessage, WebSocket};

use crate::cli::ServeArgs;
use crate::error::CliError;

/// How long a chat client may keep its send buffer (`Config::max_queued_bytes`) full
/// before it is dropped with 1013 (it is not reading, and the room will not wait for
/// it), and how long its close may then take.
const SLOW_CLIENT: Duration = Duration::from_secs(5);

/// Pause after a failed `accept` (out of file descriptors): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

pub(crate) fn run(args: ServeArgs) -> Result<(), CliError> {
    crate::runtime(args.threads)?.block_on(serve(args))
}

/// What every connection handler needs.
struct Server {
    config: Config,
    room: Option<Room>,
    /// permessage-deflate is accepted when offered.
    compression: bool,
    quiet: bool,
}

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(crate::tls::acceptor(cert, key)?),
        _ => None,
    };
    let mut config = crate::endpoint_config(&args.limits, !args.no_compression);
    config.protocols = args.protocols.clone();
    let server = Arc::new(Server {
        config,
        room: args.broadcast.then(|| Room::new(args.room_queue as usize)),
        compression: !args.no_compression,
        quiet: args.quiet,
    });

    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: args.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| CliError::Bind {
        addr: args.addr,
        source,
    })?;
    // Scripts wait for this line before connecting.
    println!("listening on {local}");
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept: {error}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Replies are already batched into one write per input batch; Nagle only delays.
        let _ = tcp.set_nodelay(true);
        let server = server.clone();
        let tls = tls.clone();
        tokio::spawn(async move { server.route(tcp, peer, tls).await });
    }
}

/// How a connection ended.
enum End {
    /// The close handshake completed; the peer's code and reason.
    Closed(CloseFrame),
    /// The connection failed (protocol error, limit, I/O).
    Failed(ws_tokio::Error),
    /// The transport ended without a close frame.
    Lost,
    /// (Chat) we dropped this client for falling behind.
    Dropped(String),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Closed(frame) if frame.reason.is_empty() => write!(f, "closed {}", frame.code),
            End::Closed(frame) => write!(f, "closed {}: {}", frame.code, frame.reason),
            End::Failed(error) => write!(f, "failed: {error}"),
            End::Lost => write!(f, "lost without a close frame ({})", CloseCode::ABNORMAL),
            End::Dropped(why) => write!(f, "dropped with {}: {why}", CloseCode::TRY_AGAIN_LATER),
        }
    }
}

impl Server {
    fn log(&self, line: std::fmt::Arguments<'_>) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// Sends an accepted connection to the HTTP/1.1 or the HTTP/2 server: by ALPN after
    /// TLS, by the connection preface without. Both steps before a handshake starts are
    /// bounded by `Config::handshake_timeout` too, so a client that connects and stays
    /// silent does not hold a task for ever.
    async fn route(self: Arc<Self>, tcp: TcpStream, peer: SocketAddr, tls: Option<TlsAcceptor>) {
        let limit = self.config.handshake_timeout.unwrap_or(Duration::MAX);
        let Some(tls) = tls else {
            match tokio::time::timeout(limit, is_http2_preface(&tcp)).await {
                Ok(true) => self.serve_http2(tcp, peer).await,
                Ok(false) => self.handle(tcp, peer).await,
                Err(_) => self.log(format_args!("{peer} sent nothing: handshake timed out")),
            }
            return;
        };
        match tokio::time::timeout(limit, tls.accept(tcp)).await {
            Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(b"h2") => {
                self.serve_http2(stream, peer).await;
            }
            Ok(Ok(stream)) => self.handle(stream, peer).await,
            Ok(Err(error)) => self.log(format_args!("{peer} TLS handshake failed: {error}")),
            Err(_) => self.log(format_args!("{peer} TLS handshake timed out")),
        }
    }

    async fn handle<S: AsyncRead + AsyncWrite + Unpin>(&self, io: S, peer: SocketAddr) {
        // A chat client joins before its handshake completes, so that it sees every
        // message sent once it could know it is connected.
        let member = self.room.as_ref().map(Room::join);
        let mut path = String::new();
        let mut deflate = false;
        let accepted = ws_tokio::accept_with_config(io, self.config.clone(), |request| {
            if !self.quiet {
                path = request.request().uri().path().to_owned();
                deflate = self.compression
                    && request
                        .extensions()
                        .iter()
                        .any(|offer| offer.starts_with("permessage-deflate"));
            }
            Answer::accept()
        })
        .await;
        match accepted {
            Ok(ws) => self.session(ws, peer, &path, deflate, member, "").await,
            Err(error) => self.log(format_args!("{peer} handshake failed: {error}")),
        }
    }

    /// An open WebSocket's life: echo or chat until it ends, logged. `over` names a
    /// transport other than the connection's own (an HTTP/2 stream).
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut ws: WebSocket<S>,
        peer: SocketAddr,
        path: &str,
        deflate: bool,
        member: Option<Member>,
        over: &str,
    ) {
        self.log(format_args!(
            "{peer} open {path}{over} protocol={} compression={}",
            ws.protocol().unwrap_or("-"),
            if deflate {
                "permessage-deflate"
            } else {
                "none"
            },
        ));
        let end = match member {
            None => echo(&mut ws).await,
            Some(member) => member.chat(&mut ws).await,
        };
        self.log(format_args!("{peer} {end}"));
    }

    /// An HTTP/2 connection (ALPN `h2` after TLS, or the preface without): each extended
    /// CONNECT on it (RFC 8441) is a WebSocket on a stream of its own; any other request
    /// gets a short page, so that a browser can load one and then open its WebSockets on
    /// the same connection.
    async fn serve_http2<S>(self: Arc<Self>, io: S, peer: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let service = hyper::service::service_fn(move |request| {
            let answer = server.clone().answer_http2(request, peer);
            async move { Ok::<_, Infallible>(answer) }
        });
        // The request head is bounded as an HTTP/1.1 one is; each stream's WebSocket has
        // the configured limits of its own.
        let max_head = u32::try_from(self.config.handshake_limits.max_head_bytes);
        let served = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .enable_connect_protocol()
            .max_header_list_size(max_head.unwrap_or(u32::MAX))
            .serve_connection(TokioIo::new(io), service)
            .await;
        if let Err(error) = served {
            // Browsers drop spare connections without a GOAWAY: not always a failure.
            self.log(format_args!("{peer} HTTP/2 connection ended: {error}"));
        }
    }

    /// The answer to one request on an HTTP/2 connection; an accepted WebSocket runs on a
    /// task of its own once hyper hands over the stream.
    fn answer_http2(
        self: Arc<Self>,
        mut request: hyper::Request<hyper::body::Incoming>,
        peer: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let protocol = request.extensions().get::<hyper::ext::Protocol>();
        let Some(protocol) = protocol.map(|protocol| protocol.as_str().to_owned()) else {
            return text_response(StatusCode::OK, HTTP2_PAGE);
        };
        let on_upgrade = hyper::upgrade::on(&mut request);
        let (parts, _body) = request.into_parts();
        let path = parts.uri.path().to_owned();
        let head = http::Request::from_parts(parts, ());
        let answer = Answer::accept();
        match ws_tokio::upgrade_extended_connect(head, &protocol, self.config.clone(), answer) {
            Ok((response, upgrading)) => {
                let deflate = response.headers().contains_key(SEC_WEBSOCKET_EXTENSIONS);
                // Joined now, before the 200 goes out, as an HTTP/1.1 client joins before
                // its 101.
                let member = self.room.as_ref().map(Room::join);
                tokio::spawn(async move {
                    match on_upgrade.await {
                        Ok(upgraded) => {
                            let ws = upgrading.into_websocket(TokioIo::new(upgraded));
                            let over = " (HTTP/2 stream)";
                            self.session(ws, peer, &path, deflate, member, over).await;
                        }
                        Err(error) => self.log(format_args!("{peer} upgrade failed: {error}")),
                    }
                });
                response.map(|()| Full::default())
            }
            Err(ws_tokio::Error::BadRequest(error)) => {
                self.log(format_args!("{peer} handshake failed: {error}"));
                text_response(error.status(), &format!("{error}\n"))
            }
            Err(error) => {
                self.log(format_args!("{peer} handshake failed: {error}"));
                text_response(StatusCode::INTERNAL_SERVER_ERROR, "")
            }
        }
    }
}

/// Whether a plain-TCP client opened with the HTTP/2 connection preface (prior
/// knowledge, RFC 9113 §3.3) rather than an HTTP/1.1 request: its first four bytes, peeked
/// so that either server still reads them. One peek, which waits for the first data only:
/// the preface comes in one segment in practice, and a client whose first segment is
/// shorter is answered as HTTP/1.1 (waiting for more here could be made to spin).
async fn is_http2_preface(tcp: &TcpStream) -> bool {
    let mut start = [0; 4];
    matches!(tcp.peek(&mut start).await, Ok(4) if &start == b"PRI ")
}

/// What a plain HTTP/2 request gets.
const HTTP2_PAGE: &str = "This is a WebSocket server: HTTP/1.1 upgrades, and extended CONNECT \
    over HTTP/2 (RFC 8441).\n";

/// A plain-text response.
fn text_response(status: StatusCode, text: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The echo loop. Replies are fed, not sent: `recv` writes everything queued before it
/// waits for input, so the replies to a burst of messages leave in one write.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<S>) -> End {
    while let Some(item) = ws.recv().await {
        match item {
            Ok(Message::Close(frame)) => return End::Closed(frame),
            Ok(message) if message.is_data() => match ws.feed(message).await {
                // The peer's close frame came in the same read as this message and is
                // answered already: no more data may be sent, and `recv` completes the
                // close handshake.
                Ok(()) | Err(ws_tokio::Error::Closed) => {}
                Err(error) => return End::Failed(error),
            },
            Ok(_) => {}
            Err(error) => return End::Failed(error),
        }
    }
    End::Lost
}

/// The chat room: one bounded ring of recent messages that every member reads. A member
/// that falls more than the ring's length behind is dropped, so a slow reader costs the
/// room nothing but its own buffers.
struct Room {
    ring: broadcast::Sender<(u64, Message)>,
    next_id: AtomicU64,
}

/// One client's place in the room.
struct Member {
    ring: broadcast::Sender<(u64, Message)>,
    id: u64,
    inbox: broadcast::Receiver<(u64, Message)>,
}

impl Room {
    fn new(capacity: usize) -> Room {
        Room {
            ring: broadcast::channel(capacity).0,
            next_id: AtomicU64::new(0),
        }
    }

    fn join(&self) -> Member {
        Member {
            ring: self.ring.clone(),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            inbox: self.ring.subscribe(),
        }
    }
}

impl Member {
    async fn chat<S: AsyncRead + AsyncWrite + Unpin>(mut self, ws: &mut WebSocket<S>) -> End {
        loop {
            tokio::select! {
                item = ws.recv() => match item {
                    Some(Ok(Message::Close(frame))) => return End::Closed(frame),
                    Some(Ok(message)) if message.is_data() => {
                        // No receiver means nobody else is here: nothing to deliver.
                        let _ = self.ring.send((self.id, prepared(message)));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return End::Failed(error),
                    None => return End::Lost,
                },
                delivery = self.inbox.recv() => match delivery {
                    Ok((from, _)) if from == self.id => {}
                    Ok((_, message)) => {
                        match tokio::time::timeout(SLOW_CLIENT, ws.feed(message)).await {
                            // Closed: `recv` completes the close handshake.
                            Ok(Ok(()) | Err(ws_tokio::Error::Closed)) => {}
                            Ok(Err(error)) => return End::Failed(error),
                            Err(_) => return drop_slow(ws, "not reading").await,
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        return drop_slow(ws, &format!("{missed} messages behind")).await;
                    }
                    // The room lives as long as the server.
                    Err(RecvError::Closed) => return End::Lost,
                },
            }
        }
    }
}

/// A message for every member: compressed once per kind of connection in the room (most
/// often one), not once per member.
fn prepared(message: Message) -> Message {
    match message {
        Message::Text(text) => Message::Prepared(PreparedMessage::text(text)),
        Message::Binary(data) => Message::Prepared(PreparedMessage::binary(data)),
        other => other,
    }
}

/// Closes a client that cannot keep up with 1013 (try again later), or just drops the
/// connection if even the close frame cannot get out (its send buffer is full). `close`
/// alone would give up after `Config::close_timeout` (10 s by default); a client the room
/// has already waited `SLOW_CLIENT` for gets no more than that again.
async fn drop_slow<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<S>, why: &str) -> End {
    // The outcome changes nothing: the client is gone either way.
    let _ = tokio::time::timeout(
        SLOW_CLIENT,
        ws.close(CloseCode::TRY_AGAIN_LATER, "too slow"),
    )
    .await;
    End::Dropped(why.to_owned())
}
