//! Client and server over real loopback sockets.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::{
    Answer, ClientStream, CloseCode, Config, ConnectOptions, Error, Message, PreparedMessage,
    WebSocket,
};

/// Every test gives up after this long rather than hang.
const LIMIT: Duration = Duration::from_secs(20);

/// A listener on 127.0.0.1 and the `ws://` URL for it.
async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/test", listener.local_addr().unwrap());
    (listener, url)
}

/// Spawns a server that accepts one connection with `config` and echoes data messages.
async fn echo_server(config: Config) -> String {
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws_tokio::accept_with_config(tcp, config, |_| Answer::accept())
            .await
            .unwrap();
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() {
                ws.feed(message).await.unwrap();
            }
        }
    });
    url
}

async fn client(url: &str, config: Config) -> WebSocket<ClientStream> {
    ConnectOptions::new(url)
        .unwrap()
        .config(config)
        .connect()
        .await
        .unwrap()
        .0
}

async fn next<S>(ws: &mut WebSocket<S>) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(LIMIT, ws.recv())
        .await
        .expect("no message in time")
        .expect("connection ended")
        .expect("connection failed")
}

fn no_deflate() -> Config {
    let mut config = Config::default();
    config.extensions = ws_extensions::Extensions::new();
    config
}

#[tokio::test]
async fn echoes_text_binary_and_large_messages() {
    for config in [Config::default(), no_deflate()] {
        let url = echo_server(config.clone()).await;
        let mut ws = client(&url, config).await;
        ws.send(Message::text("hello")).await.unwrap();
        assert_eq!(next(&mut ws).await, Message::text("hello"));
        ws.send(Message::binary(vec![0, 1, 2, 255])).await.unwrap();
        assert_eq!(next(&mut ws).await, Message::binary(vec![0, 1, 2, 255]));
        // Larger than any one read or write: many syscalls each way.
        let large: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        ws.send(Message::binary(large.clone())).await.unwrap();
        assert_eq!(next(&mut ws).await, Message::binary(large));
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        let last = tokio::time::timeout(LIMIT, ws.recv()).await.unwrap();
        assert!(
            matches!(&last, Some(Ok(Message::Close(frame))) if frame.code == CloseCode::NORMAL),
            "{last:?}"
        );
        assert!(ws.recv().await.is_none());
    }
}

#[tokio::test]
async fn compresses_when_both_sides_agree() {
    let url = echo_server(Config::default()).await;
    let (mut ws, response) = ConnectOptions::new(&url).unwrap().connect().await.unwrap();
    let agreed = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .expect("an extension agreed");
    assert!(agreed.to_str().unwrap().starts_with("permessage-deflate"));
    let text = "compressible ".repeat(10_000);
    ws.send(Message::text(text.clone())).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text(text));
}

#[tokio::test]
async fn a_prepared_message_reaches_every_client() {
    let (listener, url) = listen().await;
    let text = "to everyone at once, ".repeat(500);
    let update = PreparedMessage::text(text.clone());
    let server_update = update.clone();
    tokio::spawn(async move {
        let mut members = Vec::new();
        for _ in 0..3 {
            let (tcp, _) = listener.accept().await.unwrap();
            members.push(ws_tokio::accept(tcp).await.unwrap());
        }
        for ws in &mut members {
            ws.send(Message::Prepared(server_update.clone()))
                .await
                .unwrap();
        }
        for ws in &mut members {
            while let Some(Ok(_)) = ws.recv().await {}
        }
    });
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(client(&url, Config::default()).await);
    }
    for ws in &mut clients {
        assert_eq!(next(ws).await, Message::text(text.clone()));
        // A client sends one too (masked, so it is copied).
        ws.send(Message::Prepared(update.clone())).await.unwrap();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    }
}

#[tokio::test]
async fn many_fed_messages_arrive_in_order() {
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, Config::default()).await;
    for i in 0..1000 {
        ws.feed(Message::text(i.to_string())).await.unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..1000 {
        assert_eq!(next(&mut ws).await, Message::text(i.to_string()));
    }
}

#[tokio::test]
async fn stream_and_sink() {
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, Config::default()).await;
    SinkExt::send(&mut ws, Message::text("via sink"))
        .await
        .unwrap();
    let got = tokio::time::timeout(LIMIT, StreamExt::next(&mut ws))
        .await
        .unwrap();
    assert_eq!(got.unwrap().unwrap(), Message::text("via sink"));
}

