//! A tunnel through a proxy of any supported kind, driven one step at a time.

use http::{Response, Uri};

use crate::error::{ResponseError, UsageError};
use crate::proxy::{ProxyConnect, ProxyKind, ProxyOutcome};
use crate::socks::{Socks4Connect, Socks5Connect, Socks5Step, SocksError};
use crate::wire::Limits;

/// The exchange that opens a tunnel to a target through a proxy: HTTP `CONNECT`
/// ([`ProxyConnect`]), SOCKS5 ([`Socks5Connect`](crate::socks::Socks5Connect)) or SOCKS4
/// ([`Socks4Connect`](crate::socks::Socks4Connect)), as the proxy URI's scheme says
/// ([`ProxyKind`]).
///
/// One loop drives either kind: ask [`next_step`](Tunnel::next_step) what to do, send what
/// it says to send, feed it what the proxy answers with [`receive`](Tunnel::receive), until
/// it says the tunnel is [`Open`](TunnelStep::Open). The connection then leads to the
/// target: run TLS over it for `wss://`, then the WebSocket handshake.
///
/// ```
/// use ws_handshake::{Limits, Tunnel, TunnelStep};
///
/// let mut tunnel = Tunnel::new(
///     &"http://proxy.example:3128".parse()?,
///     &"wss://chat.example/room".parse()?,
///     Limits::default(),
/// )?;
/// let TunnelStep::Send(request) = tunnel.next_step()? else { panic!() };
/// assert!(request.starts_with(b"CONNECT chat.example:443 HTTP/1.1\r\n"));
/// assert_eq!(tunnel.next_step()?, TunnelStep::Receive);
/// tunnel.receive(b"HTTP/1.1 200 Connection established\r\n\r\n");
/// assert_eq!(tunnel.next_step()?, TunnelStep::Open);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The proxy's bytes are kept only until the answer they belong to is complete: at most
/// the head and body [`Limits`] allow for an HTTP proxy, one answer (at most 262 bytes)
/// for a SOCKS proxy, plus whatever one `receive` brought.
#[derive(Clone, Debug)]
pub struct Tunnel {
    kind: ProxyKind,
    exchange: Exchange,
    /// What the proxy sent that no step has used yet.
    received: Vec<u8>,
    /// The request that opens the exchange, until it is handed out.
    first_request: Option<Vec<u8>>,
    open: bool,
}

#[derive(Clone, Debug)]
enum Exchange {
    Http(ProxyConnect),
    Socks5(Socks5Connect),
    Socks4(Socks4Connect),
}

/// What a [`Tunnel`] needs done next.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum TunnelStep {
    /// Send these bytes to the proxy.
    Send(Vec<u8>),
    /// Read from the proxy and pass what came to [`Tunnel::receive`].
    Receive,
    /// The tunnel is open: what follows on the connection comes from the target.
    Open,
}

/// Why a tunnel could not be opened: the proxy refused, or its answer breaks the protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TunnelError {
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx (407 when
    /// credentials are missing or wrong, 403, 502...): its whole response, body included
    /// when it had a length.
    #[error("the proxy refused the tunnel with status {}", .0.status())]
    Refused(Box<Response<Vec<u8>>>),
    /// The HTTP proxy's answer is not a valid HTTP response, or passes the [`Limits`].
    #[error("invalid answer from the proxy: {0}")]
    InvalidResponse(ResponseError),
    /// The SOCKS proxy refused the tunnel (its authentication, or the connection to the
    /// target), or does not speak the SOCKS version asked for.
    #[error("SOCKS proxy: {0}")]
    Socks(SocksError),
    /// The proxy sent bytes after its answer, as if from the target. Nothing was sent
    /// through the tunnel yet, so nothing can legitimately have come back.
    #[error("the proxy sent data through the tunnel before it was used")]
    EarlyData,
    /// The proxy closed the connection before it opened the tunnel (for the I/O loop to
    /// report when a read finds the end of the stream).
    #[error("the proxy closed the connection before it opened the tunnel")]
    Closed,
}

