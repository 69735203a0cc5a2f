//! permessage-deflate on the wire: RFC 7692 examples, round trips, fragmentation, limits
//! and corrupt input.

use proptest::prelude::*;
use ws_extensions::{
    DeflateParams, Extensions, INFLATE_CHUNK, MessageError, Negotiated, PerMessageDeflate,
};
use ws_frame::{CloseCode, RsvBits};

const NO_LIMIT: usize = usize::MAX;

/// A client and a server that negotiated `deflate` (as both configurations).
fn pair(deflate: PerMessageDeflate) -> (Negotiated, Negotiated) {
    let config = Extensions::new().with(deflate);
    let server = config.server_accept(&config.client_offers());
    let answer: Vec<String> = server.agreed().map(str::to_owned).collect();
    let client = config
        .client_confirm(&answer)
        .expect("server's answer is valid");
    (client, server)
}

/// Compresses everything, so that short test messages are compressed too.
fn eager(params: DeflateParams) -> PerMessageDeflate {
    PerMessageDeflate::with_params(params).min_size(0)
}

fn decode_whole(side: &mut Negotiated, rsv: RsvBits, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    side.decode_message(rsv, payload, &mut out, NO_LIMIT)
        .expect("valid message");
    out
}

fn encode_whole(side: &mut Negotiated, message: &[u8]) -> (RsvBits, Vec<u8>) {
    let mut wire = Vec::new();
    let rsv = side
        .encode_message(message, true, &mut wire)
        .expect("compressible");
    (rsv, wire)
}

const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

#[test]
fn rfc_7692_hello_compresses_to_the_example_bytes() {
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    let (rsv, wire) = encode_whole(&mut client, b"Hello");
    assert_eq!(rsv, RsvBits::RSV1);
    assert_eq!(wire, HELLO);
    assert_eq!(decode_whole(&mut server, rsv, &wire), b"Hello");
}

#[test]
fn rfc_7692_fragmented_hello() {
    // §7.2.3.1: the compressed "Hello" split over two frames.
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let mut out = Vec::new();
    server.begin_incoming(RsvBits::RSV1).unwrap();
    server
        .decode(&HELLO[..3], false, &mut out, NO_LIMIT)
        .unwrap();
    server
        .decode(&HELLO[3..], true, &mut out, NO_LIMIT)
        .unwrap();
    assert_eq!(out, b"Hello");
}

#[test]
fn rfc_7692_shared_window_and_no_context_takeover() {
    // §7.2.3.2: with context takeover the second "Hello" refers back to the first. The
    // RFC's bytes are zlib's default level; level 1 (ours) codes the repeat as literals.
    let (mut client, mut server) = pair(eager(DeflateParams::default()).level(6));
    assert_eq!(encode_whole(&mut client, b"Hello").1, HELLO);
    let (rsv, second) = encode_whole(&mut client, b"Hello");
    assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(decode_whole(&mut server, rsv, &HELLO), b"Hello");
    assert_eq!(decode_whole(&mut server, rsv, &second), b"Hello");

    // Without it, both messages compress alone.
    let (mut client, _) = pair(eager(DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    }));
    assert_eq!(encode_whole(&mut client, b"Hello").1, HELLO);
    assert_eq!(encode_whole(&mut client, b"Hello").1, HELLO);
}

#[test]
fn rfc_7692_other_block_shapes_decode() {
    let (_, mut server) = pair(eager(DeflateParams::default()));
    // §7.2.3.3: a stored (uncompressed) block.
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &stored), b"Hello");
    // §7.2.3.5: two blocks in one message.
    let two = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &two), b"Hello");
    // §7.2.3.4: a block with BFINAL set ends the stream; the next message starts anew.
    let last = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &last), b"Hello");
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &HELLO), b"Hello");
}

