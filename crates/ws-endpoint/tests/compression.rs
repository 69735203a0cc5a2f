//! permessage-deflate (RFC 7692) through the endpoint: negotiation (on by default), messages
//! compressed both ways (RSV1 on the wire), fragmentation, context takeover, the opt-out,
//! a misbehaving peer's compressed data (size limit, corrupt data, misplaced RSV1), and
//! prepared messages (compressed once for many connections).

mod common;

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use common::*;
use ws_endpoint::{
    Config, ConnectionError, Endpoint, Event, MessageKind, PreparedMessage, ReadyState, SendError,
};
use ws_extensions::{DeflateParams, Extensions, MessageError, Negotiated, PerMessageDeflate};
use ws_frame::{DecodeError, Decoder, Encoder, Frame, FrameHeader, OpCode, Role, RsvBits};
use ws_handshake::{Incoming, Limits};

/// Text that compresses well.
fn compressible(len: usize) -> String {
    "the quick brown fox jumps over the lazy dog. "
        .repeat(len / 45 + 1)
        .chars()
        .take(len)
        .collect()
}

/// Bytes that do not repeat, so they compress poorly but still go through deflate.
fn varied(len: usize) -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if i % 3 == 0 { b'a' } else { (x >> 24) as u8 }
        })
        .collect()
}

/// The frames in `bytes` (after any HTTP head), as the endpoint of `role` receives them,
/// with RSV1 allowed.
fn wire_frames(role: Role, bytes: &[u8]) -> Vec<Frame> {
    wire_frames_rsv(role, bytes, RsvBits::RSV1)
}

/// As [`wire_frames`], with the RSV bits `allowed`.
fn wire_frames_rsv(role: Role, bytes: &[u8], allowed: RsvBits) -> Vec<Frame> {
    let start = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .filter(|_| bytes.starts_with(b"GET") || bytes.starts_with(b"HTTP"))
        .map_or(0, |i| i + 4);
    let decoder = Decoder::new(role)
        .with_allowed_rsv(allowed)
        .with_max_payload_len(u64::MAX >> 1);
    let mut buf = BytesMut::from(&bytes[start..]);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut buf).unwrap() {
        frames.push(frame);
    }
    assert!(buf.is_empty(), "trailing bytes");
    frames
}

/// A frame as a client sends it, with RSV bits.
fn masked_rsv(fin: bool, rsv: RsvBits, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    let header = FrameHeader {
        fin,
        rsv,
        ..FrameHeader::new(opcode, payload.len() as u64)
    };
    Encoder::client(|| [1, 2, 3, 4]).encode(header, payload, &mut out);
    out.to_vec()
}

/// A server endpoint open with permessage-deflate, after a request from a hand-played
/// client offering it; returns the hand-played client's own deflate codec.
fn open_deflate_server(config: Config) -> (Endpoint, Instant, Negotiated) {
    let now = Instant::now();
    let offers = Extensions::new()
        .with(PerMessageDeflate::new())
        .client_offers();
    let builder = offers
        .into_iter()
        .fold(client_builder(), |b, offer| b.extension(offer));
    let mut request = Vec::new();
    builder.build().unwrap().encode(&mut request);
    let mut server = Endpoint::server(config, now);
    server.receive(&request, now);
    assert_eq!(server.ready_state(), ReadyState::Open);
    output(&mut server);
    let Some(Event::Open(opened)) = server.poll_event() else {
        panic!("not open")
    };
    assert_eq!(opened.extensions, ["permessage-deflate"]);
    // The hand-played peer compresses as hard as zlib can, as a bomb maker would.
    let peer = Extensions::new()
        .with(PerMessageDeflate::new().level(9))
        .client_confirm(&opened.extensions)
        .unwrap();
    (server, now, peer)
}

/// `payload` compressed by `codec` as one whole message.
fn compress(codec: &mut Negotiated, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let rsv = codec.encode_message(payload, true, &mut out).unwrap();
    assert_eq!(rsv, RsvBits::RSV1);
    out
}

