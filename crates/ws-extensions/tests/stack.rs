//! The framework with more than one extension: ordering, RSV bits, conflicts.

use ws_extensions::{
    Codec, Extension, Extensions, MessageError, NegotiationError, PerMessageDeflate,
};
use ws_frame::RsvBits;
use ws_handshake::grammar;

/// A toy extension that XORs every byte with a key, on the RSV bits it is given.
#[derive(Debug)]
struct Xor {
    name: &'static str,
    rsv: RsvBits,
    /// Whether its codec can encode a message on its own.
    standalone: bool,
}

#[derive(Debug)]
struct XorCodec {
    standalone: bool,
}

impl Codec for XorCodec {
    fn decode(
        &mut self,
        payload: &[u8],
        _fin: bool,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), MessageError> {
        if payload.len() > max {
            return Err(MessageError::TooBig);
        }
        out.extend(payload.iter().map(|b| b ^ 0x5a));
        Ok(())
    }

    fn begin_outgoing(&mut self, _len: Option<usize>, compress: bool) -> bool {
        compress
    }

    fn encode(
        &mut self,
        payload: &[u8],
        _fin: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), MessageError> {
        out.extend(payload.iter().map(|b| b ^ 0x5a));
        Ok(())
    }

    fn standalone_params(&self) -> Option<u64> {
        self.standalone.then_some(0x5a)
    }

    fn encode_standalone(
        &self,
        payload: &[u8],
        compress: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool, MessageError> {
        out.extend(payload.iter().map(|b| b ^ 0x5a));
        Ok(compress)
    }
}

impl Extension for Xor {
    fn name(&self) -> &str {
        self.name
    }
    fn rsv_bits(&self) -> RsvBits {
        self.rsv
    }
    fn offers(&self) -> Vec<String> {
        vec![self.name.to_owned()]
    }
    fn accept(&self, _offer: &grammar::Extension<'_>) -> Option<(String, Box<dyn Codec>)> {
        let codec = XorCodec {
            standalone: self.standalone,
        };
        Some((self.name.to_owned(), Box::new(codec)))
    }
    fn confirm(
        &self,
        _answer: &grammar::Extension<'_>,
    ) -> Result<Box<dyn Codec>, NegotiationError> {
        Ok(Box::new(XorCodec {
            standalone: self.standalone,
        }))
    }
}

fn stack() -> Extensions {
    Extensions::new()
        .with(PerMessageDeflate::new().min_size(0))
        .with(Xor {
            name: "x-xor",
            rsv: RsvBits::RSV2,
            standalone: true,
        })
        .with(Xor {
            name: "x-clash",
            rsv: RsvBits::RSV1,
            standalone: true,
        })
}

#[test]
fn server_skips_an_extension_whose_rsv_bit_is_taken() {
    let offers = stack().client_offers();
    assert_eq!(
        offers,
        [
            "permessage-deflate; client_max_window_bits",
            "x-xor",
            "x-clash"
        ]
    );
    let server = stack().server_accept(&offers);
    assert_eq!(
        server.agreed().collect::<Vec<_>>(),
        ["permessage-deflate", "x-xor"]
    );
    assert_eq!(server.rsv_bits(), RsvBits::RSV1 | RsvBits::RSV2);
    // In the client's order: x-clash first takes RSV1, so deflate is skipped.
    let server = stack().server_accept(["x-clash, permessage-deflate"]);
    assert_eq!(server.agreed().collect::<Vec<_>>(), ["x-clash"]);
}

#[test]
fn client_refuses_two_extensions_on_one_rsv_bit() {
    let error = stack()
        .client_confirm(["permessage-deflate, x-clash"])
        .unwrap_err();
    assert_eq!(error, NegotiationError::RsvConflict("x-clash".to_owned()));
}

#[test]
fn stacked_extensions_apply_in_order_out_and_in_reverse_in() {
    let config = stack();
    let mut server = config.server_accept(["permessage-deflate", "x-xor"]);
    let mut client = config
        .client_confirm(["permessage-deflate", "x-xor"])
        .unwrap();
    let message = b"stacked, stacked, stacked, stacked, stacked".repeat(20);
    let mut plain = config.server_accept(["permessage-deflate"]);
    for _ in 0..2 {
        let rsv = client.begin_outgoing(None, true);
        assert_eq!(rsv, RsvBits::RSV1 | RsvBits::RSV2);
        let mut frames = Vec::new();
        for (i, piece) in message.chunks(100).enumerate() {
            let mut wire = Vec::new();
            client
                .encode(piece, (i + 1) * 100 >= message.len(), &mut wire)
                .unwrap();
            frames.push(wire);
        }
        let wire = frames.concat();
        // Compressed first, then XORed: undoing the XOR gives a deflate stream.
        let unxored: Vec<u8> = wire.iter().map(|b| b ^ 0x5a).collect();
        let mut out = Vec::new();
        plain
            .decode_message(RsvBits::RSV1, &unxored, &mut out, usize::MAX)
            .unwrap();
        assert_eq!(out, message);

        server.begin_incoming(rsv).unwrap();
        let mut out = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            server
                .decode(frame, i + 1 == frames.len(), &mut out, usize::MAX)
                .unwrap();
        }
        assert_eq!(out, message);
    }
    // Opting out skips both (the toy follows the same flag).
    let mut wire = Vec::new();
    let rsv = client.encode_message(b"raw", false, &mut wire).unwrap();
    assert_eq!((rsv, wire.as_slice()), (RsvBits::NONE, &b"raw"[..]));
    // Only one layer: RSV2 alone is the XOR without inflating.
    let mut out = Vec::new();
    server
        .decode_message(RsvBits::RSV2, &[b'a' ^ 0x5a], &mut out, 10)
        .unwrap();
    assert_eq!(out, b"a");
}

