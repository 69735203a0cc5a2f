//! Helpers shared by the tests: timing checks, and a WebSocket server on 127.0.0.1 that
//! answers each request as told (the proxies are `ws_test_proxies`, shared with ws-tokio).
//! Each test binary uses some of them, so the rest would warn as dead code.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use http::HeaderMap;
use ws_endpoint::{Config, ConnectionError};
use ws_std::{Decision, Error, Message};

/// Every wait in a test gives up after this long rather than hang.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// What a server's `recv` returned, and how long it waited.
pub(crate) type Outcome = (Result<Option<Message>, Error>, Duration);

/// Checks that a server with a 100 ms ping interval and a 200 ms pong timeout gave up on
/// a peer that never answers, in time: the first ping at 100 ms, the deadline 200 ms later.
pub(crate) fn assert_pong_timeout(done: &mpsc::Receiver<Outcome>) {
    let (result, elapsed) = done
        .recv_timeout(Duration::from_secs(10))
        .expect("the server gives up on a silent peer");
    assert!(
        matches!(
            result,
            Err(Error::Connection { error: ConnectionError::PongTimeout, close_code })
                if close_code == ws_endpoint::CloseCode::INTERNAL_ERROR
        ),
        "{result:?}"
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// What a test server saw of one upgrade request: its path and headers.
pub(crate) type Seen = mpsc::Receiver<(String, HeaderMap)>;

/// A WebSocket server on 127.0.0.1 that answers each upgrade request with
/// `decide(path)`, reports the request on the returned channel, and echoes on the
/// connections it accepts.
pub(crate) fn server(
    decide: impl Fn(&str) -> Decision + Clone + Send + 'static,
) -> (SocketAddr, Seen) {
    let (seen, requests) = mpsc::channel();
    let addr = ws_test_proxies::listen(move |tcp| {
        let accepted = ws_std::accept_with(tcp, Config::default(), |request| {
            let path = request.request().uri().path().to_owned();
            let headers = request.request().headers().clone();
            let decision = decide(&path);
            // Tests that do not look at the requests dropped the receiver.
            let _ = seen.send((path, headers));
            decision
        });
        if let Ok(mut ws) = accepted {
            while let Ok(Some(message)) = ws.recv() {
                if ws.send(message).is_err() {
                    break;
                }
            }
        }
    });
    (addr, requests)
}

/// An echo server on 127.0.0.1 that accepts every upgrade.
pub(crate) fn echo_server() -> SocketAddr {
    server(|_| Decision::Accept).0
}