fn opened(events: &[Event]) -> &ws_endpoint::Opened {
    events
        .iter()
        .find_map(|e| match e {
            Event::Open(o) => Some(&**o),
            _ => None,
        })
        .expect("an Open event")
}

#[test]
fn negotiated_by_default_and_messages_compressed_both_ways() {
    let mut pair = Pair::new(Config::default(), server_config());
    pair.drive();
    let client_open = opened(&pair.client.events);
    assert_eq!(client_open.extensions, ["permessage-deflate"]);
    let response = client_open.response.as_ref().unwrap();
    assert_eq!(
        response.headers()["sec-websocket-extensions"],
        "permessage-deflate"
    );
    assert_eq!(
        opened(&pair.server.events).extensions,
        ["permessage-deflate"]
    );
    let request = opened(&pair.server.events).request.as_ref().unwrap();
    assert!(
        request.headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap()
            .starts_with("permessage-deflate")
    );
    pair.client.events.clear();
    pair.server.events.clear();
    pair.client.written.clear();
    pair.server.written.clear();

    let text = compressible(2000);
    pair.client.endpoint.send_text(text.clone()).unwrap();
    pair.server.endpoint.send_text(text.clone()).unwrap();
    pair.drive();
    for written in [
        wire_frames(Role::Server, &pair.client.written),
        wire_frames(Role::Client, &pair.server.written),
    ] {
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].header.rsv, RsvBits::RSV1);
        assert!(written[0].payload.len() < text.len() / 4);
    }
    assert_eq!(pair.server.messages(), [(true, text.clone().into_bytes())]);
    assert_eq!(pair.client.messages(), [(true, text.into_bytes())]);
}

#[test]
fn large_and_fragmented_compressed_messages() {
    let mut pair = Pair::connected();
    let big = varied(3 << 20);
    pair.client.endpoint.send_binary(big.clone()).unwrap();
    pair.server.endpoint.send_binary(big.clone()).unwrap();
    pair.drive();
    assert_eq!(pair.server.messages(), [(false, big.clone())]);
    assert_eq!(pair.client.messages(), [(false, big.clone())]);
    assert_eq!(
        wire_frames(Role::Server, &pair.client.written)[0]
            .header
            .rsv,
        RsvBits::RSV1
    );

    // Streamed in pieces, both ways: the first frame carries RSV1, the others none.
    pair.client.written.clear();
    pair.server.events.clear();
    pair.client.events.clear();
    for (i, piece) in big.chunks(100_000).enumerate() {
        let last = (i + 1) * 100_000 >= big.len();
        pair.client
            .endpoint
            .send_fragment(MessageKind::Binary, piece.to_vec(), last)
            .unwrap();
        pair.server
            .endpoint
            .send_fragment(MessageKind::Binary, piece.to_vec(), last)
            .unwrap();
        pair.drive();
    }
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert_eq!(frames.len(), big.len().div_ceil(100_000));
    assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
    assert!(frames[1..].iter().all(|f| f.header.rsv.is_empty()));
    assert!(
        frames[1..]
            .iter()
            .all(|f| f.header.opcode == OpCode::CONTINUATION)
    );
    assert_eq!(pair.server.messages(), [(false, big.clone())]);
    assert_eq!(pair.client.messages(), [(false, big)]);
}

#[test]
fn streamed_text_is_compressed_and_validated_after_decoding() {
    let mut pair = Pair::connected();
    let text = compressible(5000);
    let euro = "€".as_bytes();
    let client = &mut pair.client.endpoint;
    client
        .send_fragment(MessageKind::Text, &euro[..1], false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, &euro[1..], false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, text.clone(), true)
        .unwrap();
    pair.drive();
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert_eq!(frames.len(), 3, "one frame per fragment, even if empty");
    assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
    let total: usize = frames.iter().map(|f| f.payload.len()).sum();
    assert!(total < text.len() / 4);
    assert_eq!(
        pair.server.messages(),
        [(true, format!("€{text}").into_bytes())]
    );
}