#[test]
fn empty_messages_round_trip() {
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    for _ in 0..3 {
        let (rsv, wire) = encode_whole(&mut client, b"");
        assert_eq!(rsv, RsvBits::RSV1);
        // §7.2.3.6: an empty message compresses to a single 0x00.
        assert_eq!(wire, [0x00]);
        assert_eq!(decode_whole(&mut server, rsv, &wire), b"");
    }
    // An empty payload with RSV1 set, as some peers send, is an empty message too.
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &[]), b"");
}

/// Text that compresses well but not trivially.
fn corpus(len: usize, seed: u32) -> Vec<u8> {
    let words = [
        "alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta ", "eta ",
    ];
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut text = Vec::with_capacity(len + 8);
    while text.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        text.extend_from_slice(words[state as usize % words.len()].as_bytes());
    }
    text.truncate(len);
    text
}

#[test]
fn round_trips_at_each_window_size_with_and_without_context_takeover() {
    for bits in [8, 9, 12, 15] {
        for no_takeover in [false, true] {
            let params = DeflateParams {
                server_no_context_takeover: no_takeover,
                client_no_context_takeover: no_takeover,
                server_max_window_bits: Some(bits),
                client_max_window_bits: Some(bits),
            };
            let (mut client, mut server) = pair(eager(params));
            for (i, len) in [0, 1, 100, 3000, 70_000].into_iter().enumerate() {
                let message = corpus(len, i as u32);
                let (rsv, wire) = encode_whole(&mut client, &message);
                assert_eq!(
                    decode_whole(&mut server, rsv, &wire),
                    message,
                    "bits {bits}"
                );
                let (rsv, wire) = encode_whole(&mut server, &message);
                assert_eq!(
                    decode_whole(&mut client, rsv, &wire),
                    message,
                    "bits {bits}"
                );
            }
        }
    }
}

#[test]
fn context_takeover_shrinks_a_repeated_message_and_no_takeover_does_not() {
    let message = corpus(2000, 7);
    // Level 6: its lazy matching finds the whole earlier message. Level 1, the default,
    // takes the first nearby match and saves far less on text this self-similar (615 then
    // 533 bytes); on JSON records it still shrinks a repeat several-fold (test below).
    let sizes = |params| {
        let (mut client, _) = pair(eager(params).level(6));
        let first = encode_whole(&mut client, &message).1.len();
        let second = encode_whole(&mut client, &message).1.len();
        (first, second)
    };
    let (first, second) = sizes(DeflateParams::default());
    assert!(second < first / 4, "{first} then {second}");
    let (first, second) = sizes(DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    });
    assert_eq!(first, second);
}

#[test]
fn streamed_send_decodes_fragment_by_fragment() {
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    let message = corpus(100_000, 3);
    let rsv = client.begin_outgoing(None, true);
    assert_eq!(rsv, RsvBits::RSV1);
    let mut frames = Vec::new();
    let chunks: Vec<&[u8]> = message.chunks(7000).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut wire = Vec::new();
        client
            .encode(chunk, i + 1 == chunks.len(), &mut wire)
            .unwrap();
        frames.push(wire);
    }
    // The receiver streams too: it drains its buffer after every frame.
    server.begin_incoming(rsv).unwrap();
    let mut received = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let mut out = Vec::new();
        server
            .decode(frame, i + 1 == frames.len(), &mut out, message.len())
            .unwrap();
        received.extend_from_slice(&out);
    }
    assert_eq!(received, message);
}

