//! Negotiation: what a client offers, what a server accepts or declines, and which answers
//! a client refuses.

use ws_extensions::{DeflateParams, Extensions, NegotiationError, PerMessageDeflate};
use ws_frame::RsvBits;
use ws_handshake::grammar::GrammarError;

fn config(deflate: PerMessageDeflate) -> Extensions {
    Extensions::new().with(deflate)
}

fn server_answer(server: &PerMessageDeflate, offers: &[&str]) -> Vec<String> {
    config(server.clone())
        .server_accept(offers)
        .agreed()
        .map(str::to_owned)
        .collect()
}

fn client_check(client: PerMessageDeflate, answer: &str) -> Result<(), NegotiationError> {
    config(client).client_confirm([answer]).map(|negotiated| {
        assert_eq!(negotiated.rsv_bits(), RsvBits::RSV1);
        assert_eq!(negotiated.agreed().collect::<Vec<_>>(), [answer]);
    })
}

fn param(name: &str) -> String {
    name.to_owned()
}

#[test]
fn client_offers_every_parameter_in_order_with_fallbacks() {
    let deflate = PerMessageDeflate::with_params(DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(9),
    })
    .fallback(DeflateParams {
        client_max_window_bits: Some(10),
        ..DeflateParams::default()
    })
    .fallback(DeflateParams::default());
    assert_eq!(
        config(deflate).client_offers(),
        [
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=9",
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits",
        ]
    );
    assert!(Extensions::new().client_offers().is_empty());
}

#[test]
#[should_panic(expected = "window bits must be 8 to 15")]
fn configured_window_bits_out_of_range_panic() {
    let _ = PerMessageDeflate::with_params(DeflateParams {
        server_max_window_bits: Some(16),
        ..DeflateParams::default()
    });
}

#[test]
fn server_answers_each_offered_parameter() {
    let server = PerMessageDeflate::new();
    let cases = [
        ("permessage-deflate", "permessage-deflate"),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
        ),
        (
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate",
        ),
        (
            "permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=9",
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=8",
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            "permessage-deflate; client_no_context_takeover",
        ),
        (
            "permessage-deflate;server_no_context_takeover;client_no_context_takeover;\
             server_max_window_bits=\"12\";client_max_window_bits=15",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12",
        ),
    ];
    for (offer, answer) in cases {
        assert_eq!(server_answer(&server, &[offer]), [answer], "offer {offer}");
    }
}

#[test]
fn server_policy_is_applied_to_offers() {
    let server = PerMessageDeflate::with_params(DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(12),
        client_max_window_bits: Some(11),
    });
    let both = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    // The client's window is limited only when the client offered the parameter.
    assert_eq!(
        server_answer(&server, &["permessage-deflate"]),
        [format!("{both}; server_max_window_bits=12")]
    );
    assert_eq!(
        server_answer(&server, &["permessage-deflate; client_max_window_bits"]),
        [format!(
            "{both}; server_max_window_bits=12; client_max_window_bits=11"
        )]
    );
    // The smaller of the two limits wins, on each side.
    assert_eq!(
        server_answer(
            &server,
            &["permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"]
        ),
        [format!(
            "{both}; server_max_window_bits=10; client_max_window_bits=9"
        )]
    );
    assert_eq!(
        server_answer(
            &server,
            &["permessage-deflate; server_max_window_bits=14; client_max_window_bits=13"]
        ),
        [format!(
            "{both}; server_max_window_bits=12; client_max_window_bits=11"
        )]
    );
}

#[test]
fn server_declines_malformed_offers_and_takes_the_first_acceptable() {
    let server = PerMessageDeflate::new();
    let declined = [
        "permessage-deflate; x-unknown",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=09",
        "permessage-deflate; server_max_window_bits=ten",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=255",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=9",
    ];
    for offer in declined {
        assert!(
            server_answer(&server, &[offer]).is_empty(),
            "accepted {offer}"
        );
        // Declined, then the fallback in the same header is taken.
        let header = format!("{offer}, permessage-deflate; server_max_window_bits=11");
        assert_eq!(
            server_answer(&server, &[header.as_str()]),
            ["permessage-deflate; server_max_window_bits=11"],
            "{header}"
        );
    }
    // Only the first acceptable offer counts; later ones are not answered.
    assert_eq!(
        server_answer(
            &server,
            &[
                "permessage-deflate; client_max_window_bits=10",
                "permessage-deflate"
            ]
        ),
        ["permessage-deflate"]
    );
    // Unknown extensions and unparsable lines are skipped.
    assert_eq!(
        server_answer(
            &server,
            &["x-foo; a=b", "permessage-deflate;;", "permessage-deflate"]
        ),
        ["permessage-deflate"]
    );
    // No extensions configured: nothing is accepted.
    let none = Extensions::new().server_accept(["permessage-deflate"]);
    assert!(none.is_empty());
    assert_eq!(none.rsv_bits(), RsvBits::NONE);
}

