//! Client and server over 127.0.0.1: echo, compression, the accept callback, heartbeat.
//! Every wait is bounded (read timeouts in the endpoint's config, channel timeouts here).

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ws_endpoint::{CloseCode, Config};
use ws_handshake::{ClientBuilder, UsageError};
use ws_std::{Decision, Error, Message};

mod support;

/// Listens on a free port and runs `serve` on the first connection; returns the URL.
fn serve<T: Send + 'static>(
    serve: impl FnOnce(std::net::TcpStream) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/chat", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || serve(listener.accept().unwrap().0));
    (url, handle)
}

/// An echo server with `config`; returns how its connection ended.
fn echo_server(config: Config) -> (String, JoinHandle<Result<(), Error>>) {
    serve(move |stream| {
        let mut ws = ws_std::accept(stream, config)?;
        while let Some(message) = ws.recv()? {
            ws.send(message)?;
        }
        Ok(())
    })
}

fn no_compression() -> Config {
    let mut config = Config::default();
    config.extensions = ws_extensions::Extensions::new();
    config
}

/// Compressible but not trivial: 4 MiB of counting text.
fn large_text() -> String {
    (0..)
        .map(|i: u32| format!("{i} "))
        .flat_map(|s| s.into_bytes())
        .take(4 << 20)
        .map(char::from)
        .collect()
}

fn echo_round_trip(client_config: Config, server_config: Config, compressed: bool) {
    let (url, server) = echo_server(server_config);
    let mut ws = ws_std::connect(&url, client_config).unwrap();
    assert_eq!(!ws.opened().extensions.is_empty(), compressed);
    let messages = [
        Message::text("hello"),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::text(""),
        Message::text(large_text()),
        Message::binary(vec![7u8; 3 << 20]),
    ];
    for message in messages {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.recv().unwrap(), Some(message));
    }
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(ws.close_info().unwrap().clean);
    assert_eq!(ws.recv().unwrap(), None);
    server.join().unwrap().unwrap();
}

#[test]
fn echo_compressed() {
    echo_round_trip(Config::default(), Config::default(), true);
}

#[test]
fn echo_uncompressed() {
    echo_round_trip(no_compression(), Config::default(), false);
}

#[test]
fn a_prepared_message_reaches_every_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/room", listener.local_addr().unwrap());
    let text = "to everyone at once, ".repeat(500);
    let update = ws_endpoint::PreparedMessage::text(text.clone());
    let server_update = update.clone();
    let server = std::thread::spawn(move || -> Result<(), Error> {
        let mut members = Vec::new();
        for _ in 0..2 {
            members.push(ws_std::accept(listener.accept()?.0, Config::default())?);
        }
        for ws in &mut members {
            ws.send(Message::Prepared(server_update.clone()))?;
        }
        for ws in &mut members {
            while ws.recv()?.is_some() {}
        }
        Ok(())
    });
    let mut clients: Vec<_> = (0..2)
        .map(|_| ws_std::connect(&url, Config::default()).unwrap())
        .collect();
    for ws in &mut clients {
        assert!(!ws.opened().extensions.is_empty());
        assert_eq!(ws.recv().unwrap(), Some(Message::text(text.clone())));
        // A client sends one too (masked, so it is copied).
        ws.send(Message::Prepared(update.clone())).unwrap();
        ws.close(CloseCode::NORMAL, "").unwrap();
    }
    server.join().unwrap().unwrap();
}