#[test]
fn small_and_opted_out_messages_go_uncompressed() {
    let (mut client, mut server) = pair(PerMessageDeflate::new().min_size(10));
    let (rsv, wire) = encode_whole(&mut client, b"short");
    assert_eq!((rsv, wire.as_slice()), (RsvBits::NONE, &b"short"[..]));
    assert_eq!(decode_whole(&mut server, rsv, &wire), b"short");

    let mut wire = Vec::new();
    let rsv = client
        .encode_message(b"already compressed data", false, &mut wire)
        .unwrap();
    assert_eq!(
        (rsv, wire.as_slice()),
        (RsvBits::NONE, &b"already compressed data"[..])
    );

    // A streamed message has no known length, so the minimum does not apply.
    assert_eq!(client.begin_outgoing(None, true), RsvBits::RSV1);
    // And the compressed stream goes on as if the plain messages were not there.
    let mut wire = Vec::new();
    client
        .encode(b"long enough to compress", true, &mut wire)
        .unwrap();
    assert_eq!(
        decode_whole(&mut server, RsvBits::RSV1, &wire),
        b"long enough to compress"
    );
}

#[test]
fn levels_zero_to_nine_round_trip() {
    let message = corpus(5000, 9);
    for level in [0, 1, 9, 100] {
        let (mut client, mut server) = pair(eager(DeflateParams::default()).level(level));
        let (rsv, wire) = encode_whole(&mut client, &message);
        assert_eq!(
            decode_whole(&mut server, rsv, &wire),
            message,
            "level {level}"
        );
    }
}

/// A compressed message that inflates to `len` zero bytes.
fn bomb(len: usize) -> Vec<u8> {
    let (mut client, _) = pair(eager(DeflateParams::default()).level(9));
    encode_whole(&mut client, &vec![0; len]).1
}

#[test]
fn zip_bomb_fails_fast_with_1009() {
    // 64 MiB of zeros compress to about 64 KiB; that is 1000 times larger inflated.
    let wire = bomb(64 << 20);
    assert!(wire.len() < 128 << 10, "{}", wire.len());
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let limit = 1 << 20;
    let mut out = Vec::new();
    let error = server
        .decode_message(RsvBits::RSV1, &wire, &mut out, limit)
        .unwrap_err();
    assert_eq!(error, MessageError::TooBig);
    assert_eq!(error.close_code(), CloseCode::MESSAGE_TOO_BIG);
    // The work stopped at the limit: the output holds at most one byte more.
    assert!(out.len() <= limit + 1, "{}", out.len());
    // Inflating went on in steps of at most one chunk, each checked against the limit.
    assert!(out.len() > limit - INFLATE_CHUNK);
}

#[test]
fn spare_capacity_in_the_output_does_not_stretch_the_limit() {
    // A reused buffer with room to spare: inflating must still stop at the limit.
    let wire = bomb(1 << 20);
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let limit = 1000;
    let mut out = Vec::with_capacity(1 << 20);
    let error = server
        .decode_message(RsvBits::RSV1, &wire, &mut out, limit)
        .unwrap_err();
    assert_eq!(error, MessageError::TooBig);
    assert!(out.len() <= limit + 1, "{}", out.len());
}

#[test]
fn a_short_message_inflates_into_a_buffer_its_size() {
    // The output grows from a guess based on the input, not a 16 KiB chunk per message.
    let message = corpus(300, 1);
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    let (rsv, wire) = encode_whole(&mut client, &message);
    let mut out = Vec::new();
    server
        .decode_message(rsv, &wire, &mut out, NO_LIMIT)
        .unwrap();
    assert_eq!(out, message);
    assert!(out.capacity() < 4 * message.len(), "{}", out.capacity());
}

#[test]
fn limit_counts_the_whole_message_across_fragments() {
    let message = corpus(10_000, 1);
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    let (rsv, wire) = encode_whole(&mut client, &message);
    let (first, second) = wire.split_at(wire.len() / 2);
    server.begin_incoming(rsv).unwrap();
    let mut out = Vec::new();
    let limit = message.len() - 1;
    let result = server
        .decode(first, false, &mut out, limit)
        .and_then(|()| server.decode(second, true, &mut out, limit));
    assert_eq!(result, Err(MessageError::TooBig));

    // Exactly at the limit is fine.
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    let (rsv, wire) = encode_whole(&mut client, &message);
    let mut out = Vec::new();
    server
        .decode_message(rsv, &wire, &mut out, message.len())
        .unwrap();
    assert_eq!(out, message);
}

