//! An open endpoint, server or client, fed arbitrary bytes.
//!
//! The first input byte picks the role and a configuration (small limits, streaming
//! receive, whether permessage-deflate is negotiated, its options), the second a piece
//! length; the rest is fed in pieces, interleaved with draining events, echoing messages
//! (so sending under backpressure is exercised; a client masks and compresses), partial
//! writes and timeouts. A server opens from a valid request; a client from a valid
//! extended CONNECT answer (`Endpoint::client_upgraded`), which needs no random key.
//! Checks: no panic, and the endpoint always ends in a defined state: after end of stream
//! and the timers, it is `Closed`, its `Closed` event was the last one, and it asks for the
//! transport to be closed.

#![no_main]

use std::time::{Duration, Instant};

use http::HeaderValue;
use http::header::SEC_WEBSOCKET_EXTENSIONS;
use libfuzzer_sys::fuzz_target;
use ws_endpoint::{CloseCode, Config, Endpoint, Event, ReadyState};
use ws_extensions::{DeflateParams, Extensions, PerMessageDeflate};
use ws_handshake::ClientBuilder;

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// The same request offering permessage-deflate, as browsers do.
const REQUEST_DEFLATE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let [config_byte, piece, input @ ..] = data else {
        return;
    };
    let mut config = Config::default();
    config.auto_accept = true;
    if config_byte & 1 != 0 {
        config.max_frame_payload = 64;
        config.max_message_size = 256;
        config.max_fragments = 4;
        config.max_queued_bytes = 128;
        config.max_queued_events = 3;
    }
    config.streaming_receive = config_byte & 2 != 0;
    if config_byte & 4 != 0 {
        config.ping_interval = Some(Duration::from_secs(1));
        config.pong_timeout = Duration::from_secs(1);
        config.idle_timeout = Some(Duration::from_secs(5));
    }
    let echo = config_byte & 8 != 0;
    // Deflate negotiated in most runs; the options vary (context takeover off, compress
    // everything, small window) so both codec paths get exercised.
    let deflate = config_byte & 0x10 == 0;
    let small_window = config_byte & 0x20 != 0;
    if small_window {
        config.extensions = Extensions::new().with(
            PerMessageDeflate::with_params(DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(9),
                client_max_window_bits: None,
            })
            .min_size(0)
            .level(1),
        );
    }
    let piece = usize::from(*piece).max(1);

    let start = Instant::now();
    let mut now = start;
    let mut server = if config_byte & 0x40 == 0 {
        let mut server = Endpoint::server(config, now);
        server.receive(if deflate { REQUEST_DEFLATE } else { REQUEST }, now);
        server
    } else {
        open_client(config, deflate, small_window, now)
    };
    assert_eq!(server.ready_state(), ReadyState::Open);

    let mut closed = false;
    let mut drain = |server: &mut Endpoint, closed: &mut bool| {
        while let Some(event) = server.poll_event() {
            assert!(!*closed, "an event after Closed: {event:?}");
            match event {
                Event::Text(text) if echo => drop(server.send_text(text)),
                Event::Binary(data) if echo => drop(server.send_binary(data)),
                Event::Closed(_) => *closed = true,
                _ => {}
            }
        }
    };

    for chunk in input.chunks(piece) {
        if server.wants_read() {
            server.receive(chunk, now);
        }
        drain(&mut server, &mut closed);
        // A partial write.
        let n = server.transmit_len() / 2;
        server.advance_transmit(n);
        if chunk[0] == 0xAA {
            now += Duration::from_millis(700);
            server.handle_timeout(now);
            if chunk.len() > 1 && chunk[1] & 1 == 1 {
                let _ = server.close(CloseCode::NORMAL, "", now);
            }
        }
        drain(&mut server, &mut closed);
    }

    // The peer goes away; time passes until nothing is left to wait for.
    server.handle_eof(now);
    drain(&mut server, &mut closed);
    for _ in 0..10 {
        let n = server.transmit_len();
        server.advance_transmit(n);
        let Some(deadline) = server.poll_timeout() else {
            break;
        };
        now = now.max(deadline);
        server.handle_timeout(now);
        drain(&mut server, &mut closed);
    }
    let n = server.transmit_len();
    server.advance_transmit(n);
    assert_eq!(server.ready_state(), ReadyState::Closed);
    assert!(closed, "no Closed event");
    assert!(server.should_close_transport());
    assert!(!server.wants_read());
});

/// A client endpoint opened by a server's answer to its extended CONNECT: with
/// permessage-deflate as its configuration offers it when `deflate`.
fn open_client(config: Config, deflate: bool, small_window: bool, now: Instant) -> Endpoint {
    let builder = ClientBuilder::new("ws://example.com/chat".parse().expect("a valid URI"));
    let connect = Endpoint::extended_connect(&config, builder).expect("a valid request");
    let mut response = http::Response::new(());
    if deflate {
        let answer = if small_window {
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=9"
        } else {
            "permessage-deflate"
        };
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_EXTENSIONS, HeaderValue::from_static(answer));
    }
    Endpoint::client_upgraded(config, &connect, response, now).expect("a valid answer")
}