#[tokio::test]
async fn split_halves_work_from_two_tasks() {
    let url = echo_server(Config::default()).await;
    let ws = client(&url, Config::default()).await;
    let (mut read, mut write) = ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..200u32 {
            write
                .send(Message::binary(i.to_be_bytes().to_vec()))
                .await
                .unwrap();
        }
        let rtt = write.ping().await.unwrap();
        assert!(rtt < LIMIT);
        write
    });
    let reader = tokio::spawn(async move {
        let mut next = 0u32;
        while next < 200 {
            match tokio::time::timeout(LIMIT, read.recv()).await.unwrap() {
                Some(Ok(Message::Binary(data))) => {
                    assert_eq!(data, Bytes::from(next.to_be_bytes().to_vec()));
                    next += 1;
                }
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
        // The writer's ping needs its pong read: keep reading until the connection ends.
        while let Some(item) = tokio::time::timeout(LIMIT, read.recv()).await.unwrap() {
            item.unwrap();
        }
    });
    let mut write = tokio::time::timeout(LIMIT, writer).await.unwrap().unwrap();
    write.close(CloseCode::NORMAL, "").await.unwrap();
    tokio::time::timeout(LIMIT, reader).await.unwrap().unwrap();
}

/// An unsplit socket shared by two tasks through `futures`' own `split` (a lock, not our
/// halves): the writer, blocked on a full send buffer, polls the input too, and must not
/// take the reader's wake-up when a message arrives.
#[tokio::test]
async fn an_unsplit_socket_polled_from_two_tasks_wakes_both() {
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws_tokio::accept(tcp).await.unwrap();
        // Not reading yet: the client's sends fill the buffers and block.
        tokio::time::sleep(Duration::from_millis(300)).await;
        ws.send(Message::text("hello")).await.unwrap();
        while let Some(Ok(_)) = ws.recv().await {}
    });
    let mut config = no_deflate();
    config.max_queued_bytes = 64 * 1024;
    let (mut sink, mut stream) = StreamExt::split(client(&url, config).await);
    let reader = tokio::spawn(async move {
        // Not `timeout`, which polls the stream once more when time is up.
        tokio::select! {
            biased;
            () = tokio::time::sleep(LIMIT) => None,
            item = stream.next() => item,
        }
    });
    let writer = tokio::spawn(async move {
        let chunk = Bytes::from(vec![3u8; 64 * 1024]);
        for _ in 0..512 {
            sink.feed(Message::Binary(chunk.clone())).await.unwrap();
        }
        sink.flush().await.unwrap();
    });
    let got = reader.await.unwrap().expect("the reader was never woken");
    assert_eq!(got.unwrap(), Message::text("hello"));
    tokio::time::timeout(LIMIT, writer).await.unwrap().unwrap();
}

#[tokio::test]
async fn split_halves_reunite_only_with_their_own() {
    let url = echo_server(Config::default()).await;
    let (mut read, mut write) = client(&url, Config::default()).await.split();
    let other_url = echo_server(Config::default()).await;
    let (other_read, other_write) = client(&other_url, Config::default()).await.split();

    // Halves of two sockets are refused, and given back unharmed.
    let ws_tokio::ReuniteError(returned_read, returned_write) =
        read.reunite(other_write).unwrap_err();
    read = returned_read;
    let other = other_read.reunite(returned_write).unwrap();
    drop(other);

    // The same connection: the echo of a message sent by the write half arrives on it.
    write.send(Message::text("before")).await.unwrap();
    let mut ws = read.reunite(write).unwrap();
    assert_eq!(next(&mut ws).await, Message::text("before"));
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("after"));
}

#[tokio::test]
async fn recv_is_cancel_safe_in_select() {
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, Config::default()).await;
    for i in 0..100 {
        ws.feed(Message::text(format!("{i}"))).await.unwrap();
    }
    ws.flush().await.unwrap();
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut tick = tokio::time::interval(Duration::from_micros(50));
    while received.len() < 100 && tokio::time::Instant::now() < deadline {
        // The tick often wins, dropping a `recv` future that may have read bytes already.
        tokio::select! {
            message = ws.recv() => received.push(message.unwrap().unwrap()),
            _ = tick.tick() => {}
        }
    }
    let expected: Vec<Message> = (0..100).map(|i| Message::text(format!("{i}"))).collect();
    assert_eq!(received, expected);
}