#[test]
fn ping_inside_a_fragmented_compressed_message() {
    let (mut server, now, mut peer) = open_deflate_server(server_config());
    let text = compressible(3000);
    let mut first = Vec::new();
    let rsv = peer.begin_outgoing(None, true);
    assert_eq!(rsv, RsvBits::RSV1);
    peer.encode(&text.as_bytes()[..1000], false, &mut first)
        .unwrap();
    let mut second = Vec::new();
    peer.encode(&text.as_bytes()[1000..], true, &mut second)
        .unwrap();
    let mut input = masked_rsv(false, RsvBits::RSV1, OpCode::TEXT, &first);
    input.extend(masked(true, OpCode::PING, b"hi"));
    input.extend(masked_rsv(
        true,
        RsvBits::NONE,
        OpCode::CONTINUATION,
        &second,
    ));
    server.receive(&input, now);
    let got = events(&mut server);
    assert!(matches!(&got[0], Event::Ping(p) if p == "hi"), "{got:?}");
    assert!(matches!(&got[1], Event::Text(t) if *t == *text), "{got:?}");
    // The pong is not compressed.
    let out = wire_frames(Role::Client, &output(&mut server));
    assert_eq!(out[0].header.opcode, OpCode::PONG);
    assert!(out[0].header.rsv.is_empty());
    assert_eq!(out[0].payload[..], *b"hi");
}

/// The wire sizes of the same message sent twice by the client.
fn repeat_sizes(client: Config, server: Config) -> (Vec<String>, [usize; 2]) {
    let mut pair = Pair::new(client, server);
    pair.drive();
    let agreed = opened(&pair.client.events).extensions.clone();
    pair.client.written.clear();
    let text = varied(4000);
    for _ in 0..2 {
        pair.client.endpoint.send_binary(text.clone()).unwrap();
    }
    pair.drive();
    assert_eq!(
        pair.server.messages(),
        [(false, text.clone()), (false, text)]
    );
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert!(frames.iter().all(|f| f.header.rsv == RsvBits::RSV1));
    (agreed, [frames[0].payload.len(), frames[1].payload.len()])
}

#[test]
fn context_takeover_on_and_off() {
    // With context takeover, the second copy refers back to the first: much smaller.
    let (agreed, [a, b]) = repeat_sizes(Config::default(), server_config());
    assert_eq!(agreed, ["permessage-deflate"]);
    assert!(b < a / 10, "{a} then {b}");

    // Without (asked for by the client), each message stands alone: the same size.
    let mut client = Config::default();
    client.extensions = Extensions::new().with(PerMessageDeflate::with_params(DeflateParams {
        client_no_context_takeover: true,
        server_no_context_takeover: true,
        ..DeflateParams::default()
    }));
    let (agreed, [a, b]) = repeat_sizes(client, server_config());
    assert_eq!(
        agreed,
        ["permessage-deflate; server_no_context_takeover; client_no_context_takeover"]
    );
    assert_eq!(a, b);
}

#[test]
fn zip_bomb_over_the_size_limit_fails_fast_with_1009() {
    let mut config = server_config();
    config.max_message_size = 64 << 10;
    let (mut server, now, mut peer) = open_deflate_server(config);
    let bomb = compress(&mut peer, &vec![0; 16 << 20]);
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::BINARY, &bomb), now);
    let error = assert_failed_with(&mut server, 1009);
    assert_eq!(error, ConnectionError::Extension(MessageError::TooBig));
}

#[test]
fn compressed_message_just_under_the_limit_passes() {
    let mut config = server_config();
    config.max_message_size = 64 << 10;
    let (mut server, now, mut peer) = open_deflate_server(config);
    let data = vec![0; 64 << 10];
    let wire = compress(&mut peer, &data);
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::BINARY, &wire), now);
    let got = events(&mut server);
    assert!(
        matches!(&got[..], [Event::Binary(b)] if *b == data),
        "{got:?}"
    );
}