#[test]
fn limit_applies_to_uncompressed_messages_too() {
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let mut out = Vec::new();
    let error = server
        .decode_message(RsvBits::NONE, &[0; 11], &mut out, 10)
        .unwrap_err();
    assert_eq!(error, MessageError::TooBig);
}

#[test]
fn corrupt_data_fails_with_1007() {
    let (_, mut server) = pair(eager(DeflateParams::default()));
    // Block type 3 is reserved.
    let error = decode_error(&mut server, &[0xff, 0xff, 0xff]);
    assert!(matches!(error, MessageError::Corrupt(_)), "{error:?}");
    assert_eq!(error.close_code(), CloseCode::INVALID_PAYLOAD);
}

fn decode_error(side: &mut Negotiated, payload: &[u8]) -> MessageError {
    side.decode_message(RsvBits::RSV1, payload, &mut Vec::new(), NO_LIMIT)
        .unwrap_err()
}

#[test]
fn bytes_after_the_end_of_the_stream_are_ignored() {
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let after = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x01, 0x02];
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &after), b"Hello");
    // Also when they come in a later frame of the same message.
    server.begin_incoming(RsvBits::RSV1).unwrap();
    let mut out = Vec::new();
    server
        .decode(&after[..7], false, &mut out, NO_LIMIT)
        .unwrap();
    server.decode(&HELLO, true, &mut out, NO_LIMIT).unwrap();
    assert_eq!(out, b"Hello");
    assert_eq!(decode_whole(&mut server, RsvBits::RSV1, &HELLO), b"Hello");
}

#[test]
fn reference_before_any_data_is_corrupt() {
    // A fixed-Huffman block whose first symbol copies 3 bytes from distance 1, in a fresh
    // stream: there is nothing to copy from.
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let error = decode_error(&mut server, &[0x02, 0x02, 0x00]);
    assert!(matches!(error, MessageError::Corrupt(_)), "{error:?}");
}

#[test]
fn a_failing_compressor_closes_with_1011() {
    // zlib does not fail on valid use, so this path is only reachable by construction.
    let error = MessageError::Compress("deflate failed".into());
    assert_eq!(error.close_code(), CloseCode::INTERNAL_ERROR);
}

#[test]
fn rsv_bits_nobody_owns_fail_with_1002() {
    let (_, mut server) = pair(eager(DeflateParams::default()));
    let error = server.begin_incoming(RsvBits::RSV2).unwrap_err();
    assert_eq!(error, MessageError::UnexpectedRsv(RsvBits::RSV2));
    assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);

    // Without permessage-deflate, RSV1 is not allowed either.
    let mut plain = Negotiated::default();
    assert_eq!(plain.rsv_bits(), RsvBits::NONE);
    let error = plain.begin_incoming(RsvBits::RSV1).unwrap_err();
    assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
    // Plain messages pass through.
    assert_eq!(decode_whole(&mut plain, RsvBits::NONE, b"plain"), b"plain");
    assert_eq!(
        encode_whole(&mut plain, b"plain"),
        (RsvBits::NONE, b"plain".to_vec())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random messages, cut into random fragments on both sides, round-trip in order.
    #[test]
    fn random_messages_in_random_fragments_round_trip(
        messages in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..3000),
                (0usize..20_000, any::<u32>()).prop_map(|(len, seed)| corpus(len, seed)),
            ],
            1..6,
        ),
        cuts in prop::collection::vec(1usize..5000, 1..8),
        bits in 8u8..=15,
        no_takeover in any::<bool>(),
    ) {
        let (mut client, mut server) = pair(eager(DeflateParams {
            client_no_context_takeover: no_takeover,
            client_max_window_bits: Some(bits),
            ..DeflateParams::default()
        }));
        for message in &messages {
            let rsv = client.begin_outgoing(None, true);
            let mut frames = Vec::new();
            let mut rest = message.as_slice();
            let mut cut = cuts.iter().cycle();
            loop {
                let n = (*cut.next().unwrap()).min(rest.len());
                let (piece, tail) = rest.split_at(n);
                rest = tail;
                let mut wire = Vec::new();
                client.encode(piece, rest.is_empty(), &mut wire).unwrap();
                frames.push(wire);
                if rest.is_empty() {
                    break;
                }
            }
            server.begin_incoming(rsv).unwrap();
            let mut out = Vec::new();
            let wire: Vec<u8> = frames.concat();
            // The receiver's frames are cut differently from the sender's.
            let pieces: Vec<&[u8]> = wire.chunks(cuts[0]).collect();
            if pieces.is_empty() {
                server.decode(&[], true, &mut out, message.len()).unwrap();
            }
            for (i, piece) in pieces.iter().enumerate() {
                server.decode(piece, i + 1 == pieces.len(), &mut out, message.len()).unwrap();
            }
            prop_assert_eq!(&out, message);
        }
    }
}