#[tokio::test]
async fn ping_reports_the_round_trip_time() {
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, Config::default()).await;
    let rtt = tokio::time::timeout(LIMIT, ws.ping())
        .await
        .unwrap()
        .unwrap();
    assert!(rtt < LIMIT);
    // The pong is also delivered as a message.
    assert!(matches!(next(&mut ws).await, Message::Pong(_)));
}

#[tokio::test]
async fn rejected_handshake_returns_the_response() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        ws_tokio::accept_with(tcp, |request| {
            assert_eq!(request.request().uri().path(), "/test");
            Answer::reject(
                http::Response::builder()
                    .status(403)
                    .body(b"go away".to_vec())
                    .unwrap(),
            )
        })
        .await
    });
    match ws_tokio::connect(&url).await {
        Err(Error::Rejected(response)) => {
            assert_eq!(response.status(), 403);
            assert_eq!(response.body(), b"go away");
        }
        other => panic!("{other:?}"),
    }
    let refused = server.await.unwrap();
    assert!(
        matches!(refused, Err(Error::Refused(status)) if status == 403),
        "{refused:?}"
    );
}

#[tokio::test]
async fn accept_callback_chooses_protocol_and_headers() {
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = ws_tokio::accept_with(tcp, |request| {
            assert_eq!(request.protocols(), ["a", "b"]);
            Answer::accept()
                .protocol("b")
                .header(http::header::SET_COOKIE, "k=v".parse().unwrap())
        })
        .await
        .unwrap();
        assert_eq!(ws.protocol(), Some("b"));
    });
    let (ws, response) = ConnectOptions::new(&url)
        .unwrap()
        .protocol("a")
        .protocol("b")
        .connect()
        .await
        .unwrap();
    assert_eq!(ws.protocol(), Some("b"));
    assert_eq!(response.headers()[http::header::SET_COOKIE], "k=v");
}

#[tokio::test]
async fn heartbeat_fails_a_peer_that_stops_answering() {
    let (listener, url) = listen().await;
    let mut config = Config::default();
    config.ping_interval = Some(Duration::from_millis(50));
    config.pong_timeout = Duration::from_millis(100);
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws_tokio::accept_with_config(tcp, config, |_| Answer::accept())
            .await
            .unwrap();
        // Only recv: the heartbeat runs inside it.
        let mut last = None;
        while let Some(item) = ws.recv().await {
            last = Some(item);
        }
        last
    });
    // A client that completes the handshake and then never reads again.
    let (ws, _) = ws_tokio::connect(&url).await.unwrap();
    let last = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    match last {
        Some(Err(Error::Connection { error, close_code })) => {
            assert_eq!(error, ws_endpoint::ConnectionError::PongTimeout);
            assert_eq!(close_code, CloseCode::INTERNAL_ERROR);
        }
        other => panic!("{other:?}"),
    }
    drop(ws);
}

#[tokio::test]
async fn send_waits_when_the_peer_stops_reading() {
    let (listener, url) = listen().await;
    // The server accepts and then never reads.
    let (hold_tx, hold_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = ws_tokio::accept(tcp).await.unwrap();
        let _ = hold_rx.await;
        drop(ws);
    });
    let mut config = no_deflate();
    config.max_queued_bytes = 64 * 1024;
    let mut ws = client(&url, config).await;
    let chunk = Bytes::from(vec![7u8; 16 * 1024]);
    let mut sent = 0usize;
    // Sends until one blocks: the kernel buffers fill, then the endpoint's queue.
    loop {
        let send = ws.feed(Message::Binary(chunk.clone()));
        match tokio::time::timeout(Duration::from_millis(300), send).await {
            Ok(result) => result.unwrap(),
            Err(_) => break,
        }
        sent += chunk.len();
        assert!(sent < 256 << 20, "send never waited");
    }
    // Memory stays bounded: what is queued is the limit plus one message at most.
    assert!(ws.endpoint().transmit_len() <= 64 * 1024 + chunk.len());
    drop(hold_tx);
}

