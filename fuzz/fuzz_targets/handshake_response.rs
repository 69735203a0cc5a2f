//! The client's and the proxy client's response parsers on arbitrary bytes, fed in
//! arbitrary pieces.
//!
//! Besides "no panic", it checks that parsing is split-independent and that the reported
//! length lies within the input. The client's key is random, so the bytes `@ACCEPT@` in the
//! input stand for the `Sec-WebSocket-Accept` value it expects; that lets the fuzzer reach
//! the checks after the accept hash. The same input also answers a proxy `Tunnel`, HTTP,
//! SOCKS5 and SOCKS4, read in pieces: the outcome must not depend on the pieces either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{ClientBuilder, Limits, ProxyConnect, Tunnel, TunnelStep, accept_key};

const ACCEPT: &[u8] = b"@ACCEPT@";

/// Parses `input` with `parse` as a reader would, in `piece_len`-byte reads, and returns
/// the first outcome or error, as text, with the consumed length checked.
fn parse_in_pieces<T: std::fmt::Debug, E: std::fmt::Debug>(
    input: &[u8],
    piece_len: usize,
    parse: impl Fn(&[u8]) -> Result<Option<(T, usize)>, E>,
) -> String {
    let mut end = 0;
    loop {
        end = (end + piece_len).min(input.len());
        match parse(&input[..end]) {
            Ok(None) if end < input.len() => {}
            result => {
                if let Ok(Some((_, used))) = &result {
                    assert!(*used <= end);
                }
                return format!("{result:?}");
            }
        }
    }
}

/// Runs a tunnel through `proxy` whose answers are `input`, arriving `piece_len` bytes per
/// read: the steps taken and how it ended, as text.
fn tunnel_in_pieces(proxy: &str, limits: Limits, input: &[u8], piece_len: usize) -> String {
    let proxy = proxy.parse().expect("a valid URI");
    let target = "wss://a.example/".parse().expect("a valid URI");
    let mut tunnel = Tunnel::new(&proxy, &target, limits).expect("a supported proxy");
    let mut pieces = input.chunks(piece_len);
    let mut sent = Vec::new();
    loop {
        match tunnel.next_step() {
            Ok(TunnelStep::Send(bytes)) => sent.push(bytes),
            Ok(TunnelStep::Receive) => match pieces.next() {
                Some(piece) => tunnel.receive(piece),
                None => return format!("{sent:?} wants more"),
            },
            end => return format!("{sent:?} {end:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [config, piece_len, input @ ..] = data else {
        return;
    };
    let piece_len = usize::from(*piece_len).max(1);
    let mut limits = Limits::default();
    if config & 1 == 1 {
        limits.max_headers = usize::from(config >> 4) + 1;
        limits.max_head_bytes = usize::from(*config) * 8;
        limits.max_body = usize::from(*config);
    }

    let client = ClientBuilder::new("ws://a.example/chat".parse().expect("a valid URI"))
        .protocol("chat")
        .extension("permessage-deflate; client_max_window_bits")
        .limits(limits)
        .build()
        .expect("a valid request");
    let input = match input.windows(ACCEPT.len()).position(|w| w == ACCEPT) {
        Some(at) => {
            let accept = accept_key(client.request().headers()["sec-websocket-key"].as_bytes());
            [&input[..at], accept.as_bytes(), &input[at + ACCEPT.len()..]].concat()
        }
        None => input.to_vec(),
    };

    let parse = |buf: &[u8]| client.parse_response(buf);
    let whole = format!("{:?}", parse(&input));
    assert_eq!(
        whole,
        parse_in_pieces(&input, piece_len, parse),
        "split changed the result"
    );

    let proxy = ProxyConnect::new(
        &"http://user:pw@proxy:3128".parse().expect("a valid URI"),
        &"wss://a.example".parse().expect("a valid URI"),
    )
    .expect("a valid CONNECT")
    .limits(limits);
    let parse = |buf: &[u8]| proxy.parse_response(buf);
    let whole = format!("{:?}", parse(&input));
    assert_eq!(
        whole,
        parse_in_pieces(&input, piece_len, parse),
        "split changed the result"
    );

    for proxy in [
        "http://user:pw@proxy:3128",
        "socks5h://user:pw@proxy",
        "socks5://proxy",
        "socks4a://user@proxy",
    ] {
        let whole = tunnel_in_pieces(proxy, limits, &input, input.len().max(1));
        let pieces = tunnel_in_pieces(proxy, limits, &input, piece_len);
        // Bytes after the opening answer are early data when they come with it, and the
        // target's (not read by the tunnel) when they come in a later read.
        let later_read = whole.ends_with("Err(EarlyData)") && pieces.ends_with("Ok(Open)");
        assert!(
            whole == pieces || later_read,
            "split changed the tunnel's outcome: {whole} / {pieces}"
        );
    }
});
