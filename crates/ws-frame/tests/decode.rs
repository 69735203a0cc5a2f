//! Decoder behaviour: every rejection rule, incremental input, zero copy, limits.

use bytes::BytesMut;
use ws_frame::{
    CloseCode, DEFAULT_MAX_PAYLOAD_LEN, DecodeError, Decoder, Encoder, Frame, FrameHeader, OpCode,
    Role, RsvBits,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn decode_all(decoder: &Decoder, bytes: &[u8]) -> Result<Vec<Frame>, DecodeError> {
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut buf)? {
        frames.push(frame);
    }
    Ok(frames)
}

/// Feeds `bytes` to a server decoder and returns the error, asserting that it came out
/// as soon as `at` bytes (the header bytes that reveal it) were available.
fn rejected_at(decoder: Decoder, bytes: &[u8], at: usize) -> DecodeError {
    let early = decoder;
    let mut buf = BytesMut::from(&bytes[..at - 1]);
    assert_eq!(
        early.decode(&mut buf),
        Ok(None),
        "error must need exactly {at} bytes"
    );
    let mut buf = BytesMut::from(&bytes[..at]);
    decoder
        .decode(&mut buf)
        .expect_err("frame must be rejected")
}

#[test]
fn rfc_examples_decode() {
    let client = Decoder::new(Role::Client);
    let frames = decode_all(&client, b"\x81\x05Hello").unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(&frames[0].payload[..], b"Hello");
    assert_eq!(frames[0].header.mask, None);

    // RFC 6455 §5.7: a fragmented unmasked text message, then a masked ping.
    let frames = decode_all(&client, b"\x01\x03Hel\x80\x02lo").unwrap();
    assert_eq!(
        frames.iter().map(|f| f.header.fin).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(frames[1].header.opcode, OpCode::CONTINUATION);

    let server = Decoder::new(Role::Server);
    let ping = [
        0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let frames = decode_all(&server, &ping).unwrap();
    assert_eq!(frames[0].header.opcode, OpCode::PING);
    assert_eq!(frames[0].header.mask, Some(KEY));
    assert_eq!(&frames[0].payload[..], b"Hello");
}

#[test]
fn reserved_opcodes_rejected_from_first_two_bytes() {
    for bits in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let frame = [0x80 | bits, 0x80, 1, 2, 3, 4];
        let err = rejected_at(Decoder::new(Role::Server), &frame, 2);
        assert_eq!(err, DecodeError::ReservedOpCode(OpCode::from_bits(bits)));
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn rsv_bits_rejected_unless_allowed() {
    for (bit, byte) in [
        (RsvBits::RSV1, 0x40),
        (RsvBits::RSV2, 0x20),
        (RsvBits::RSV3, 0x10),
    ] {
        let frame = [0x81 | byte, 0x80, 1, 2, 3, 4];
        let err = rejected_at(Decoder::new(Role::Server), &frame, 2);
        assert_eq!(err, DecodeError::UnexpectedRsvBits(bit));
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
    // Allowing RSV1 (as permessage-deflate does) admits it, but not RSV2 beside it.
    let deflate = Decoder::new(Role::Server).with_allowed_rsv(RsvBits::RSV1);
    let frames = decode_all(&deflate, &[0xC1, 0x80, 1, 2, 3, 4]).unwrap();
    assert_eq!(frames[0].header.rsv, RsvBits::RSV1);
    let err = rejected_at(deflate, &[0xE1, 0x80, 1, 2, 3, 4], 2);
    assert_eq!(err, DecodeError::UnexpectedRsvBits(RsvBits::RSV2));
}

#[test]
fn fragmented_control_frames_rejected() {
    for op in [OpCode::CLOSE, OpCode::PING, OpCode::PONG] {
        let frame = [op.bits(), 0x80, 1, 2, 3, 4];
        let err = rejected_at(Decoder::new(Role::Server), &frame, 2);
        assert_eq!(err, DecodeError::FragmentedControlFrame(op));
    }
}

#[test]
fn control_frames_over_125_bytes_rejected_before_length_arrives() {
    let decoder = Decoder::new(Role::Server);
    // 125 bytes is fine.
    let mut ok = vec![0x89, 0x80 | 125, 0, 0, 0, 0];
    ok.extend([0u8; 125]);
    assert_eq!(decode_all(&decoder, &ok).unwrap().len(), 1);
    // 126 needs the 16-bit form; the 126 marker alone gives it away.
    let err = rejected_at(decoder, &[0x89, 0x80 | 126, 0, 126, 1, 2, 3, 4], 2);
    assert_eq!(err, DecodeError::ControlFrameTooLong(OpCode::PING));
    let err = rejected_at(decoder, &[0x88, 0x80 | 127, 0, 0, 0, 0, 0, 0, 1, 0], 2);
    assert_eq!(err, DecodeError::ControlFrameTooLong(OpCode::CLOSE));
}

#[test]
fn mask_bit_must_match_role() {
    let err = rejected_at(Decoder::new(Role::Server), b"\x81\x05Hello", 2);
    assert_eq!(err, DecodeError::UnmaskedFrame);
    assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    let masked = [0x81, 0x81, 1, 2, 3, 4, b'a' ^ 1];
    let err = rejected_at(Decoder::new(Role::Client), &masked, 2);
    assert_eq!(err, DecodeError::MaskedFrame);
}

#[test]
fn length_with_top_bit_rejected() {
    let mut frame = vec![0x82, 127];
    frame.extend(u64::MAX.to_be_bytes());
    let err = rejected_at(Decoder::new(Role::Client), &frame, 10);
    assert_eq!(err, DecodeError::LengthOverflow);
    assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    frame[2] = 0x80;
    frame[3..10].fill(0);
    assert_eq!(
        rejected_at(Decoder::new(Role::Client), &frame, 10),
        DecodeError::LengthOverflow
    );
}

#[test]
fn payload_limit_enforced_from_the_header() {
    let decoder = Decoder::new(Role::Client).with_max_payload_len(1000);
    let mut at_limit = vec![0x82, 126];
    at_limit.extend(1000u16.to_be_bytes());
    at_limit.extend([7u8; 1000]);
    assert_eq!(decode_all(&decoder, &at_limit).unwrap().len(), 1);

    let over = [0x82, 126, 0x03, 0xE9]; // 1001, and no payload sent at all
    let err = rejected_at(decoder, &over, 4);
    assert_eq!(
        err,
        DecodeError::PayloadTooLarge {
            len: 1001,
            max: 1000
        }
    );
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
    assert_eq!(
        err.to_string(),
        "frame payload of 1001 bytes exceeds the limit of 1000"
    );

    // The default limit applies to a 64-bit length too, with no payload buffered.
    let mut huge = vec![0x82, 127];
    huge.extend((DEFAULT_MAX_PAYLOAD_LEN + 1).to_be_bytes());
    let err = rejected_at(Decoder::new(Role::Client), &huge, 10);
    assert!(matches!(err, DecodeError::PayloadTooLarge { .. }));
}

#[test]
fn non_minimal_lengths_accepted() {
    let decoder = Decoder::new(Role::Client);
    // "Hi" with a 16-bit length, then with a 64-bit length.
    let mut input = vec![0x81, 126, 0, 2, b'H', b'i', 0x81, 127];
    input.extend(2u64.to_be_bytes());
    input.extend(b"Hi");
    let frames = decode_all(&decoder, &input).unwrap();
    assert_eq!(frames.len(), 2);
    assert!(frames.iter().all(|f| &f.payload[..] == b"Hi"));
}

#[test]
fn one_byte_at_a_time_loses_nothing() {
    let mut encoder = Encoder::client(|| KEY);
    let mut wire = BytesMut::new();
    let payloads: [&[u8]; 4] = [b"", b"x", &[9u8; 300], &[1u8; 70_000]];
    for payload in payloads {
        let header = FrameHeader::new(OpCode::BINARY, payload.len() as u64);
        encoder.encode(header, payload, &mut wire);
    }
    let decoder = Decoder::new(Role::Server);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for &byte in wire.iter() {
        buf.extend_from_slice(&[byte]);
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            frames.push(frame.payload);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(frames.len(), payloads.len());
    for (got, want) in frames.iter().zip(payloads) {
        assert_eq!(&got[..], want);
    }
}

#[test]
fn incomplete_frames_stay_in_the_buffer_untouched() {
    let decoder = Decoder::new(Role::Client);
    let mut buf = BytesMut::from(&b"\x81\x02ok\x82\x7e\x01"[..]);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(&frame.payload[..], b"ok");
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(
        &buf[..],
        b"\x82\x7e\x01",
        "a partial header is left in place"
    );
    buf.extend_from_slice(&[0x00]); // length 256: header complete, payload missing
    buf.extend_from_slice(&[5u8; 255]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(buf.len(), 4 + 255, "a partial frame is left in place");
    buf.extend_from_slice(&[5u8; 1]);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(&frame.payload[..], &[5u8; 256][..]);
    assert!(buf.is_empty());
}

#[test]
fn payload_is_split_off_the_input_not_copied() {
    let mut encoder = Encoder::client(|| KEY);
    let mut buf = BytesMut::with_capacity(4096);
    encoder.encode(
        FrameHeader::new(OpCode::BINARY, 1000),
        &[0xAB; 1000],
        &mut buf,
    );
    let range = buf.as_ptr_range();
    let frame = Decoder::new(Role::Server)
        .decode(&mut buf)
        .unwrap()
        .unwrap();
    assert!(
        range.contains(&frame.payload.as_ptr()),
        "payload was copied"
    );
    assert!(frame.payload.iter().all(|&b| b == 0xAB));
}

#[test]
fn errors_describe_the_rule() {
    let cases = [
        (
            DecodeError::ReservedOpCode(OpCode::from_bits(3)),
            "frame uses reserved opcode 0x3",
        ),
        (
            DecodeError::UnexpectedRsvBits(RsvBits::RSV2),
            "frame sets RSV bits {RSV2} that no extension negotiated",
        ),
        (
            DecodeError::FragmentedControlFrame(OpCode::PING),
            "Ping control frame is fragmented (FIN not set)",
        ),
        (
            DecodeError::ControlFrameTooLong(OpCode::CLOSE),
            "Close control frame payload is longer than 125 bytes",
        ),
        (DecodeError::UnmaskedFrame, "client frame is not masked"),
        (DecodeError::MaskedFrame, "server frame is masked"),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), text);
    }
}