#[test]
fn compressed_message_over_the_limit_in_the_pair() {
    let mut server = server_config();
    server.max_message_size = 1000;
    let mut pair = Pair::connected_with(Config::default(), server);
    pair.client.endpoint.send_text(compressible(1001)).unwrap();
    pair.drive();
    assert_eq!(
        pair.server.error(),
        Some(&ConnectionError::Extension(MessageError::TooBig))
    );
    assert_eq!(pair.client.closed().unwrap().code.as_u16(), 1009);
}

#[test]
fn streaming_receive_bounds_each_decoded_frame_by_the_message_limit() {
    let mut config = server_config();
    config.streaming_receive = true;
    config.max_message_size = 100_000;
    let (mut server, now, mut peer) = open_deflate_server(config.clone());
    // A message larger than the limit, in frames that each decode under it: delivered.
    let data = varied(500_000);
    assert_eq!(peer.begin_outgoing(None, true), RsvBits::RSV1);
    let mut input = Vec::new();
    for (i, piece) in data.chunks(10_000).enumerate() {
        let mut out = Vec::new();
        let last = i == 49;
        peer.encode(piece, last, &mut out).unwrap();
        let (rsv, opcode) = if i == 0 {
            (RsvBits::RSV1, OpCode::BINARY)
        } else {
            (RsvBits::NONE, OpCode::CONTINUATION)
        };
        input.extend(masked_rsv(last, rsv, opcode, &out));
    }
    server.receive(&input, now);
    let mut got = Vec::new();
    for event in events(&mut server) {
        match event {
            Event::Fragment { data, .. } => got.extend_from_slice(&data),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, data);

    // One frame that decodes past the limit: 1009.
    let (mut server, now, mut peer) = open_deflate_server(config);
    let bomb = compress(&mut peer, &vec![0; 200_000]);
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::BINARY, &bomb), now);
    assert_failed_with(&mut server, 1009);
}

#[test]
fn corrupt_compressed_data_fails_with_1007() {
    let (mut server, now, _) = open_deflate_server(server_config());
    let garbage = [0xff; 40];
    server.receive(
        &masked_rsv(true, RsvBits::RSV1, OpCode::BINARY, &garbage),
        now,
    );
    let error = assert_failed_with(&mut server, 1007);
    assert!(
        matches!(error, ConnectionError::Extension(MessageError::Corrupt(_))),
        "{error}"
    );
}

#[test]
fn invalid_utf8_inside_compressed_text_fails_with_1007() {
    let (mut server, now, mut peer) = open_deflate_server(server_config());
    let mut text = compressible(500).into_bytes();
    text[250] = 0xff;
    let wire = compress(&mut peer, &text);
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::TEXT, &wire), now);
    let error = assert_failed_with(&mut server, 1007);
    assert_eq!(error, ConnectionError::InvalidUtf8);
}

#[test]
fn rsv1_without_deflate_negotiated_fails_with_1002() {
    // The hand-played client offers no extension.
    let (mut server, now) = open_server(server_config());
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::TEXT, b"hi"), now);
    let error = assert_failed_with(&mut server, 1002);
    assert_eq!(
        error,
        ConnectionError::Frame(DecodeError::UnexpectedRsvBits(RsvBits::RSV1))
    );

    // Declined by a server with compression off.
    let mut pair = Pair::new(Config::default(), plain(server_config()));
    pair.drive();
    assert!(opened(&pair.client.events).extensions.is_empty());
    let now = pair.time;
    let server = &mut pair.server.endpoint;
    events(server);
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::TEXT, b"hi"), now);
    assert_failed_with(server, 1002);
}

#[test]
fn rsv1_on_a_continuation_or_control_frame_fails_with_1002() {
    let (mut server, now, mut peer) = open_deflate_server(server_config());
    let wire = compress(&mut peer, compressible(100).as_bytes());
    let mut input = masked_rsv(false, RsvBits::RSV1, OpCode::TEXT, &wire);
    input.extend(masked_rsv(true, RsvBits::RSV1, OpCode::CONTINUATION, b""));
    server.receive(&input, now);
    let error = assert_failed_with(&mut server, 1002);
    assert_eq!(error, ConnectionError::RsvNotAllowed);

    let (mut server, now, _) = open_deflate_server(server_config());
    server.receive(&masked_rsv(true, RsvBits::RSV1, OpCode::PING, b""), now);
    let error = assert_failed_with(&mut server, 1002);
    assert_eq!(error, ConnectionError::RsvNotAllowed);
}