#[test]
fn client_accepts_valid_answers() {
    let plain = PerMessageDeflate::new();
    for answer in [
        "permessage-deflate",
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; client_max_window_bits=8",
        "permessage-deflate; server_max_window_bits=15; client_max_window_bits=15",
        "permessage-deflate; client_max_window_bits=\"10\"",
    ] {
        assert_eq!(client_check(plain.clone(), answer), Ok(()), "{answer}");
    }
}

#[test]
fn client_refuses_malformed_answers() {
    let plain = PerMessageDeflate::new;
    let invalid = |name: &str, value: Option<&str>| NegotiationError::InvalidValue {
        param: param(name),
        value: value.map(str::to_owned),
    };
    let cases = [
        (
            "permessage-deflate; x-unknown",
            NegotiationError::UnknownParameter(param("x-unknown")),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            NegotiationError::DuplicateParameter(param("server_no_context_takeover")),
        ),
        (
            "permessage-deflate; client_max_window_bits=9; client_max_window_bits=9",
            NegotiationError::DuplicateParameter(param("client_max_window_bits")),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            invalid("client_max_window_bits", None),
        ),
        (
            "permessage-deflate; server_max_window_bits",
            invalid("server_max_window_bits", None),
        ),
        (
            "permessage-deflate; server_max_window_bits=7",
            invalid("server_max_window_bits", Some("7")),
        ),
        (
            "permessage-deflate; client_max_window_bits=16",
            invalid("client_max_window_bits", Some("16")),
        ),
        (
            "permessage-deflate; server_no_context_takeover=yes",
            invalid("server_no_context_takeover", Some("yes")),
        ),
    ];
    for (answer, error) in cases {
        assert_eq!(client_check(plain(), answer), Err(error), "{answer}");
    }
}

#[test]
fn client_refuses_answers_no_offer_allows() {
    let strict = PerMessageDeflate::with_params(DeflateParams {
        server_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(10),
        ..DeflateParams::default()
    });
    let ok = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
    assert_eq!(client_check(strict.clone(), ok), Ok(()));
    let cases = [
        (
            "permessage-deflate; server_max_window_bits=10",
            NegotiationError::ParameterMissing(param("server_no_context_takeover")),
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            NegotiationError::ParameterMissing(param("server_max_window_bits")),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            NegotiationError::ParameterNotOffered(param("server_max_window_bits")),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; \
             client_max_window_bits=12",
            NegotiationError::ParameterNotOffered(param("client_max_window_bits")),
        ),
    ];
    for (answer, error) in cases {
        assert_eq!(client_check(strict.clone(), answer), Err(error), "{answer}");
    }
    // With a plain fallback offer, an answer without those parameters fits the fallback.
    let lenient = strict.fallback(DeflateParams::default());
    assert_eq!(client_check(lenient, "permessage-deflate"), Ok(()));
}

#[test]
fn client_refuses_unoffered_duplicate_and_unparsable_extensions() {
    let client = config(PerMessageDeflate::new());
    assert_eq!(
        client.client_confirm(["x-foo"]).unwrap_err(),
        NegotiationError::NotOffered(param("x-foo"))
    );
    assert_eq!(
        client
            .client_confirm(["permessage-deflate", "permessage-deflate"])
            .unwrap_err(),
        NegotiationError::DuplicateExtension(param("permessage-deflate"))
    );
    assert!(matches!(
        client
            .client_confirm(["permessage-deflate; =x"])
            .unwrap_err(),
        NegotiationError::InvalidHeader(GrammarError::ExpectedToken { .. })
    ));
    // No answer: no extensions, a pass-through stack.
    let none = client.client_confirm::<str>([]).unwrap();
    assert!(none.is_empty());
    assert_eq!(none.agreed().count(), 0);
    // Nothing configured: any answer is refused.
    assert_eq!(
        Extensions::new()
            .client_confirm(["permessage-deflate"])
            .unwrap_err(),
        NegotiationError::NotOffered(param("permessage-deflate"))
    );
}

#[test]
fn negotiated_windows_round_trip_between_client_and_server() {
    // Every combination of limits both sides can set: whatever is agreed works both ways.
    let windows = [None, Some(8), Some(11), Some(15)];
    for server_bits in windows {
        for client_bits in windows {
            let params = DeflateParams {
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
                ..DeflateParams::default()
            };
            let client = config(PerMessageDeflate::with_params(params).min_size(0));
            let server = config(PerMessageDeflate::with_params(params).min_size(0));
            let mut server_side = server.server_accept(&client.client_offers());
            let answer: Vec<String> = server_side.agreed().map(str::to_owned).collect();
            let mut client_side = client.client_confirm(&answer).unwrap();
            let message = b"negotiated windows, negotiated windows, negotiated windows".repeat(50);
            let mut wire = Vec::new();
            let rsv = client_side
                .encode_message(&message, true, &mut wire)
                .unwrap();
            let mut out = Vec::new();
            server_side
                .decode_message(rsv, &wire, &mut out, usize::MAX)
                .unwrap();
            assert_eq!(out, message);
            let (mut wire, mut out) = (Vec::new(), Vec::new());
            let rsv = server_side
                .encode_message(&message, true, &mut wire)
                .unwrap();
            client_side
                .decode_message(rsv, &wire, &mut out, usize::MAX)
                .unwrap();
            assert_eq!(out, message);
        }
    }
}