#[tokio::test]
async fn streams_a_large_message_in_fragments() {
    let mut config = Config::default();
    config.streaming_receive = true;
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, config).await;
    let piece = Bytes::from(vec![b'x'; 100_000]);
    for i in 0..10 {
        ws.feed(Message::Fragment {
            kind: ws_tokio::MessageKind::Text,
            data: piece.clone(),
            last: i == 9,
        })
        .await
        .unwrap();
    }
    ws.flush().await.unwrap();
    let mut total = 0;
    loop {
        match next(&mut ws).await {
            Message::Fragment { data, last, .. } => {
                assert!(data.iter().all(|&b| b == b'x'));
                total += data.len();
                if last {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(total, 1_000_000);
}

#[tokio::test]
async fn plain_http_request_gets_426() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        ws_tokio::accept(tcp).await
    });
    let addr = url.trim_start_matches("ws://").trim_end_matches("/test");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(LIMIT, tcp.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    assert!(matches!(server.await.unwrap(), Err(Error::Refused(_))));
}

#[tokio::test]
async fn upgrade_of_a_request_parsed_elsewhere() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        // Plays the HTTP server (hyper): reads the head, answers it itself.
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            assert!(head.len() < 16 * 1024);
            head.push(tcp.read_u8().await.unwrap());
        }
        let limits = ws_handshake::Limits::default();
        let (incoming, _) = ws_handshake::Incoming::parse(&head, &limits)
            .unwrap()
            .unwrap();
        let ws_handshake::Incoming::Upgrade(request) = incoming else {
            panic!("plain request");
        };
        let (response, upgrading) =
            ws_tokio::upgrade(request.into_request(), Config::default(), Answer::accept()).unwrap();
        let mut bytes = Vec::new();
        ws_handshake::encode_response(&response.map(|()| []), &mut bytes);
        tcp.write_all(&bytes).await.unwrap();
        let mut ws = upgrading.into_websocket(tcp);
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let (mut ws, response) = ws_tokio::connect(&url).await.unwrap();
    assert!(
        response
            .headers()
            .contains_key(http::header::SEC_WEBSOCKET_EXTENSIONS)
    );
    ws.send(Message::text("upgraded ".repeat(100)))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::text("upgraded ".repeat(100)));
}

#[test]
fn upgrade_refuses_a_plain_request() {
    let request = http::Request::builder()
        .uri("/")
        .header("host", "x")
        .body(())
        .unwrap();
    let result = ws_tokio::upgrade(request, Config::default(), Answer::accept());
    assert!(matches!(result, Err(Error::NotUpgrade)), "{result:?}");
}

#[tokio::test]
async fn an_idle_connection_gives_its_buffers_back() {
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, Config::default()).await;
    // A burst: the sends coalesce into one buffer of ~50 KB, the echoes grow the reads.
    let payload = Bytes::from(vec![5; 500]);
    for _ in 0..100 {
        ws.feed(Message::Binary(payload.clone())).await.unwrap();
    }
    ws.flush().await.unwrap();
    for _ in 0..100 {
        assert_eq!(next(&mut ws).await, Message::Binary(payload.clone()));
    }
    // Reads that find nothing for a second (the server sends nothing more) give the
    // buffers back, checked once a second: within two. A busy connection keeps them.
    let busy = tokio::time::timeout(Duration::from_millis(300), ws.recv()).await;
    assert!(busy.is_err(), "the server sent {busy:?}");
    assert!(ws.endpoint().buffer_capacity() > 0);
    let idle = tokio::time::timeout(Duration::from_millis(2000), ws.recv()).await;
    assert!(idle.is_err(), "the server sent {idle:?}");
    assert_eq!(ws.endpoint().buffer_capacity(), 0);
    // And the connection still works.
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("after"));
}

#[tokio::test]
async fn connect_refuses_unusable_urls() {
    let refused = ws_tokio::connect("http://127.0.0.1:1/").await;
    assert!(
        matches!(
            &refused,
            Err(Error::Usage(ws_handshake::UsageError::UnsupportedScheme(s))) if s == "http"
        ),
        "{refused:?}"
    );
    let refused = ws_tokio::connect("ws://me:secret@not a url/").await;
    assert!(
        matches!(
            &refused,
            Err(Error::Usage(ws_handshake::UsageError::InvalidUrl { url, .. }))
                if url == "ws://***@not a url/"
        ),
        "{refused:?}"
    );
    // Refused by `ConnectOptions::new` already, before anything is connected.
    let refused = ws_tokio::ConnectOptions::new("wss://:9001/path");
    assert!(
        matches!(
            &refused,
            Err(Error::Usage(ws_handshake::UsageError::MissingHost))
        ),
        "{refused:?}"
    );
    let refused = ws_tokio::ConnectOptions::new("https://127.0.0.1:1/");
    assert!(
        matches!(
            &refused,
            Err(Error::Usage(ws_handshake::UsageError::UnsupportedScheme(s))) if s == "https"
        ),
        "{refused:?}"
    );
    // Refused before any connection is tried (nothing listens on port 1).
    #[cfg(not(feature = "rustls"))]
    assert!(matches!(
        ws_tokio::connect("wss://127.0.0.1:1/").await,
        Err(Error::TlsNotEnabled)
    ));
}