#[test]
fn the_default_level_reuses_the_window_on_json_records() {
    let message: String = (0..20)
        .map(|i| {
            format!(
                r#"{{"id":{i},"user":"user{i}","score":{}.5,"active":true}},"#,
                i * 7
            )
        })
        .collect();
    let (mut client, mut server) = pair(eager(DeflateParams::default()));
    let (rsv, first) = encode_whole(&mut client, message.as_bytes());
    let (_, second) = encode_whole(&mut client, message.as_bytes());
    assert!(
        first.len() < message.len() / 2,
        "{} of {}",
        first.len(),
        message.len()
    );
    assert!(
        second.len() * 4 < first.len(),
        "{} then {}",
        first.len(),
        second.len()
    );
    assert_eq!(decode_whole(&mut server, rsv, &first), message.as_bytes());
    assert_eq!(decode_whole(&mut server, rsv, &second), message.as_bytes());
}

fn standalone(side: &Negotiated, message: &[u8]) -> (RsvBits, Vec<u8>) {
    let mut wire = Vec::new();
    let rsv = side
        .encode_standalone(message, true, &mut wire)
        .expect("compressible");
    (rsv, wire)
}

#[test]
fn a_standalone_message_inflates_amid_context_takeover_and_the_next_one_too() {
    // Level 6 finds the whole earlier message, so the third message refers back to the
    // first: that must not reach past the standalone one the compressor never saw.
    let (mut client, mut server) = pair(eager(DeflateParams::default()).level(6));
    let first = corpus(2000, 1);
    let broadcast = corpus(1500, 2);
    let (rsv, first_wire) = encode_whole(&mut server, &first);
    assert_eq!(decode_whole(&mut client, rsv, &first_wire), first);
    let (rsv, wire) = standalone(&server, &broadcast);
    assert_eq!(rsv, RsvBits::RSV1);
    assert!(wire.len() < broadcast.len());
    server.sent_standalone(rsv);
    assert_eq!(decode_whole(&mut client, rsv, &wire), broadcast);
    let (rsv, wire) = encode_whole(&mut server, &first);
    assert_eq!(decode_whole(&mut client, rsv, &wire), first);
    // After the reset, the repeat of the first message compresses as it did when new.
    assert_eq!(wire, first_wire);
}

#[test]
fn equal_parameters_give_equal_keys_and_bytes() {
    let (_, server_a) = pair(eager(DeflateParams::default()));
    let (_, mut server_b) = pair(eager(DeflateParams::default()));
    // Connection state does not enter into it.
    encode_whole(&mut server_b, &corpus(3000, 3));
    assert_eq!(server_a.standalone_key(), server_b.standalone_key());
    let message = corpus(1000, 4);
    assert_eq!(
        standalone(&server_a, &message),
        standalone(&server_b, &message)
    );
}

