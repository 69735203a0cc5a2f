//! `ws serve` and `ws connect` against each other through pipes, as a script uses them.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::{Certificate, Server, Spawned, TIMEOUT, run, ws};

/// `ws connect` (with `connect_flags`) to a `ws serve` (with `serve_flags`) through
/// pipes: each line of `lines` is written to the client's stdin and its echo awaited on
/// stdout, then stdin is closed. Returns the client's stderr and the server's log.
fn echo_through_pipes(
    serve_flags: &[&str],
    connect_flags: &[&str],
    lines: &[&str],
) -> (String, String) {
    let server = Server::start(serve_flags);
    let url = server.url("ws");
    let mut args = vec!["connect", url.as_str()];
    args.extend_from_slice(connect_flags);
    let mut client = Spawned::start(ws(&args));
    for line in lines {
        client.send(&format!("{line}\n"));
        assert_eq!(client.next_line(), *line);
    }
    let finished = client.wait();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "", "{finished:?}");
    // The server logs the close after the client saw it: wait for it.
    server.wait_log("closed 1000");
    (finished.stderr, server.log())
}

/// `echo hi | ws connect URL`: the lines and the end of input arrive together.
#[test]
fn burst_then_end_of_input() {
    let server = Server::start(&[]);
    let finished = run(&["connect", &server.url("ws")], "hello\nworld\n");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "hello\nworld\n");
}

/// A message and the close frame after it, arriving in one read: the echo must go out
/// before the answer to the close (RFC 6455 §5.5.1 lets a server finish first).
#[test]
fn echo_precedes_the_answer_to_a_close() {
    let server = Server::start(&["--no-compression"]);
    let mut tcp = raw_client(server.addr);
    // Text "hi", then close 1000, masked with a zero key so the payloads read as they are.
    tcp.write_all(&[
        0x81, 0x82, 0, 0, 0, 0, b'h', b'i', 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8,
    ])
    .unwrap();
    let mut reply = Vec::new();
    tcp.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, [0x81, 0x02, b'h', b'i', 0x88, 0x02, 0x03, 0xe8]);
}

#[test]
fn echo_with_compression() {
    let long = "compressible text ".repeat(10_000);
    let (client, server) = echo_through_pipes(&[], &[], &["hello", "", &long, "world"]);
    assert!(
        client.contains("extensions: permessage-deflate"),
        "{client}"
    );
    assert!(
        server.contains("compression=permessage-deflate"),
        "{server}"
    );
}

#[test]
fn echo_without_compression() {
    let (client, server) = echo_through_pipes(&[], &["--no-compression"], &["hello"]);
    assert!(client.contains("extensions: none"), "{client}");
    assert!(server.contains("compression=none"), "{server}");

    let (client, server) = echo_through_pipes(&["--no-compression"], &[], &["hello"]);
    assert!(client.contains("extensions: none"), "{client}");
    assert!(server.contains("compression=none"), "{server}");
}

#[test]
fn subprotocol_is_the_servers_first_choice_the_client_offers() {
    let (client, server) = echo_through_pipes(
        &["--protocol", "v2.chat", "--protocol", "v1.chat"],
        &["--protocol", "v1.chat", "--protocol", "v2.chat"],
        &["hi"],
    );
    assert!(client.contains("protocol: v2.chat"), "{client}");
    assert!(server.contains("protocol=v2.chat"), "{server}");
}

#[test]
fn empty_input_closes_cleanly() {
    let (client, _) = echo_through_pipes(&[], &[], &[]);
    assert!(client.contains("connected to"), "{client}");
}

#[test]
fn broadcast_reaches_every_other_client() {
    let server = Server::start(&["--broadcast"]);
    let url = server.url("ws");
    let start_client = || {
        let client = Spawned::start(ws(&["connect", &url]));
        client.wait_stderr("connected to");
        client
    };
    let mut alice = start_client();
    let mut bob = start_client();
    let mut carol = start_client();

    alice.send("from alice\n");
    assert_eq!(bob.next_line(), "from alice");
    assert_eq!(carol.next_line(), "from alice");
    bob.send("from bob\n");
    assert_eq!(alice.next_line(), "from bob");
    assert_eq!(carol.next_line(), "from bob");
    // Long enough to be compressed (both ends offer permessage-deflate by default): one
    // compressed payload for everyone.
    let long = "all together now, ".repeat(100);
    alice.send(&format!("{long}\n"));
    assert_eq!(bob.next_line(), long);
    assert_eq!(carol.next_line(), long);

    carol.close_stdin();
    let carol = carol.wait();
    assert_eq!(carol.code(), Some(0), "{carol:?}");
    // Nobody hears their own messages back.
    for client in [alice, bob] {
        let finished = client.wait();
        assert_eq!(finished.code(), Some(0), "{finished:?}");
        assert_eq!(finished.stdout, "", "{finished:?}");
    }
}