#[tokio::test]
async fn a_connection_never_busy_waits_holding_no_buffers() {
    let url = echo_server(Config::default()).await;
    let mut ws = client(&url, Config::default()).await;
    let idle = tokio::time::timeout(Duration::from_millis(100), ws.recv()).await;
    assert!(idle.is_err(), "the server sent {idle:?}");
    assert_eq!(ws.endpoint().buffer_capacity(), 0);
}

/// An in-memory transport that logs the room offered to each read that brought data,
/// counts the writes, and
/// takes `budget` bytes of writes, then fails every write (`fail`) or makes it wait for
/// ever, as on a socket whose peer stalled and whose buffers are full.
struct Limited {
    inner: tokio::io::DuplexStream,
    budget: usize,
    fail: bool,
    reads: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
    writes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Limited {
    fn new(inner: tokio::io::DuplexStream, budget: usize, fail: bool) -> Limited {
        Limited {
            inner,
            budget,
            fail,
            reads: Default::default(),
            writes: Default::default(),
        }
    }
}

impl tokio::io::AsyncRead for Limited {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let (before, room) = (buf.filled().len(), buf.remaining());
        let read = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.reads.lock().unwrap().push(room);
        }
        read
    }
}

impl tokio::io::AsyncWrite for Limited {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.budget == 0 && self.fail {
            return std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
        }
        if self.budget == 0 {
            return std::task::Poll::Pending; // Never ready again.
        }
        let n = buf.len().min(self.budget);
        let written = std::pin::Pin::new(&mut self.inner).poll_write(cx, &buf[..n]);
        if let std::task::Poll::Ready(Ok(n)) = written {
            self.budget -= n;
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn close_is_bounded_when_the_peer_stops_reading() {
    let mut config = Config::default();
    config.close_timeout = Duration::from_millis(300);
    config.max_queued_bytes = 64 * 1024;
    let (mut ws, server) = over_limited_transport(256 * 1024, false, config).await;
    // Send until sends wait: the first one's bytes stay queued, and the next message,
    // refused for want of room, waits in the socket ahead of the close frame.
    let chunk = noise(128 * 1024);
    let mut blocked = 0;
    for _ in 0..16 {
        let send = ws.send(Message::Binary(chunk.clone()));
        match tokio::time::timeout(Duration::from_millis(200), send).await {
            Ok(sent) => sent.unwrap(),
            Err(_) if blocked == 1 => break,
            Err(_) => blocked += 1,
        }
    }
    assert_eq!(blocked, 1, "the peer never pushed back");
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await;
    assert!(closed.is_ok(), "close waited for the peer to read");
    // The message may hold the close back for one close timeout, the close frame wait
    // for its answer in the same one: both count from the request.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    server.abort();
}

/// A client over a [`Limited`] transport to a server that accepts, then reads nothing.
async fn over_limited_transport(
    budget: usize,
    fail: bool,
    config: Config,
) -> (WebSocket<Limited>, tokio::task::JoinHandle<()>) {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        let ws = ws_tokio::accept(server_io).await.unwrap();
        tokio::time::sleep(LIMIT).await;
        drop(ws);
    });
    let ws = client_on(Limited::new(client_io, budget, fail), config).await;
    (ws, server)
}

/// A client over `io`, an in-memory transport (the URL only names the host).
async fn client_on<S>(io: S, config: Config) -> WebSocket<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ConnectOptions::new("ws://peer.invalid/")
        .unwrap()
        .config(config)
        .connect_on(io)
        .await
        .unwrap()
        .0
}