impl Tunnel {
    /// A tunnel to the host and port of `target` (`ws://`, `wss://`, `http://` or
    /// `https://`; the port defaults by scheme) through the proxy at `proxy`: `http://`,
    /// `https://` (the caller runs TLS with the proxy first), `socks5://`, `socks5h://`,
    /// `socks4://` or `socks4a://`, the kinds [`ProxyKind::of`] knows. Credentials in the
    /// proxy URI's userinfo are sent as each kind sends them (`Proxy-Authorization:
    /// Basic`; SOCKS5 username and password; the SOCKS4 user id). `limits` bound an HTTP
    /// proxy's answer.
    ///
    /// # Errors
    /// [`UsageError::UnsupportedProxyScheme`] for any other proxy scheme, and the errors
    /// of [`ProxyConnect::new`], [`Socks5Connect::new`] and [`Socks4Connect::new`] for an
    /// unusable target or proxy URI.
    pub fn new(proxy: &Uri, target: &Uri, limits: Limits) -> Result<Tunnel, UsageError> {
        let Some(kind) = ProxyKind::of(proxy) else {
            let scheme = proxy.scheme_str().unwrap_or_default();
            return Err(UsageError::UnsupportedProxyScheme(scheme.into()));
        };
        let (exchange, first_request) = match kind {
            ProxyKind::Http | ProxyKind::Https => {
                let connect = ProxyConnect::new(proxy, target)?.limits(limits);
                let mut request = Vec::new();
                connect.encode(&mut request);
                (Exchange::Http(connect), request)
            }
            ProxyKind::Socks5 => {
                let socks = Socks5Connect::new(proxy, target)?;
                let greeting = socks.greeting();
                (Exchange::Socks5(socks), greeting)
            }
            ProxyKind::Socks4 => {
                let socks = Socks4Connect::new(proxy, target)?;
                let request = socks.request().to_vec();
                (Exchange::Socks4(socks), request)
            }
        };
        Ok(Tunnel {
            kind,
            exchange,
            received: Vec::new(),
            first_request: Some(first_request),
            open: false,
        })
    }

    /// The kind of proxy: its default port, and whether to run TLS with it
    /// ([`ProxyKind::uses_tls`]) before the first step.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// What to do next. The first step sends the opening request; after
    /// [`TunnelStep::Open`] every call answers `Open` again.
    ///
    /// # Errors
    /// The proxy's refusal or protocol error; the exchange is then over.
    pub fn next_step(&mut self) -> Result<TunnelStep, TunnelError> {
        if let Some(request) = self.first_request.take() {
            return Ok(TunnelStep::Send(request));
        }
        if self.open {
            return Ok(TunnelStep::Open);
        }
        // The bytes the answer took, and what to send in reply (nothing once it opened).
        let (used, reply) = match &mut self.exchange {
            Exchange::Http(connect) => match connect.parse_response(&self.received) {
                Err(error) => return Err(TunnelError::InvalidResponse(error)),
                Ok(None) => return Ok(TunnelStep::Receive),
                Ok(Some((ProxyOutcome::Connected(_), used))) => (used, None),
                Ok(Some((ProxyOutcome::Rejected(response), _))) => {
                    return Err(TunnelError::Refused(Box::new(response)));
                }
            },
            Exchange::Socks5(socks) => match socks.advance(&self.received) {
                Err(error) => return Err(TunnelError::Socks(error)),
                Ok(None) => return Ok(TunnelStep::Receive),
                Ok(Some((Socks5Step::Connected, used))) => (used, None),
                Ok(Some((Socks5Step::Send(reply), used))) => (used, Some(reply)),
            },
            Exchange::Socks4(socks) => match socks.advance(&self.received) {
                Err(error) => return Err(TunnelError::Socks(error)),
                Ok(None) => return Ok(TunnelStep::Receive),
                Ok(Some(used)) => (used, None),
            },
        };
        self.received.drain(..used);
        match reply {
            Some(reply) => Ok(TunnelStep::Send(reply)),
            None if self.received.is_empty() => {
                self.open = true;
                Ok(TunnelStep::Open)
            }
            None => Err(TunnelError::EarlyData),
        }
    }