#[test]
fn opt_out_and_short_messages_are_sent_plain_without_copying() {
    let mut pair = Pair::connected();
    let data = compressible(5000).into_bytes();
    pair.client
        .endpoint
        .send_binary_uncompressed(data.clone())
        .unwrap();
    pair.client.endpoint.send_text("short").unwrap(); // under min_size
    pair.drive();
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert!(frames.iter().all(|f| f.header.rsv.is_empty()));
    assert_eq!(frames[0].payload.len(), 5000);
    assert_eq!(
        pair.server.messages(),
        [(false, data.clone()), (true, b"short".to_vec())]
    );

    // A server's uncompressed payload is queued as is, not copied, with deflate negotiated.
    let mut config = server_config();
    config.extensions = Extensions::new().with(PerMessageDeflate::new().min_size(4096));
    let (mut server, _, _) = open_deflate_server(config);
    for (payload, opt_out) in [
        (Bytes::from(data), true),
        (Bytes::from(vec![7; 2000]), false),
    ] {
        if opt_out {
            server.send_binary_uncompressed(payload.clone()).unwrap();
        } else {
            server.send_binary(payload.clone()).unwrap();
        }
        let chunks: Vec<&[u8]> = server.transmit_chunks().collect();
        assert_eq!(
            chunks[1].as_ptr(),
            payload.as_ptr(),
            "the payload was copied"
        );
        let frames = wire_frames(Role::Client, &output(&mut server));
        assert!(frames[0].header.rsv.is_empty());
    }
}

#[test]
fn messages_queued_before_open_are_compressed_after_open() {
    let mut pair = Pair::new(Config::default(), server_config());
    let text = compressible(3000);
    pair.client.endpoint.send_text(text.clone()).unwrap();
    pair.client
        .endpoint
        .send_fragment(MessageKind::Binary, varied(2000), false)
        .unwrap();
    pair.client
        .endpoint
        .send_fragment(MessageKind::Binary, varied(2000), true)
        .unwrap();
    pair.drive();
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
    assert!(frames[0].payload.len() < text.len() / 4);
    assert_eq!(frames[1].header.rsv, RsvBits::RSV1);
    assert!(frames[2].header.rsv.is_empty());
    let both = [varied(2000), varied(2000)].concat();
    assert_eq!(
        pair.server.messages(),
        [(true, text.into_bytes()), (false, both)]
    );
}

#[test]
fn declined_negotiation_sends_plain_messages() {
    for (client, server) in [
        (plain(Config::default()), server_config()),
        (Config::default(), plain(server_config())),
    ] {
        let mut pair = Pair::new(client, server);
        pair.drive();
        assert!(opened(&pair.client.events).extensions.is_empty());
        assert!(opened(&pair.server.events).extensions.is_empty());
        pair.client.written.clear();
        pair.server.written.clear();
        let text = compressible(2000);
        pair.client.endpoint.send_text(text.clone()).unwrap();
        pair.server.endpoint.send_text(text.clone()).unwrap();
        pair.drive();
        let c = wire_frames(Role::Server, &pair.client.written);
        let s = wire_frames(Role::Client, &pair.server.written);
        for frame in c.iter().chain(&s) {
            assert!(frame.header.rsv.is_empty());
            assert_eq!(frame.payload.len(), 2000);
        }
        assert_eq!(pair.server.messages(), [(true, text.clone().into_bytes())]);
        assert_eq!(pair.client.messages(), [(true, text.into_bytes())]);
    }
}