#[test]
fn window_bits_level_and_minimum_size_each_change_the_key() {
    let key = |deflate: PerMessageDeflate| pair(deflate).1.standalone_key().cloned();
    let base = key(eager(DeflateParams::default()));
    assert!(base.is_some());
    let narrow = key(eager(DeflateParams {
        server_max_window_bits: Some(10),
        ..DeflateParams::default()
    }));
    let level = key(eager(DeflateParams::default()).level(9));
    let min_size = key(PerMessageDeflate::new().min_size(100));
    for other in [narrow, level, min_size] {
        assert!(other.is_some());
        assert_ne!(other, base);
    }
}

#[test]
fn standalone_leaves_short_and_opted_out_messages_as_they_are() {
    let (_, server) = pair(PerMessageDeflate::new().min_size(100));
    let short = corpus(99, 5);
    let mut wire = Vec::new();
    let rsv = server.encode_standalone(&short, true, &mut wire).unwrap();
    assert_eq!((rsv, wire.as_slice()), (RsvBits::NONE, short.as_slice()));
    let long = corpus(1000, 6);
    let mut wire = Vec::new();
    let rsv = server.encode_standalone(&long, false, &mut wire).unwrap();
    assert_eq!((rsv, wire.as_slice()), (RsvBits::NONE, long.as_slice()));
}

#[test]
fn without_extensions_the_key_is_empty_and_nothing_is_transformed() {
    let none = Extensions::new().server_accept(&["permessage-deflate"]);
    assert_eq!(
        none.standalone_key(),
        Negotiated::default().standalone_key()
    );
    let mut wire = Vec::new();
    let rsv = none.encode_standalone(b"as is", true, &mut wire).unwrap();
    assert_eq!((rsv, wire.as_slice()), (RsvBits::NONE, &b"as is"[..]));
}

#[test]
fn a_shared_decompressor_remembers_nothing_of_its_last_connection() {
    let resets = eager(DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    });
    let secret = corpus(3000, 9);
    // Connection A inflates a message; its decompressor goes back to the pool.
    let (mut client_a, mut server_a) = pair(resets.clone());
    let (rsv, wire) = encode_whole(&mut client_a, &secret);
    assert_eq!(decode_whole(&mut server_a, rsv, &wire), secret);
    // On connection B, a client that claimed to reset sends a message that refers back to
    // the same text: made by a compressor that did see it.
    let (_, mut server_b) = pair(resets);
    let (mut rogue, _) = pair(eager(DeflateParams::default()).level(6));
    encode_whole(&mut rogue, &secret);
    let (rsv, wire) = encode_whole(&mut rogue, &secret);
    assert!(wire.len() < 100, "a back-reference, {} bytes", wire.len());
    let mut out = Vec::new();
    let result = server_b.decode_message(rsv, &wire, &mut out, NO_LIMIT);
    assert!(
        matches!(result, Err(MessageError::Corrupt(_))),
        "{result:?}, {} bytes out",
        out.len()
    );
    assert_ne!(out, secret);
}

#[test]
fn without_context_takeover_each_message_compresses_as_the_first() {
    let (mut client, mut server) = pair(eager(DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateParams::default()
    }));
    let message = corpus(2000, 10);
    let first = encode_whole(&mut server, &message);
    for _ in 0..3 {
        // Other connections' messages in between go through the same shared compressor.
        let (_, mut other) = pair(eager(DeflateParams {
            server_no_context_takeover: true,
            ..DeflateParams::default()
        }));
        encode_whole(&mut other, &corpus(2000, 11));
        assert_eq!(encode_whole(&mut server, &message), first);
        assert_eq!(decode_whole(&mut client, first.0, &first.1), message);
        let (rsv, wire) = encode_whole(&mut client, &message);
        assert_eq!(decode_whole(&mut server, rsv, &wire), message);
    }
}
