//! The server's side of opening a connection: `accept` and `upgrade`.

use std::future::poll_fn;
use std::task::Poll;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};
use ws_endpoint::{Config, Endpoint, Event};
use ws_handshake::{Accept, Incoming, UpgradeRequest};

use crate::conn::{Conn, Half, now};
use crate::{Error, WebSocket};

/// Common handling of a handshake-phase event: an error is kept until `Closed`, which
/// turns into the error returned; other events are the caller's.
pub(crate) fn handshake_event<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    event: Event,
) -> Option<Result<Event, Error>> {
    match event {
        Event::Error(error) => {
            conn.keep_failure(error);
            None
        }
        Event::Closed(info) => Some(match conn.closing_item(info) {
            Err(error) => Err(error),
            Ok(_) => Err(Error::Closed),
        }),
        event => Some(Ok(event)),
    }
}

/// A server's answer to an upgrade request, from the [`accept_with`] callback: accept
/// (choosing the subprotocol, adding headers to the 101) or reject with any response.
#[derive(Clone, Debug)]
#[must_use]
pub struct Answer(AnswerKind);

#[derive(Clone, Debug)]
enum AnswerKind {
    Accept {
        protocol: Option<String>,
        headers: HeaderMap,
    },
    Reject(http::Response<Vec<u8>>),
}

impl Answer {
    /// Accept, with `Config::protocols` choosing the subprotocol and no extra headers.
    pub fn accept() -> Answer {
        Answer(AnswerKind::Accept {
            protocol: None,
            headers: HeaderMap::new(),
        })
    }

    /// Refuse with `response` (a 403, a 401 with `WWW-Authenticate`, a redirect).
    pub fn reject(response: http::Response<Vec<u8>>) -> Answer {
        Answer(AnswerKind::Reject(response))
    }

    /// Chooses this subprotocol (if the client offered it; otherwise none is chosen).
    /// No effect on a rejection.
    pub fn protocol(mut self, name: impl Into<String>) -> Answer {
        if let AnswerKind::Accept { protocol, .. } = &mut self.0 {
            *protocol = Some(name.into());
        }
        self
    }

    /// Adds a header to the 101 response (`Set-Cookie`...). No effect on a rejection.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Answer {
        if let AnswerKind::Accept { headers, .. } = &mut self.0 {
            headers.append(name, value);
        }
        self
    }
}

/// Applies an accepting answer's choices to the 101 under construction.
fn apply<'r>(protocol: Option<&str>, headers: &HeaderMap, mut accept: Accept<'r>) -> Accept<'r> {
    if let Some(protocol) = protocol {
        accept = accept.select_protocol(&[protocol]);
    }
    for (name, value) in headers {
        accept = accept.header(name.clone(), value.clone());
    }
    accept
}

/// Accepts a WebSocket connection on `io` with the default [`Config`] (permessage-deflate
/// accepted when offered), taking every valid upgrade request.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(io: S) -> Result<WebSocket<S>, Error> {
    accept_with_config(io, Config::default(), |_| Answer::accept()).await
}

/// Accepts a WebSocket connection on `io`, letting `callback` look at the request first
/// and [`Answer`] it: accept, or refuse with a response (403, 401, a redirect).
/// A refused request is [`Error::Refused`].
pub async fn accept_with<S, F>(io: S, callback: F) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&UpgradeRequest) -> Answer,
{
    accept_with_config(io, Config::default(), callback).await
}

/// As [`accept_with`], with the endpoint's configuration.
pub async fn accept_with_config<S, F>(
    io: S,
    config: Config,
    callback: F,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&UpgradeRequest) -> Answer,
{
    let mut conn = Conn::new(io, Endpoint::server(config, now()));
    let mut callback = Some(callback);
    let mut refused = None;
    poll_fn(|cx| {
        loop {
            let event = match std::task::ready!(conn.poll_event(cx, Half::Read)) {
                Ok(Some(event)) => event,
                // The refusal was written and the transport closed.
                Ok(None) => return Poll::Ready(Err(refused.map_or(Error::Closed, Error::Refused))),
                Err(error) => return Poll::Ready(Err(error)),
            };
            let response = match handshake_event(&mut conn, event) {
                Some(Ok(Event::Open(_))) => return Poll::Ready(Ok(())),
                Some(Ok(Event::UpgradeRequest(request))) => {
                    let Some(callback) = callback.take() else {
                        continue;
                    };
                    match callback(&request).0 {
                        AnswerKind::Accept { protocol, headers } => {
                            let accepted = conn.endpoint.accept_with(now(), |accept| {
                                apply(protocol.as_deref(), &headers, accept)
                            });
                            if let Err(error) = accepted {
                                return Poll::Ready(Err(error.into()));
                            }
                            continue;
                        }
                        AnswerKind::Reject(response) => response,
                    }
                }
                Some(Ok(Event::PlainRequest(_))) => not_websocket(),
                // `Closed` after a refusal: drive on until the response is written.
                Some(Err(error)) if refused.is_none() => return Poll::Ready(Err(error)),
                _ => continue,
            };
            refused = Some(response.status());
            if let Err(error) = conn.endpoint.reject(&response, now()) {
                return Poll::Ready(Err(error.into()));
            }
        }
    })
    .await?;
    // The 101 goes out now, even if the application does not poll the socket for a while.
    poll_fn(|cx| conn.poll_flush(cx, Half::Write)).await?;
    Ok(WebSocket::from_conn(conn))
}