    /// Takes bytes the proxy sent.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.received.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(proxy: &str) -> Tunnel {
        let target = "ws://chat.example/room".parse().unwrap();
        Tunnel::new(&proxy.parse().unwrap(), &target, Limits::default()).unwrap()
    }

    /// Runs `tunnel` against a proxy whose answers arrive as `answers`, one per read;
    /// returns what was sent and the final step or error.
    fn drive(
        tunnel: &mut Tunnel,
        answers: &[&[u8]],
    ) -> (Vec<Vec<u8>>, Result<TunnelStep, TunnelError>) {
        let mut sent = Vec::new();
        let mut answers = answers.iter();
        loop {
            match tunnel.next_step() {
                Ok(TunnelStep::Send(bytes)) => sent.push(bytes),
                Ok(TunnelStep::Receive) => match answers.next() {
                    Some(answer) => tunnel.receive(answer),
                    None => return (sent, Ok(TunnelStep::Receive)),
                },
                other => return (sent, other),
            }
        }
    }

    #[test]
    fn http_proxy_opens_on_2xx_in_any_split() {
        let answer = b"HTTP/1.1 200 Connection established\r\nVia: proxy\r\n\r\n";
        for split in 0..=answer.len() {
            let mut http = tunnel("http://proxy.example:3128");
            assert_eq!(http.kind(), ProxyKind::Http);
            let (sent, end) = drive(&mut http, &[&answer[..split], &answer[split..]]);
            assert_eq!(sent.len(), 1);
            assert!(sent[0].starts_with(b"CONNECT chat.example:80 HTTP/1.1\r\n"));
            assert_eq!(end.unwrap(), TunnelStep::Open);
            assert_eq!(http.next_step().unwrap(), TunnelStep::Open);
        }
    }

    #[test]
    fn http_refusal_carries_the_whole_response() {
        let mut http = tunnel("http://proxy.example");
        let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
            Proxy-Authenticate: Basic\r\nContent-Length: 4\r\n\r\nwho?";
        match drive(&mut http, &[answer]).1 {
            Err(TunnelError::Refused(response)) => {
                assert_eq!(response.status(), 407);
                assert_eq!(response.body(), b"who?");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn http_answer_that_is_not_http_is_invalid() {
        let mut http = tunnel("http://proxy.example");
        let end = drive(&mut http, &[b"SSH-2.0-OpenSSH\r\n\r\n"]).1;
        assert!(
            matches!(end, Err(TunnelError::InvalidResponse(_))),
            "{end:?}"
        );
    }

    #[test]
    fn http_answer_over_the_head_limit_is_refused_without_waiting_for_its_end() {
        let target = "ws://chat.example/".parse().unwrap();
        let limits = Limits {
            max_head_bytes: 64,
            ..Limits::default()
        };
        let proxy = "http://proxy.example".parse().unwrap();
        let mut http = Tunnel::new(&proxy, &target, limits).unwrap();
        let endless = format!("HTTP/1.1 200 OK\r\nVia: {}", "x".repeat(64));
        let end = drive(&mut http, &[endless.as_bytes()]).1;
        assert!(
            matches!(
                end,
                Err(TunnelError::InvalidResponse(
                    ResponseError::HeadTooLarge { .. }
                ))
            ),
            "{end:?}"
        );
    }

    #[test]
    fn bytes_after_the_answer_are_early_data() {
        let mut http = tunnel("http://proxy.example");
        let end = drive(&mut http, &[b"HTTP/1.1 200 OK\r\n\r\nX"]).1;
        assert!(matches!(end, Err(TunnelError::EarlyData)), "{end:?}");

        let mut socks = tunnel("socks5://proxy.example");
        let end = drive(
            &mut socks,
            &[&[5, 0], &[5, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0]],
        )
        .1;
        assert!(matches!(end, Err(TunnelError::EarlyData)), "{end:?}");
    }

    #[test]
    fn socks5_with_credentials_authenticates_then_connects() {
        let mut socks = tunnel("socks5h://me:secret@proxy.example");
        assert_eq!(socks.kind(), ProxyKind::Socks5);
        let reply = [5, 0, 0, 1, 127, 0, 0, 1, 0, 80];
        let (sent, end) = drive(&mut socks, &[&[5, 2], &[1, 0], &reply]);
        assert_eq!(end.unwrap(), TunnelStep::Open);
        assert_eq!(sent[0], [5, 1, 2]); // username and password offered
        assert_eq!(sent[1], b"\x01\x02me\x06secret");
        assert_eq!(&sent[2][..5], [5, 1, 0, 3, 12]);
        assert_eq!(sent.len(), 3);
    }

    #[test]
    fn socks5_answers_that_arrive_together_are_taken_in_turn() {
        // A proxy that answers before being asked (or a read that brings two answers):
        // the second answer waits in the tunnel, and no read is asked for in between.
        let mut socks = tunnel("socks5://me:secret@proxy.example");
        let mut both = vec![5, 2, 1, 0];
        both.extend_from_slice(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 80]);
        let (sent, end) = drive(&mut socks, &[&both]);
        assert_eq!(sent.len(), 3);
        assert_eq!(end.unwrap(), TunnelStep::Open);
    }

    #[test]
    fn socks5_refusal_is_its_reply_code() {
        let mut socks = tunnel("socks5://proxy.example");
        let end = drive(&mut socks, &[&[5, 0], &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]]).1;
        assert!(
            matches!(end, Err(TunnelError::Socks(SocksError::Refused(5)))),
            "{end:?}"
        );
    }

    #[test]
    fn an_https_proxy_runs_the_http_exchange() {
        let mut https = tunnel("https://proxy.example");
        assert_eq!(https.kind(), ProxyKind::Https);
        assert!(https.kind().uses_tls() && !tunnel("http://p").kind().uses_tls());
        let (sent, end) = drive(&mut https, &[b"HTTP/1.1 200 OK\r\n\r\n"]);
        assert!(sent[0].starts_with(b"CONNECT chat.example:80 HTTP/1.1\r\n"));
        assert_eq!(end.unwrap(), TunnelStep::Open);
    }

    #[test]
    fn socks4a_sends_one_request_and_opens_on_the_grant() {
        let mut socks = tunnel("socks4a://proxy.example");
        assert_eq!(socks.kind(), ProxyKind::Socks4);
        let (sent, end) = drive(&mut socks, &[&[0, 90, 0, 0], &[0, 0, 0, 0]]);
        assert_eq!(end.unwrap(), TunnelStep::Open);
        assert_eq!(
            sent,
            [b"\x04\x01\x00\x50\x00\x00\x00\x01\x00chat.example\x00"]
        );

        let mut refused = tunnel("socks4://proxy.example");
        let end = drive(&mut refused, &[&[0, 91, 0, 0, 0, 0, 0, 0]]).1;
        assert!(
            matches!(end, Err(TunnelError::Socks(SocksError::Socks4Refused(91)))),
            "{end:?}"
        );
        let mut early = tunnel("socks4://proxy.example");
        let end = drive(&mut early, &[&[0, 90, 0, 0, 0, 0, 0, 0, b'x']]).1;
        assert!(matches!(end, Err(TunnelError::EarlyData)), "{end:?}");
    }

    #[test]
    fn other_proxy_schemes_are_refused_before_anything_is_sent() {
        let target = "ws://chat.example/".parse().unwrap();
        for proxy in ["ftp://proxy.example", "socks6://proxy.example"] {
            let proxy: Uri = proxy.parse().unwrap();
            assert!(matches!(
                Tunnel::new(&proxy, &target, Limits::default()),
                Err(UsageError::UnsupportedProxyScheme(_))
            ));
        }
    }
}