/// A CONNECT proxy for one connection: answers 200, then forwards bytes both ways to
/// the requested address, or to `forward_to` whatever the request names (so a test can
/// name hosts that resolve nowhere). Returns its URL and the request head it read.
fn forwarding_proxy(
    forward_to: Option<std::net::SocketAddr>,
) -> (String, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://me:pw@{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0];
            client.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let target = head.split(' ').nth(1).unwrap().to_owned();
        let mut server = match forward_to {
            Some(addr) => TcpStream::connect(addr).unwrap(),
            None => TcpStream::connect(target).unwrap(),
        };
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let (mut client_in, mut server_out) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        let upstream = std::thread::spawn(move || {
            let _ = std::io::copy(&mut client_in, &mut server_out);
            let _ = server_out.shutdown(std::net::Shutdown::Write);
        });
        let _ = std::io::copy(&mut server, &mut client);
        let _ = client.shutdown(std::net::Shutdown::Write);
        let _ = upstream.join();
        head
    });
    (url, thread)
}

#[test]
fn through_a_proxy() {
    let server = Server::start(&[]);
    let (proxy, head) = forwarding_proxy(None);
    let mut client = Spawned::start(ws(&["connect", "--proxy", &proxy, &server.url("ws")]));
    client.send("via proxy\n");
    assert_eq!(client.next_line(), "via proxy");
    let finished = client.wait();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    let head = head.join().unwrap();
    assert!(
        head.starts_with(&format!("CONNECT {} HTTP/1.1\r\n", server.addr)),
        "{head}"
    );
    assert!(
        head.contains("proxy-authorization: Basic bWU6cHc=\r\n"),
        "{head}"
    );
}

/// Opens a WebSocket to `addr` by hand (no compression offered) and returns the socket
/// after the 101, for tests that need a peer misbehaving in a precise way.
fn raw_client(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

#[test]
fn broadcast_drops_a_client_that_does_not_read() {
    let server = Server::start(&["--broadcast", "--room-queue", "8"]);
    let _stalled = raw_client(server.addr);
    let mut sender = Spawned::start(ws(&["connect", &server.url("ws")]));
    sender.wait_stderr("connected to");
    // More than the stalled client's socket buffers and send queue (4 MiB) can hold.
    let line = format!("{}\n", "x".repeat(64 * 1024));
    for _ in 0..200 {
        sender.send(&line);
    }
    server.wait_log("dropped with 1013 (try again later)");
    let finished = sender.wait();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
}

/// A server on 127.0.0.1 that sends `payloads` as binary messages to each of
/// `connections` clients, then waits for the client to close.
fn binary_server(connections: usize, payloads: &'static [&'static [u8]]) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for _ in 0..connections {
            let (tcp, _) = listener.accept().unwrap();
            let mut ws = ws_std::accept(tcp, ws_endpoint::Config::default()).unwrap();
            for payload in payloads {
                let message = ws_std::Message::Binary(bytes::Bytes::from_static(payload));
                ws.send(message).unwrap();
            }
            // Until the client's close (or an error): its answer is sent meanwhile.
            while let Ok(Some(_)) = ws.recv() {}
        }
    });
    addr
}