/// Upgrades a request that another HTTP server (hyper, axum) parsed and answers itself:
/// checks it, negotiates as `answer` says (subprotocol, headers, permessage-deflate from
/// `config`), and returns the 101 response for that server to send, with the connection
/// to finish once it hands over the upgraded transport.
///
/// A request that is not a valid upgrade is [`Error::BadRequest`] (its
/// `to_response()` is the answer to send), a plain HTTP request [`Error::NotUpgrade`],
/// and a rejecting `answer` [`Error::Refused`].
pub fn upgrade(
    request: http::Request<()>,
    config: Config,
    answer: Answer,
) -> Result<(http::Response<()>, Upgrading), Error> {
    match Incoming::try_from(request)? {
        Incoming::Upgrade(request) => answer_upgrade(request, config, answer),
        Incoming::Plain(_) => Err(Error::NotUpgrade),
    }
}

/// Upgrades an extended CONNECT request (RFC 8441 over HTTP/2, RFC 9220 over HTTP/3) that
/// the HTTP/2 or HTTP/3 server (hyper with `enable_connect_protocol`, h2, h3) parsed:
/// `protocol` is its `:protocol` pseudo-header (with hyper, the request's
/// `hyper::ext::Protocol` extension). As [`upgrade`], except that the response to send is
/// a 200 and the transport is that request's stream (with hyper, the `Upgraded` that
/// `hyper::upgrade::on` gives once the 200 is sent).
///
/// ```no_run
/// # async fn handle(protocol: &str, request: http::Request<()>, stream: tokio::io::DuplexStream)
/// # -> Result<(), ws_tokio::Error> {
/// use ws_tokio::{Answer, Config};
///
/// let config = Config::default();
/// let (response, upgrading) =
///     ws_tokio::upgrade_extended_connect(request, protocol, config, Answer::accept())?;
/// // The HTTP/2 server sends `response` (200) and hands over the stream:
/// let mut ws = upgrading.into_websocket(stream);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::BadRequest`] for a request that is not a valid extended CONNECT for
/// WebSocket (its `to_response()` is the answer to send), [`Error::Refused`] for a
/// rejecting `answer`.
pub fn upgrade_extended_connect(
    request: http::Request<()>,
    protocol: &str,
    config: Config,
    answer: Answer,
) -> Result<(http::Response<()>, Upgrading), Error> {
    let request = UpgradeRequest::from_extended_connect(request, protocol)?;
    answer_upgrade(request, config, answer)
}

/// The response to an upgrade request another server parsed, and the endpoint behind it.
fn answer_upgrade(
    request: UpgradeRequest,
    config: Config,
    answer: Answer,
) -> Result<(http::Response<()>, Upgrading), Error> {
    let (protocol, headers) = match answer.0 {
        AnswerKind::Accept { protocol, headers } => (protocol, headers),
        AnswerKind::Reject(response) => return Err(Error::Refused(response.status())),
    };
    let (endpoint, response) = Endpoint::server_upgraded(
        config,
        request,
        |accept| apply(protocol.as_deref(), &headers, accept),
        now(),
    )?;
    Ok((response, Upgrading { endpoint }))
}

/// A connection upgraded by another HTTP server, waiting for its transport: from
/// [`upgrade`] or [`upgrade_extended_connect`] (and, for a client, from
/// [`ClientUpgrade::into_websocket`](crate::ClientUpgrade::into_websocket)).
#[derive(Debug)]
pub struct Upgrading {
    pub(crate) endpoint: Endpoint,
}

impl Upgrading {
    /// The socket over the upgraded transport (e.g. hyper's `Upgraded` in
    /// `hyper_util::rt::TokioIo`), after the response was sent.
    pub fn into_websocket<S: AsyncRead + AsyncWrite + Unpin>(self, io: S) -> WebSocket<S> {
        let mut conn = Conn::new(io, self.endpoint);
        // `Open` is the endpoint's first event; the socket is open already.
        conn.endpoint.poll_event();
        WebSocket::from_conn(conn)
    }
}

/// The answer to a plain HTTP request on a WebSocket endpoint (RFC 7231 §6.5.15).
fn not_websocket() -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(b"This is a WebSocket endpoint.\n".to_vec());
    *response.status_mut() = StatusCode::UPGRADE_REQUIRED;
    response
        .headers_mut()
        .insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    response
}
