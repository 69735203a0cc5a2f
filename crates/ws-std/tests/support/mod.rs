//! Checks shared by the loopback tests over TCP and over TLS.

use std::sync::mpsc;
use std::time::Duration;

use ws_endpoint::ConnectionError;
use ws_std::{Error, Message};

/// What a server's `recv` returned, and how long it waited.
pub(crate) type Outcome = (Result<Option<Message>, Error>, Duration);

/// Checks that a server with a 100 ms ping interval and a 200 ms pong timeout gave up on
/// a peer that never answers, in time: the first ping at 100 ms, the deadline 200 ms later.
pub(crate) fn assert_pong_timeout(done: &mpsc::Receiver<Outcome>) {
    let (result, elapsed) = done
        .recv_timeout(Duration::from_secs(10))
        .expect("the server gives up on a silent peer");
    assert!(
        matches!(result, Err(Error::Connection(ConnectionError::PongTimeout))),
        "{result:?}"
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}