#[test]
fn streamed_message_is_reassembled() {
    let (url, server) = echo_server(Config::default());
    let mut ws = ws_std::connect(&url, Config::default()).unwrap();
    let kind = ws_endpoint::MessageKind::Text;
    for (data, last) in [("str", false), ("eam", false), ("ed", true)] {
        let data = bytes::Bytes::from_static(data.as_bytes());
        ws.send(Message::Fragment { kind, data, last }).unwrap();
    }
    assert_eq!(ws.recv().unwrap(), Some(Message::text("streamed")));
    ws.close(CloseCode::NORMAL, "").unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn callback_rejects() {
    let (url, server) = serve(|stream| {
        ws_std::accept_with(stream, Config::default(), |request| {
            assert_eq!(request.request().uri().path(), "/chat");
            let mut response = http::Response::new(b"go away".to_vec());
            *response.status_mut() = http::StatusCode::FORBIDDEN;
            Decision::Reject(response)
        })
        .map(|_| ())
    });
    match ws_std::connect(&url, Config::default()) {
        Err(Error::Rejected(response)) => {
            assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
            assert_eq!(response.body(), b"go away");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(matches!(server.join().unwrap(), Err(Error::Refused(s)) if s == 403));
}

#[test]
fn callback_chooses_protocol_and_headers() {
    let (url, server) = serve(|stream| {
        let ws = ws_std::accept_with(stream, Config::default(), |request| {
            assert_eq!(request.protocols(), ["v1", "v2"]);
            let mut headers = http::HeaderMap::new();
            headers.insert("x-served-by", http::HeaderValue::from_static("ws-std"));
            Decision::AcceptWith {
                protocol: Some("v2".into()),
                headers,
            }
        })
        .unwrap();
        ws.opened().protocol.clone()
    });
    let stream =
        std::net::TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches("/chat"))
            .unwrap();
    let request = ClientBuilder::new(url.parse().unwrap())
        .protocol("v1")
        .protocol("v2");
    let ws = ws_std::client(stream, request, Config::default()).unwrap();
    let opened = ws.opened();
    assert_eq!(opened.protocol.as_deref(), Some("v2"));
    let response = opened.response.as_ref().unwrap();
    assert_eq!(response.headers()["x-served-by"], "ws-std");
    assert_eq!(server.join().unwrap().as_deref(), Some("v2"));
}

#[test]
fn heartbeat_closes_a_silent_peer() {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_millis(100));
    config.pong_timeout = Duration::from_millis(200);
    let (done_tx, done_rx) = mpsc::channel();
    let (url, _server) = serve(move |stream| {
        let mut ws = ws_std::accept(stream, config).unwrap();
        let started = Instant::now();
        let result = ws.recv();
        done_tx.send((result, started.elapsed())).unwrap();
    });
    // The client never calls `recv`, so it never answers the server's pings.
    let _client = ws_std::connect(&url, Config::default()).unwrap();
    support::assert_pong_timeout(&done_rx);
}

#[test]
fn connect_refuses_unusable_urls() {
    let refused = ws_std::connect("http://127.0.0.1:1/", Config::default());
    assert!(
        matches!(&refused, Err(Error::Usage(UsageError::UnsupportedScheme(s))) if s == "http"),
        "{refused:?}"
    );
    for url in ["ws:///path", "not a url"] {
        let refused = ws_std::connect(url, Config::default());
        let Err(Error::Usage(UsageError::InvalidUrl { url: shown, .. })) = &refused else {
            panic!("{url}: {refused:?}");
        };
        assert_eq!(shown, url);
    }
    // The error names the URL without its password.
    let refused = ws_std::connect("ws://me:secret@not a url/", Config::default());
    let Err(Error::Usage(UsageError::InvalidUrl { url, .. })) = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(url, "ws://***@not a url/");
    // Refused before any connection is tried (nothing listens on port 1).
    #[cfg(not(feature = "rustls"))]
    assert!(matches!(
        ws_std::connect("wss://127.0.0.1:1/", Config::default()),
        Err(Error::TlsNotEnabled)
    ));
}

#[test]
fn a_refused_connection_is_an_io_error() {
    // Nothing listens on port 1; with and without a connect timeout.
    for timeout in [Some(Duration::from_secs(5)), None] {
        let refused = ws_std::ConnectOptions::new("ws://127.0.0.1:1/")
            .unwrap()
            .connect_timeout(timeout)
            .connect();
        assert!(
            matches!(&refused, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "{timeout:?}: {refused:?}"
        );
    }
}

/// A TCP stream that counts its writes.
struct CountingWrites {
    tcp: std::net::TcpStream,
    writes: Arc<AtomicUsize>,
}

impl Read for CountingWrites {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.read(buf)
    }
}

impl Write for CountingWrites {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.tcp.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.tcp.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

impl ws_std::Transport for CountingWrites {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_read_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        ws_std::Transport::shutdown(&mut self.tcp)
    }
}

#[test]
fn fed_replies_to_a_pipelined_burst_leave_before_the_burst_is_handled() {
    let (burst_tx, burst_rx) = mpsc::channel();
    let (url, server) = serve(move |tcp| {
        let writes = Arc::new(AtomicUsize::new(0));
        let stream = CountingWrites {
            tcp,
            writes: writes.clone(),
        };
        let mut ws = ws_std::accept(stream, no_compression()).unwrap();
        burst_rx.recv_timeout(support::LIMIT).unwrap();
        let handshake_writes = writes.load(Ordering::Relaxed);
        for _ in 0..64 {
            let message = ws.recv().unwrap().unwrap();
            ws.feed(message).unwrap();
        }
        ws.flush().unwrap();
        writes.load(Ordering::Relaxed) - handshake_writes
    });
    let mut ws = ws_std::connect(&url, no_compression()).unwrap();
    // 64 messages in one write: the server's first read takes them all.
    for i in 0..64u8 {
        ws.feed(Message::binary(vec![i; 16])).unwrap();
    }
    ws.flush().unwrap();
    burst_tx.send(()).unwrap();
    for i in 0..64u8 {
        assert_eq!(ws.recv().unwrap(), Some(Message::binary(vec![i; 16])));
    }
    // One write per 16 replies while the burst is handled, not one at its end.
    let writes = server.join().unwrap();
    assert!(writes >= 4, "{writes} writes for 64 replies");
}

#[test]
fn a_plain_http_request_is_refused_with_400() {
    let (url, server) = serve(|stream| ws_std::accept(stream, Config::default()).map(|_| ()));
    let addr = url.trim_start_matches("ws://").trim_end_matches("/chat");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(b"GET /chat HTTP/1.1\r\nHost: example\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let refused = server.join().unwrap();
    assert!(
        matches!(refused, Err(Error::Refused(s)) if s == 400),
        "{refused:?}"
    );
}