#[test]
fn binary_messages_print_as_hex_or_go_to_a_file() {
    const PAYLOADS: &[&[u8]] = &[&[0xde, 0xad, 0xbe, 0xef], &[0x00, 0x0f]];
    let addr = binary_server(2, PAYLOADS);
    let url = format!("ws://{addr}/");

    let finished = run(&["connect", &url], "");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "deadbeef\n000f\n");

    let dir = std::env::temp_dir().join(format!("ws-cli-binary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("received.bin");
    let _ = std::fs::remove_file(&file);
    let finished = run(
        &["connect", &url, "--binary-to", file.to_str().unwrap()],
        "",
    );
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        [0xde, 0xad, 0xbe, 0xef, 0x00, 0x0f]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_environment_names_the_proxy() {
    let server = Server::start(&[]);
    let (proxy, head) = forwarding_proxy(Some(server.addr));
    // A name that resolves nowhere: only the proxy can reach it.
    let url = format!("ws://echo.example:{}/", server.addr.port());
    let mut command = ws(&["connect", &url]);
    // Lowercase names take precedence over whatever uppercase ones the machine sets.
    command.env("http_proxy", &proxy).env("no_proxy", "");
    let mut client = Spawned::start(command);
    client.send("via the environment\n");
    assert_eq!(client.next_line(), "via the environment");
    let finished = client.wait();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    let head = head.join().unwrap();
    let connect = format!("CONNECT echo.example:{} HTTP/1.1\r\n", server.addr.port());
    assert!(head.starts_with(&connect), "{head}");
}

#[test]
fn loopback_does_not_go_through_the_environment_proxy() {
    let server = Server::start(&[]);
    // Nothing listens there: going through it would fail.
    let proxy = format!("http://127.0.0.1:{}", crate::support::free_port());
    let mut command = ws(&["connect", &server.url("ws")]);
    command.env("http_proxy", &proxy).env("no_proxy", "");
    let mut client = Spawned::start(command);
    client.send("direct\n");
    assert_eq!(client.next_line(), "direct");
    let finished = client.wait();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
}

#[test]
fn connect_and_serve_over_http2_with_tls_and_without() {
    // TLS: ALPN chooses h2, and the WebSocket is one stream of that connection.
    let certificate = Certificate::generate("http2");
    let server = Server::start(&["--cert", &certificate.cert, "--key", &certificate.key]);
    let url = server.url("wss");
    let line = "over HTTP/2 ".repeat(20);
    let finished = run(
        &[
            "connect",
            "--http2",
            "--insecure",
            "--protocol",
            "chat",
            &url,
        ],
        &format!("{line}\nsecond\n"),
    );
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, format!("{line}\nsecond\n"));
    assert!(
        finished.stderr.contains("extensions: permessage-deflate"),
        "{finished:?}"
    );
    server.wait_log("(HTTP/2 stream) protocol=- compression=permessage-deflate");

    // Without TLS: HTTP/2 with prior knowledge, told apart from HTTP/1.1 by its preface;
    // the same server still takes HTTP/1.1 upgrades.
    let plain = Server::start(&["--protocol", "chat"]);
    let finished = run(&["connect", "--http2", &plain.url("ws")], "plain h2\n");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert_eq!(finished.stdout, "plain h2\n");
    plain.wait_log("(HTTP/2 stream) protocol=- compression=permessage-deflate");
    let finished = run(&["connect", &plain.url("ws")], "plain h1\n");
    assert_eq!(finished.stdout, "plain h1\n", "{finished:?}");
}

#[test]
fn http2_refusals_are_clear() {
    let finished = run(
        &[
            "connect",
            "--http2",
            "--proxy",
            "http://127.0.0.1:1",
            "ws://a.example/",
        ],
        "",
    );
    assert_eq!(finished.code(), Some(2), "{finished:?}");
    assert!(
        finished.stderr.contains("cannot be used with"),
        "{finished:?}"
    );

    // A proxy from the environment is not skipped silently.
    let mut command = ws(&["connect", "--http2", "ws://echo.example/"]);
    command
        .env("http_proxy", "http://127.0.0.1:1")
        .env("no_proxy", "");
    let finished = Spawned::start(command).wait();
    assert_eq!(finished.code(), Some(1), "{finished:?}");
    assert!(
        finished.stderr.contains("--http2 connects directly"),
        "{finished:?}"
    );

    // A server that is not HTTP/2: it closes at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let closer = std::thread::spawn(move || drop(listener.accept()));
    let finished = run(&["connect", "--http2", &url], "");
    closer.join().unwrap();
    assert_eq!(finished.code(), Some(1), "{finished:?}");
    assert!(
        finished.stderr.contains("HTTP/2 with 127.0.0.1"),
        "{finished:?}"
    );
}

#[test]
fn a_silent_client_is_dropped_after_the_handshake_timeout() {
    let certificate = Certificate::generate("silent");
    for tls in [false, true] {
        let mut flags = vec!["--handshake-timeout", "0.3"];
        if tls {
            flags.extend(["--cert", &certificate.cert, "--key", &certificate.key]);
        }
        let server = Server::start(&flags);
        let addr = server.url("ws");
        let addr = addr.trim_start_matches("ws://").trim_end_matches('/');
        // Connects, says nothing (not even a TLS hello): the server hangs up on its own.
        let mut silent = TcpStream::connect(addr).unwrap();
        silent.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0; 16];
        let read = silent.read(&mut buf);
        assert!(matches!(read, Ok(0)), "tls={tls}: {read:?}");
        let logged = if tls {
            "TLS handshake timed out"
        } else {
            "sent nothing: handshake timed out"
        };
        server.wait_log(logged);
    }
}

#[test]
fn http2_to_a_tls_server_that_does_not_negotiate_it_says_so() {
    use std::sync::Arc;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::{ServerConfig, ServerConnection, StreamOwned};

    // A TLS server without ALPN, as an HTTP/1.1-only server is.
    let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der());
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![generated.cert.der().clone()],
            PrivateKeyDer::Pkcs8(key),
        )
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        let connection = ServerConnection::new(Arc::new(config)).unwrap();
        // The handshake completes in this read; then the client gives up and closes.
        let _ = StreamOwned::new(connection, tcp).read(&mut [0; 1]);
    });
    let finished = run(&["connect", "--http2", "--insecure", &url], "");
    server.join().unwrap();
    assert_eq!(finished.code(), Some(1), "{finished:?}");
    assert!(
        finished
            .stderr
            .contains("127.0.0.1 did not agree to HTTP/2 (ALPN chose none)"),
        "{finished:?}"
    );
}