#[test]
fn utf8_fail_fast_still_applies_to_uncompressed_messages() {
    // Deflate negotiated, but this message is sent without RSV1: its text is checked
    // while the frame is still arriving (Autobahn 6.4.3).
    let (mut server, now, _) = open_deflate_server(server_config());
    let mut text = b"abc".to_vec();
    text.push(0xc0);
    text.extend(vec![b'a'; 10_000]);
    let frame = masked(true, OpCode::TEXT, &text);
    server.receive(&frame[..8 + 4], now);
    let error = assert_failed_with(&mut server, 1007);
    assert_eq!(error, ConnectionError::InvalidUtf8);

    // A compressed message cannot be checked before it is decoded: no early failure.
    let (mut server, now, mut peer) = open_deflate_server(server_config());
    let wire = compress(&mut peer, &text);
    let frame = masked_rsv(true, RsvBits::RSV1, OpCode::TEXT, &wire);
    server.receive(&frame[..frame.len() - 1], now);
    assert!(events(&mut server).is_empty());
    server.receive(&frame[frame.len() - 1..], now);
    assert_eq!(
        assert_failed_with(&mut server, 1007),
        ConnectionError::InvalidUtf8
    );
}

#[test]
fn unusable_answer_fails_the_client_handshake() {
    let now = Instant::now();
    let mut client = Endpoint::client(Config::default(), client_builder(), now).unwrap();
    let request = output(&mut client);
    let (incoming, _) = Incoming::parse(&request, &Limits::default())
        .unwrap()
        .unwrap();
    let Incoming::Upgrade(upgrade) = incoming else {
        panic!("not an upgrade")
    };
    let mut response = Vec::new();
    upgrade
        .accept()
        .extension("permessage-deflate; client_max_window_bits=7")
        .encode(&mut response)
        .unwrap();
    client.receive(&response, now);
    let got = events(&mut client);
    assert!(
        matches!(&got[0], Event::Error(e @ ConnectionError::Negotiation(_)) if e.close_code().is_none()),
        "{got:?}"
    );
    assert!(matches!(&got[1], Event::Closed(info) if !info.clean));
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert!(output(&mut client).is_empty(), "no close frame before open");
}

// ---- Prepared messages: one encoding for many connections ----

/// The payload chunk a server queued for its only frame (after the header chunk).
fn queued_payload(server: &Endpoint) -> *const u8 {
    let chunks: Vec<&[u8]> = server.transmit_chunks().collect();
    assert_eq!(chunks.len(), 2, "header and payload");
    chunks[1].as_ptr()
}

#[test]
fn a_prepared_message_is_compressed_once_for_every_subscriber() {
    let mut pairs: Vec<Pair> = (0..3).map(|_| Pair::connected()).collect();
    // Compressed still over 1 KiB, so a server queues it rather than copying it.
    let text = letters(6000);
    let update = PreparedMessage::text(text.clone());
    for pair in &mut pairs {
        pair.server.endpoint.send_prepared(&update).unwrap();
    }
    let shared = queued_payload(&pairs[0].server.endpoint);
    for pair in &mut pairs {
        assert_eq!(
            queued_payload(&pair.server.endpoint),
            shared,
            "encoded again"
        );
        pair.drive();
        let frames = wire_frames(Role::Client, &pair.server.written);
        assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
        assert!(frames[0].payload.len() < text.len());
        assert_eq!(pair.client.messages(), [(true, text.clone().into_bytes())]);
    }
}

/// Lowercase text that does not repeat: it compresses, but not much.
fn letters(len: usize) -> String {
    varied(len)
        .iter()
        .map(|b| char::from(b'a' + b % 26))
        .collect()
}

#[test]
fn context_takeover_goes_on_correctly_around_a_prepared_message() {
    let mut pair = Pair::connected();
    let before = compressible(2000);
    let prepared = letters(1500);
    pair.server.endpoint.send_text(before.clone()).unwrap();
    pair.server
        .endpoint
        .send_prepared(&PreparedMessage::text(prepared.clone()))
        .unwrap();
    pair.server.endpoint.send_text(before.clone()).unwrap();
    pair.drive();
    let text = |s: &String| (true, s.clone().into_bytes());
    assert_eq!(
        pair.client.messages(),
        [text(&before), text(&prepared), text(&before)]
    );
}

