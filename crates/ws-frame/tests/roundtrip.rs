//! Property tests: whatever the encoder writes, the decoder reads back the same frames,
//! however the bytes are split.

use bytes::BytesMut;
use proptest::prelude::*;
use ws_frame::{Decoder, Encoder, FrameHeader, OpCode, Role, RsvBits};

#[derive(Debug, Clone)]
struct Spec {
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    payload: Vec<u8>,
}

fn frame_spec() -> impl Strategy<Value = Spec> {
    let data = (
        any::<bool>(),
        0u8..8,
        prop::sample::select(vec![OpCode::CONTINUATION, OpCode::TEXT, OpCode::BINARY]),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(fin, rsv, opcode, payload)| Spec {
            fin,
            rsv,
            opcode,
            payload,
        });
    let control = (
        prop::sample::select(vec![OpCode::CLOSE, OpCode::PING, OpCode::PONG]),
        prop::collection::vec(any::<u8>(), 0..=125),
    )
        .prop_map(|(opcode, payload)| Spec {
            fin: true,
            rsv: 0,
            opcode,
            payload,
        });
    // Mostly small payloads, sometimes one around the 16-bit length boundary.
    prop_oneof![4 => data, 1 => frame_spec_large(), 2 => control]
}

fn frame_spec_large() -> impl Strategy<Value = Spec> {
    (any::<bool>(), 65_530usize..65_545).prop_map(|(fin, len)| Spec {
        fin,
        rsv: 0,
        opcode: OpCode::BINARY,
        payload: (0..len).map(|i| i as u8).collect(),
    })
}

fn rsv(bits: u8) -> RsvBits {
    RsvBits::from_first_byte(bits << 4)
}

fn roundtrip(
    sender: Role,
    specs: &[Spec],
    cuts: &[prop::sample::Index],
    seed: u32,
) -> Result<(), TestCaseError> {
    let mut counter = seed;
    let mut encoder = match sender {
        Role::Client => Encoder::client(move || {
            counter = counter.wrapping_mul(747_796_405).wrapping_add(1);
            counter.to_le_bytes()
        }),
        Role::Server => Encoder::server(),
    };
    let mut wire = BytesMut::new();
    for spec in specs {
        let header = FrameHeader {
            fin: spec.fin,
            rsv: rsv(spec.rsv),
            ..FrameHeader::new(spec.opcode, spec.payload.len() as u64)
        };
        encoder.encode(header, &spec.payload, &mut wire);
    }

    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
    points.extend([0, wire.len()]);
    points.sort_unstable();

    let decoder = Decoder::new(sender.peer()).with_allowed_rsv(RsvBits::ALL);
    let mut buf = BytesMut::new();
    let mut decoded = Vec::new();
    for pair in points.windows(2) {
        buf.extend_from_slice(&wire[pair[0]..pair[1]]);
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            decoded.push(frame);
        }
    }
    prop_assert!(buf.is_empty());
    prop_assert_eq!(decoded.len(), specs.len());
    for (frame, spec) in decoded.iter().zip(specs) {
        prop_assert_eq!(frame.header.fin, spec.fin);
        prop_assert_eq!(frame.header.rsv, rsv(spec.rsv));
        prop_assert_eq!(frame.header.opcode, spec.opcode);
        prop_assert_eq!(frame.header.mask.is_some(), sender == Role::Client);
        prop_assert_eq!(&frame.payload[..], &spec.payload[..]);
        // Never a longer length form than needed.
        let minimal = FrameHeader::new(spec.opcode, spec.payload.len() as u64).encoded_len()
            + if sender == Role::Client { 4 } else { 0 };
        prop_assert_eq!(frame.header.encoded_len(), minimal);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn client_to_server_any_split(
        specs in prop::collection::vec(frame_spec(), 0..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        seed in any::<u32>(),
    ) {
        roundtrip(Role::Client, &specs, &cuts, seed)?;
    }

    #[test]
    fn server_to_client_any_split(
        specs in prop::collection::vec(frame_spec(), 0..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        roundtrip(Role::Server, &specs, &cuts, 0)?;
    }

    /// Arbitrary bytes never panic the decoder, in either role, and whatever it returns
    /// consumed input consistently.
    #[test]
    fn arbitrary_input_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        server in any::<bool>(),
        max in 0u64..1024,
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let decoder = Decoder::new(role).with_max_payload_len(max);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut previous = buf.len() + 1;
        while let Ok(Some(frame)) = decoder.decode(&mut buf) {
            prop_assert!(frame.payload.len() as u64 <= max);
            prop_assert!(buf.len() < previous);
            previous = buf.len();
        }
    }
}

#[test]
fn encoder_header_alone_matches_whole_frame() {
    let mut server = Encoder::server();
    let payload = vec![3u8; 1000];
    let header = server.encode_header(FrameHeader::new(OpCode::BINARY, 1000));
    assert_eq!(header.mask_key(), None);
    let mut whole = BytesMut::new();
    server.encode(FrameHeader::new(OpCode::BINARY, 1000), &payload, &mut whole);
    assert_eq!(&whole[..header.len()], header.as_bytes());
    assert_eq!(&whole[header.len()..], &payload[..]);

    // A server never masks, even when handed a header with a key.
    let keyed = FrameHeader {
        mask: Some([1, 2, 3, 4]),
        ..FrameHeader::new(OpCode::TEXT, 0)
    };
    assert_eq!(server.encode_header(keyed).as_bytes(), &[0x81, 0x00]);

    // A client always does, with a fresh key per frame.
    let mut next = 0u8;
    let mut client = Encoder::client(move || {
        next += 1;
        [next; 4]
    });
    assert_eq!(client.role(), Role::Client);
    let first = client.encode_header(FrameHeader::new(OpCode::TEXT, 0));
    let second = client.encode_header(FrameHeader::new(OpCode::TEXT, 0));
    assert_eq!(first.mask_key(), Some([1; 4]));
    assert_eq!(second.mask_key(), Some([2; 4]));
    assert_eq!(first.as_bytes(), &[0x81, 0x80, 1, 1, 1, 1]);
}

#[test]
#[should_panic(expected = "header.payload_len must equal the payload's length")]
fn encode_refuses_mismatched_length() {
    Encoder::server().encode(
        FrameHeader::new(OpCode::TEXT, 3),
        b"four",
        &mut BytesMut::new(),
    );
}