#[test]
fn the_limit_holds_through_the_stack() {
    let config = stack();
    let mut server = config.server_accept(["permessage-deflate", "x-xor"]);
    let mut client = config
        .client_confirm(["permessage-deflate", "x-xor"])
        .unwrap();
    let mut wire = Vec::new();
    let rsv = client
        .encode_message(&[0; 100_000], true, &mut wire)
        .unwrap();
    let mut out = Vec::new();
    let error = server
        .decode_message(rsv, &wire, &mut out, 1000)
        .unwrap_err();
    assert_eq!(error, MessageError::TooBig);
    assert!(out.len() <= 1001);
}

#[test]
fn a_standalone_message_goes_through_the_stack_in_order() {
    let config = stack();
    let server = config.server_accept(["permessage-deflate", "x-xor"]);
    let mut client = config
        .client_confirm(["permessage-deflate", "x-xor"])
        .unwrap();
    assert!(server.standalone_key().is_some());
    let message = b"broadcast, broadcast, broadcast".repeat(10);
    let mut wire = Vec::new();
    let rsv = server.encode_standalone(&message, true, &mut wire).unwrap();
    assert_eq!(rsv, RsvBits::RSV1 | RsvBits::RSV2);
    let mut out = Vec::new();
    client
        .decode_message(rsv, &wire, &mut out, usize::MAX)
        .unwrap();
    assert_eq!(out, message);
}

#[test]
fn one_extension_without_standalone_encoding_leaves_the_stack_without_a_key() {
    let config = Extensions::new().with(PerMessageDeflate::new()).with(Xor {
        name: "x-stateful",
        rsv: RsvBits::RSV2,
        standalone: false,
    });
    let both = config.server_accept(["permessage-deflate", "x-stateful"]);
    assert_eq!(both.standalone_key(), None);
    let deflate_only = config.server_accept(["permessage-deflate"]);
    assert!(deflate_only.standalone_key().is_some());
}