#[test]
fn connections_with_other_parameters_get_their_own_encoding() {
    let mut narrow = Config::default();
    narrow.extensions = Extensions::new().with(PerMessageDeflate::with_params(DeflateParams {
        server_max_window_bits: Some(10),
        ..DeflateParams::default()
    }));
    let mut wide = Pair::connected();
    let mut small = Pair::connected_with(narrow, server_config());
    let data = varied(5000);
    let update = PreparedMessage::binary(data.clone());
    wide.server.endpoint.send_prepared(&update).unwrap();
    small.server.endpoint.send_prepared(&update).unwrap();
    assert_ne!(
        queued_payload(&wide.server.endpoint),
        queued_payload(&small.server.endpoint)
    );
    for pair in [&mut wide, &mut small] {
        pair.drive();
        assert_eq!(pair.client.messages(), [(false, data.clone())]);
    }
}

#[test]
fn past_eight_kinds_of_connection_a_prepared_message_is_encoded_per_send() {
    // Nine compression levels, nine kinds of connection; two connections of each.
    let mut pairs: Vec<[Pair; 2]> = (1..=9)
        .map(|level| {
            let pair = || {
                let mut server = server_config();
                server.extensions = Extensions::new().with(PerMessageDeflate::new().level(level));
                Pair::connected_with(Config::default(), server)
            };
            [pair(), pair()]
        })
        .collect();
    let text = letters(6000);
    let update = PreparedMessage::text(text.clone());
    for [a, b] in &mut pairs {
        a.server.endpoint.send_prepared(&update).unwrap();
        b.server.endpoint.send_prepared(&update).unwrap();
    }
    for (i, [a, b]) in pairs.iter_mut().enumerate() {
        let shared = queued_payload(&a.server.endpoint) == queued_payload(&b.server.endpoint);
        // The first eight kinds keep their encoding; the ninth is encoded on each send.
        assert_eq!(shared, i < 8, "level {}", i + 1);
        for pair in [a, b] {
            pair.drive();
            assert_eq!(pair.client.messages(), [(true, text.clone().into_bytes())]);
        }
    }
}

#[test]
fn without_compression_a_prepared_payload_is_queued_as_given() {
    let data = Bytes::from(compressible(5000));
    let mut plain_pair = Pair::connected_with(plain(Config::default()), plain(server_config()));
    let mut deflate_pair = Pair::connected();
    for (pair, update) in [
        (&mut plain_pair, PreparedMessage::binary(data.clone())),
        (
            &mut deflate_pair,
            PreparedMessage::binary_uncompressed(data.clone()),
        ),
    ] {
        pair.server.endpoint.send_prepared(&update).unwrap();
        assert_eq!(queued_payload(&pair.server.endpoint), data.as_ptr());
        pair.drive();
        assert!(
            wire_frames(Role::Client, &pair.server.written)[0]
                .header
                .rsv
                .is_empty()
        );
        assert_eq!(pair.client.messages(), [(false, data.to_vec())]);
    }
}

#[test]
fn a_client_masks_a_prepared_message() {
    let mut pair = Pair::connected();
    let text = compressible(2000);
    pair.client
        .endpoint
        .send_prepared(&PreparedMessage::text(text.clone()))
        .unwrap();
    pair.drive();
    // Decoded in the server role, which refuses unmasked frames.
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
    assert_eq!(pair.server.messages(), [(true, text.into_bytes())]);
}

#[test]
fn a_prepared_message_sent_before_open_is_compressed_after_open() {
    let mut pair = Pair::new(Config::default(), server_config());
    let text = compressible(3000);
    pair.client
        .endpoint
        .send_prepared(&PreparedMessage::text(text.clone()))
        .unwrap();
    pair.drive();
    let frames = wire_frames(Role::Server, &pair.client.written);
    assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
    assert_eq!(pair.server.messages(), [(true, text.into_bytes())]);
}