/// Bytes deflate cannot shrink (zeros would leave as a few bytes).
fn noise(len: usize) -> Bytes {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn a_send_after_the_transport_failed_is_an_error_not_a_wait() {
    let mut config = Config::default();
    config.max_queued_bytes = 64 * 1024;
    let (mut ws, server) = over_limited_transport(200 * 1024, true, config).await;
    // The first failure leaves bytes queued, so the next message waits for room that
    // can no longer come: it must fail rather than wait.
    let chunk = noise(128 * 1024);
    let mut errors = 0;
    for _ in 0..6 {
        let sent = tokio::time::timeout(LIMIT, ws.send(Message::Binary(chunk.clone()))).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => errors += 1,
            Err(_) => panic!("a send waited on a failed transport"),
        }
    }
    assert!(errors >= 2, "{errors}");
    server.abort();
}

#[tokio::test]
async fn frames_the_size_of_the_last_large_one_take_one_read_each() {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let server_io = Limited::new(server_io, usize::MAX, false);
    let reads = server_io.reads.clone();
    tokio::spawn(async move {
        let mut ws = ws_tokio::accept(server_io).await.unwrap();
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() {
                ws.feed(message).await.unwrap();
            }
        }
    });
    let mut ws = client_on(client_io, no_deflate()).await;
    let handshake_reads = reads.lock().unwrap().len();
    // One at a time, so that each read can bring one frame at most. The first frame
    // takes a read for its header and one for the rest; the next ones fit.
    let message = Message::Binary(noise(16 * 1024));
    for _ in 0..20 {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(next(&mut ws).await, message);
    }
    let frame_reads = reads.lock().unwrap().len() - handshake_reads;
    assert!(frame_reads <= 22, "{frame_reads} reads for 20 frames");
}

#[tokio::test]
async fn replies_to_a_pipelined_burst_leave_before_the_burst_is_handled() {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let server_io = Limited::new(server_io, usize::MAX, false);
    let writes = server_io.writes.clone();
    let (burst_tx, burst_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let mut ws = ws_tokio::accept(server_io).await.unwrap();
        let _ = burst_rx.await;
        let handshake_writes = writes.load(std::sync::atomic::Ordering::Relaxed);
        // The README's echo loop: replies are queued with `feed`.
        let mut echoed = 0;
        while let Some(Ok(message)) = ws.recv().await {
            ws.feed(message).await.unwrap();
            echoed += 1;
            if echoed == 64 {
                ws.flush().await.unwrap();
                break;
            }
        }
        writes.load(std::sync::atomic::Ordering::Relaxed) - handshake_writes
    });
    let mut ws = client_on(client_io, no_deflate()).await;
    // 64 messages in one write: the server's first read takes them all.
    for i in 0..64u8 {
        ws.feed(Message::binary(vec![i; 16])).await.unwrap();
    }
    ws.flush().await.unwrap();
    burst_tx.send(()).unwrap();
    for i in 0..64u8 {
        assert_eq!(next(&mut ws).await, Message::binary(vec![i; 16]));
    }
    // One write per 16 replies while the burst is handled, not one at its end.
    let writes = server.await.unwrap();
    assert!(writes >= 4, "{writes} writes for 64 replies");
}

#[tokio::test]
async fn reads_shrink_back_once_frames_are_small_again() {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let mut ws = ws_tokio::accept(server_io).await.unwrap();
        while let Some(Ok(message)) = ws.recv().await {
            if message.is_data() {
                ws.feed(message).await.unwrap();
            }
        }
    });
    let client_io = Limited::new(client_io, usize::MAX, false);
    let reads = client_io.reads.clone();
    let mut ws = client_on(client_io, no_deflate()).await;
    // Large echoes make the client's reads room for a whole 16 KiB frame...
    let large = Message::Binary(noise(16 * 1024));
    for _ in 0..3 {
        ws.send(large.clone()).await.unwrap();
        assert_eq!(next(&mut ws).await, large);
    }
    let small_from = reads.lock().unwrap().len();
    // ...but not once they are small again, one per read: the reads then go on in the
    // buffer's remaining room instead of asking for a whole large frame's room each
    // time, which with messages the application keeps would pin a large buffer each.
    let small = Message::Binary(noise(1000));
    let mut kept = Vec::new();
    for _ in 0..40 {
        ws.send(small.clone()).await.unwrap();
        kept.push(next(&mut ws).await);
    }
    assert!(kept.iter().all(|message| *message == small));
    let reads = reads.lock().unwrap();
    let smallest_room = reads[small_from..].iter().min().copied();
    assert!(
        smallest_room < Some(16 * 1024 + 4),
        "room offered to the small reads: {:?}",
        &reads[small_from..]
    );
}