#[test]
fn a_prepared_message_is_refused_as_any_other_would_be() {
    let update = PreparedMessage::binary(vec![1; 100]);
    // In the middle of a streamed message.
    let mut pair = Pair::connected();
    let server = &mut pair.server.endpoint;
    server
        .send_fragment(MessageKind::Text, "part", false)
        .unwrap();
    assert_eq!(
        server.send_prepared(&update),
        Err(SendError::MessageInProgress)
    );
    // With the send queue full.
    let mut config = server_config();
    config.max_queued_bytes = 50;
    let mut pair = Pair::connected_with(Config::default(), config);
    let server = &mut pair.server.endpoint;
    server.send_prepared(&update).unwrap();
    assert_eq!(server.send_prepared(&update), Err(SendError::BufferFull));
    // After the close.
    server
        .close(ws_endpoint::CloseCode::NORMAL, "", pair.time)
        .unwrap();
    assert_eq!(server.send_prepared(&update), Err(SendError::Closed));
}

/// An extension whose output depends on the connection's history: each message is XORed
/// with the number of messages before it, so it cannot be encoded once for many.
#[derive(Debug)]
struct Counting;

#[derive(Debug, Default)]
struct CountingCodec {
    sent: u8,
    received: u8,
}

impl ws_extensions::Codec for CountingCodec {
    fn decode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        _max: usize,
    ) -> Result<(), MessageError> {
        out.extend(payload.iter().map(|b| b ^ self.received));
        self.received = self.received.wrapping_add(u8::from(fin));
        Ok(())
    }

    fn begin_outgoing(&mut self, _len: Option<usize>, _compress: bool) -> bool {
        true
    }

    fn encode(&mut self, payload: &[u8], fin: bool, out: &mut Vec<u8>) -> Result<(), MessageError> {
        out.extend(payload.iter().map(|b| b ^ self.sent));
        self.sent = self.sent.wrapping_add(u8::from(fin));
        Ok(())
    }
}

impl ws_extensions::Extension for Counting {
    fn name(&self) -> &str {
        "x-counting"
    }
    fn rsv_bits(&self) -> RsvBits {
        RsvBits::RSV2
    }
    fn offers(&self) -> Vec<String> {
        vec!["x-counting".to_owned()]
    }
    fn accept(
        &self,
        _offer: &ws_handshake::grammar::Extension<'_>,
    ) -> Option<(String, Box<dyn ws_extensions::Codec>)> {
        Some(("x-counting".to_owned(), Box::<CountingCodec>::default()))
    }
    fn confirm(
        &self,
        _answer: &ws_handshake::grammar::Extension<'_>,
    ) -> Result<Box<dyn ws_extensions::Codec>, ws_extensions::NegotiationError> {
        Ok(Box::<CountingCodec>::default())
    }
}

#[test]
fn an_extension_that_cannot_encode_alone_encodes_per_connection() {
    let mut config = Config::default();
    config.extensions = Extensions::new().with(Counting);
    let mut server = server_config();
    server.extensions = Extensions::new().with(Counting);
    let mut pair = Pair::connected_with(config, server);
    let update = PreparedMessage::binary(vec![9; 100]);
    pair.server.endpoint.send_binary(vec![1; 10]).unwrap();
    pair.server.endpoint.send_prepared(&update).unwrap();
    pair.server.endpoint.send_prepared(&update).unwrap();
    pair.drive();
    let frames = wire_frames_rsv(Role::Client, &pair.server.written, RsvBits::RSV2);
    // Each copy went through the connection's own state: XORed with 1, then with 2.
    assert_eq!(frames[1].payload[..], [9 ^ 1; 100]);
    assert_eq!(frames[2].payload[..], [9 ^ 2; 100]);
    assert_eq!(
        pair.client.messages(),
        [
            (false, vec![1; 10]),
            (false, vec![9; 100]),
            (false, vec![9; 100])
        ]
    );
}
