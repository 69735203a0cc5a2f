//! The SOCKS5 exchange that opens a tunnel through a SOCKS proxy (RFC 1928), with
//! username and password authentication (RFC 1929) when the proxy URI carries
//! credentials; and the older SOCKS4 / SOCKS4a one ([`Socks4Connect`]). No I/O: the caller
//! sends what [`Socks5Connect`] asks for and feeds it what the proxy answers.
//!
//! ```
//! use ws_handshake::socks::{Socks5Connect, Socks5Step};
//!
//! let mut socks = Socks5Connect::new(
//!     &"socks5://proxy.example:1080".parse()?,
//!     &"wss://chat.example/room".parse()?,
//! )?;
//! assert_eq!(socks.greeting(), [5, 1, 0]); // version 5, one method: no authentication
//!
//! // The proxy picks "no authentication": the CONNECT request goes next.
//! let Some((Socks5Step::Send(request), 2)) = socks.advance(&[5, 0])? else { panic!() };
//! assert_eq!(&request[..5], [5, 1, 0, 3, 12]); // CONNECT, domain name of 12 bytes
//! assert_eq!(&request[5..17], b"chat.example");
//! assert_eq!(&request[17..], 443u16.to_be_bytes());
//!
//! // It answers "succeeded" with the address it bound: the tunnel is open.
//! let reply = [5, 0, 0, 1, 192, 0, 2, 1, 0x04, 0x38];
//! assert!(matches!(socks.advance(&reply)?, Some((Socks5Step::Connected, 10))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use http::Uri;

use crate::auth::userinfo;
use crate::error::UsageError;
use crate::proxy::{check_proxy_scheme, tunnel_target};

const VERSION: u8 = 5;
const NO_AUTHENTICATION: u8 = 0x00;
const USERNAME_PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE_METHOD: u8 = 0xFF;
/// The version of the username/password subnegotiation (RFC 1929).
const AUTH_VERSION: u8 = 1;
const CONNECT: u8 = 1;
const IPV4: u8 = 1;
const DOMAIN: u8 = 3;
const IPV6: u8 = 4;

/// A client's SOCKS5 `CONNECT` through a proxy, one step at a time.
///
/// Send [`greeting`](Socks5Connect::greeting), then feed the proxy's bytes to
/// [`advance`](Socks5Connect::advance) until it reports [`Socks5Step::Connected`]; send
/// what it returns as [`Socks5Step::Send`] on the way. Once connected, the connection is
/// a tunnel to the target: run TLS over it for `wss://`, then the WebSocket handshake.
///
/// The target's host name is sent to the proxy as it is, for the proxy to resolve (what
/// curl calls `socks5h`), for both `socks5://` and `socks5h://` proxy URIs: the client
/// then looks up nothing itself, and the name does not leak to the local resolver.
#[derive(Clone, Debug)]
pub struct Socks5Connect {
    step: Step,
    /// The username/password request (RFC 1929), when the proxy URI has credentials.
    auth: Option<Vec<u8>>,
    request: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Method,
    Auth,
    Reply,
    Done,
}

/// What to do after [`Socks5Connect::advance`] took a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Socks5Step {
    /// Send these bytes to the proxy, then feed it its next answer.
    Send(Vec<u8>),
    /// The tunnel is open: what follows on the connection comes from the target.
    Connected,
}

/// A SOCKS5 proxy's answer that ends the exchange: it refused, or it broke the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocksError {
    /// The answer is not SOCKS5 (the version byte is given).
    #[error("the proxy does not speak SOCKS5 (version byte {0})")]
    NotSocks5(u8),
    /// The proxy accepts none of the authentication methods offered (no credentials
    /// were given and it wants some, or the reverse).
    #[error("the SOCKS5 proxy accepts none of the authentication methods offered")]
    NoAcceptableMethod,
    /// The proxy chose a method that was not offered.
    #[error("the SOCKS5 proxy chose authentication method {0}, which was not offered")]
    UnofferedMethod(u8),
    /// The proxy refused the user name and password (its status byte is given).
    #[error("the SOCKS5 proxy refused the user name and password (status {0})")]
    AuthenticationFailed(u8),
    /// The proxy refused to connect to the target (RFC 1928 §6 reply code).
    #[error("the SOCKS5 proxy could not connect to the target: {}", reply_text(*.0))]
    Refused(u8),
    /// The reply names an address type RFC 1928 does not define.
    #[error("the SOCKS5 proxy's reply has unknown address type {0}")]
    UnknownAddressType(u8),
    /// The answer is not a SOCKS4 reply (its version byte, which must be 0, is given).
    #[error("the proxy does not speak SOCKS4 (reply version byte {0})")]
    NotSocks4(u8),
    /// The SOCKS4 proxy refused the connection (its reply code: 91 to 93).
    #[error("the SOCKS4 proxy refused the connection: {}", socks4_reply_text(*.0))]
    Socks4Refused(u8),
}

/// What a SOCKS4 reply code means.
fn socks4_reply_text(code: u8) -> &'static str {
    match code {
        91 => "rejected or failed",
        92 => "it could not reach the client's identd",
        93 => "identd reported another user id",
        _ => "unknown reply code",
    }
}

/// What a SOCKS5 reply code means (RFC 1928 §6).
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply code",
    }
}

impl Socks5Connect {
    /// A `CONNECT` to the host and port of `target` (`ws://`, `wss://`, `http://` or
    /// `https://`; the port defaults by scheme) through the proxy at `proxy` (`socks5://`
    /// or `socks5h://`). Credentials in the proxy URI's userinfo (`user:password@`,
    /// percent-encoded) are offered as username/password authentication.
    pub fn new(proxy: &Uri, target: &Uri) -> Result<Socks5Connect, UsageError> {
        check_proxy_scheme(proxy, &["socks5", "socks5h"])?;
        let (host, port) = tunnel_target(target)?;
        let mut request = vec![VERSION, CONNECT, 0];
        match host.trim_start_matches('[').trim_end_matches(']').parse() {
            Ok(IpAddr::V4(ip)) => {
                request.push(IPV4);
                request.extend_from_slice(&ip.octets());
            }
            Ok(IpAddr::V6(ip)) => {
                request.push(IPV6);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                request.extend_from_slice(&[DOMAIN, short_len(host, "host name")?]);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        let auth = match userinfo(proxy) {
            Some((user, password)) => {
                let mut auth = vec![AUTH_VERSION, short_len(&user, "user name")?];
                auth.extend_from_slice(&user);
                auth.push(short_len(&password, "password")?);
                auth.extend_from_slice(&password);
                Some(auth)
            }
            None => None,
        };
        Ok(Socks5Connect {
            step: Step::Method,
            auth,
            request,
        })
    }

    /// The first bytes to send: the methods offered, username/password only when the
    /// proxy URI has credentials (so they are never sent where none are asked for).
    pub fn greeting(&self) -> Vec<u8> {
        match self.auth {
            Some(_) => vec![VERSION, 1, USERNAME_PASSWORD],
            None => vec![VERSION, 1, NO_AUTHENTICATION],
        }
    }

    /// Takes the proxy's next answer from the front of `received`: `Ok(None)` while it is
    /// incomplete (read more and call again with everything not yet consumed), else
    /// what to do next and how many bytes the answer took. Bytes after it are the
    /// target's (there should be none before the client sends).
    pub fn advance(&mut self, received: &[u8]) -> Result<Option<(Socks5Step, usize)>, SocksError> {
        match self.step {
            Step::Method => {
                let Some(&[version, method]) = received.first_chunk() else {
                    return Ok(None);
                };
                check_version(version, VERSION)?;
                let step = match (method, &self.auth) {
                    (NO_ACCEPTABLE_METHOD, _) => return Err(SocksError::NoAcceptableMethod),
                    (NO_AUTHENTICATION, None) => {
                        self.step = Step::Reply;
                        Socks5Step::Send(self.request.clone())
                    }
                    (USERNAME_PASSWORD, Some(auth)) => {
                        self.step = Step::Auth;
                        Socks5Step::Send(auth.clone())
                    }
                    (other, _) => return Err(SocksError::UnofferedMethod(other)),
                };
                Ok(Some((step, 2)))
            }
            Step::Auth => {
                let Some(&[version, status]) = received.first_chunk() else {
                    return Ok(None);
                };
                check_version(version, AUTH_VERSION)?;
                if status != 0 {
                    return Err(SocksError::AuthenticationFailed(status));
                }
                self.step = Step::Reply;
                Ok(Some((Socks5Step::Send(self.request.clone()), 2)))
            }
            Step::Reply => {
                let Some(&[version, reply, _reserved, address_type]) = received.first_chunk()
                else {
                    return Ok(None);
                };
                check_version(version, VERSION)?;
                if reply != 0 {
                    return Err(SocksError::Refused(reply));
                }
                let address_len = match address_type {
                    IPV4 => 4,
                    IPV6 => 16,
                    DOMAIN => match received.get(4) {
                        Some(&len) => 1 + usize::from(len),
                        None => return Ok(None),
                    },
                    other => return Err(SocksError::UnknownAddressType(other)),
                };
                // Header, bound address, bound port.
                let len = 4 + address_len + 2;
                if received.len() < len {
                    return Ok(None);
                }
                self.step = Step::Done;
                Ok(Some((Socks5Step::Connected, len)))
            }
            Step::Done => Ok(Some((Socks5Step::Connected, 0))),
        }
    }
}

/// A client's SOCKS4 `CONNECT` through a proxy: one request, one 8-byte reply. A target
/// named by host name goes as SOCKS4a (the proxy resolves it, as with SOCKS5 here), an
/// IPv4 address as plain SOCKS4.
///
/// ```
/// use ws_handshake::socks::Socks4Connect;
///
/// let mut socks = Socks4Connect::new(
///     &"socks4a://me@proxy.example".parse()?,
///     &"ws://chat.example/room".parse()?,
/// )?;
/// // CONNECT to port 80, the SOCKS4a address 0.0.0.1, user id "me", then the name.
/// assert_eq!(socks.request(), b"\x04\x01\x00\x50\x00\x00\x00\x01me\x00chat.example\x00");
/// // Granted (90): the tunnel is open after the 8-byte reply.
/// assert_eq!(socks.advance(&[0, 90, 0, 0, 0, 0, 0, 0])?, Some(8));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Socks4Connect {
    request: Vec<u8>,
}

/// SOCKS4's version byte in a request; replies carry 0.
const SOCKS4_VERSION: u8 = 4;
/// The reply code for "request granted".
const SOCKS4_GRANTED: u8 = 90;
/// The length of every SOCKS4 reply.
const SOCKS4_REPLY_LEN: usize = 8;

impl Socks4Connect {
    /// A `CONNECT` to the host and port of `target` (`ws://`, `wss://`, `http://` or
    /// `https://`; the port defaults by scheme) through the proxy at `proxy` (`socks4://`
    /// or `socks4a://`). The proxy URI's user name, if any, is the SOCKS4 user id.
    ///
    /// # Errors
    /// [`UsageError::UnsupportedBySocks4`] for a password (SOCKS4 has none: refused
    /// rather than dropped), an IPv6 target, or a NUL byte in the user id.
    pub fn new(proxy: &Uri, target: &Uri) -> Result<Socks4Connect, UsageError> {
        check_proxy_scheme(proxy, &["socks4", "socks4a"])?;
        let (host, port) = tunnel_target(target)?;
        let user_id = match userinfo(proxy) {
            Some((_, password)) if !password.is_empty() => {
                return Err(UsageError::UnsupportedBySocks4("a password"));
            }
            Some((user, _)) if user.contains(&0) => {
                return Err(UsageError::UnsupportedBySocks4("a NUL byte in the user id"));
            }
            Some((user, _)) => user,
            None => Vec::new(),
        };
        let mut request = vec![SOCKS4_VERSION, CONNECT];
        request.extend_from_slice(&port.to_be_bytes());
        match host.trim_start_matches('[').trim_end_matches(']').parse() {
            Ok(IpAddr::V4(ip)) => {
                request.extend_from_slice(&ip.octets());
                request.extend_from_slice(&user_id);
                request.push(0);
            }
            Ok(IpAddr::V6(_)) => return Err(UsageError::UnsupportedBySocks4("an IPv6 address")),
            Err(_) => {
                // SOCKS4a: an address 0.0.0.x (x > 0) says the name follows the user id.
                request.extend_from_slice(&[0, 0, 0, 1]);
                request.extend_from_slice(&user_id);
                request.push(0);
                request.extend_from_slice(host.as_bytes());
                request.push(0);
            }
        }
        Ok(Socks4Connect { request })
    }

    /// The request to send.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Takes the proxy's reply from the front of `received`: `Ok(None)` while it is
    /// incomplete, then the 8 bytes it took once the proxy granted the connection; bytes
    /// after them are the target's.
    pub fn advance(&mut self, received: &[u8]) -> Result<Option<usize>, SocksError> {
        let Some(&[version, code, ..]) = received.first_chunk::<SOCKS4_REPLY_LEN>() else {
            return Ok(None);
        };
        match (version, code) {
            (0, SOCKS4_GRANTED) => Ok(Some(SOCKS4_REPLY_LEN)),
            (0, refused) => Err(SocksError::Socks4Refused(refused)),
            (other, _) => Err(SocksError::NotSocks4(other)),
        }
    }
}

fn check_version(version: u8, expected: u8) -> Result<(), SocksError> {
    if version == expected {
        Ok(())
    } else {
        Err(SocksError::NotSocks5(version))
    }
}

/// The one-byte length SOCKS5 prefixes `field` with.
fn short_len(field: impl AsRef<[u8]>, what: &'static str) -> Result<u8, UsageError> {
    u8::try_from(field.as_ref().len()).map_err(|_| UsageError::SocksFieldTooLong(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(proxy: &str, target: &str) -> Socks5Connect {
        Socks5Connect::new(&proxy.parse().unwrap(), &target.parse().unwrap()).unwrap()
    }

    /// Feeds `answer` one byte at a time, as a slow proxy would send it.
    fn feed(socks: &mut Socks5Connect, answer: &[u8]) -> Result<Socks5Step, SocksError> {
        for end in 0..answer.len() {
            assert_eq!(
                socks.advance(&answer[..end])?,
                None,
                "complete at {end} bytes"
            );
        }
        let (step, used) = socks.advance(answer)?.expect("a whole answer");
        assert_eq!(used, answer.len());
        Ok(step)
    }

    #[test]
    fn without_credentials_no_authentication_is_offered() {
        let mut socks = connect("socks5://p:1080", "ws://192.0.2.7:9001/");
        assert_eq!(socks.greeting(), [5, 1, 0]);
        let request = [5, 1, 0, 1, 192, 0, 2, 7, 0x23, 0x29];
        assert_eq!(
            feed(&mut socks, &[5, 0]),
            Ok(Socks5Step::Send(request.to_vec()))
        );
        let reply = [
            5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80,
        ];
        assert_eq!(feed(&mut socks, &reply), Ok(Socks5Step::Connected));
    }

    #[test]
    fn credentials_are_sent_when_the_proxy_asks_for_them() {
        let mut socks = connect("socks5h://me:p%40ss@p", "wss://[2001:db8::1]/");
        assert_eq!(socks.greeting(), [5, 1, 2]);
        let auth = [1, 2, b'm', b'e', 4, b'p', b'@', b's', b's'];
        assert_eq!(
            feed(&mut socks, &[5, 2]),
            Ok(Socks5Step::Send(auth.to_vec()))
        );
        let Ok(Socks5Step::Send(request)) = feed(&mut socks, &[1, 0]) else {
            panic!("the CONNECT request");
        };
        assert_eq!(&request[..4], [5, 1, 0, 4]);
        assert_eq!(
            request[4..20],
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
        );
        assert_eq!(&request[20..], 443u16.to_be_bytes());
        let reply = [5, 0, 0, 3, 1, b'x', 0, 1];
        assert_eq!(feed(&mut socks, &reply), Ok(Socks5Step::Connected));
    }

    #[test]
    fn refusals_are_typed() {
        let mut socks = connect("socks5://p", "ws://a.example/");
        assert_eq!(
            socks.advance(&[5, 0xFF]),
            Err(SocksError::NoAcceptableMethod)
        );
        let mut socks = connect("socks5://p", "ws://a.example/");
        assert_eq!(socks.advance(&[5, 2]), Err(SocksError::UnofferedMethod(2)));
        let mut socks = connect("socks5://u:p@p", "ws://a.example/");
        assert_eq!(socks.advance(&[5, 0]), Err(SocksError::UnofferedMethod(0)));
        let mut socks = connect("socks5://u:p@p", "ws://a.example/");
        let _ = socks.advance(&[5, 2]).unwrap();
        assert_eq!(
            socks.advance(&[1, 1]),
            Err(SocksError::AuthenticationFailed(1))
        );
        let mut socks = connect("socks5://p", "ws://a.example/");
        let _ = socks.advance(&[5, 0]).unwrap();
        let refused = socks.advance(&[5, 5, 0, 1]).unwrap_err();
        assert_eq!(refused, SocksError::Refused(5));
        assert!(
            refused.to_string().ends_with("connection refused"),
            "{refused}"
        );
        let mut socks = connect("socks5://p", "ws://a.example/");
        let _ = socks.advance(&[5, 0]).unwrap();
        assert_eq!(
            socks.advance(&[5, 0, 0, 9]),
            Err(SocksError::UnknownAddressType(9))
        );
        // An HTTP proxy answering a SOCKS greeting.
        let mut socks = connect("socks5://p", "ws://a.example/");
        assert_eq!(
            socks.advance(b"HTTP/1.1 400"),
            Err(SocksError::NotSocks5(b'H'))
        );
    }

    #[test]
    fn unusable_uris_are_refused_before_anything_is_sent() {
        let new = |proxy: &str, target: &str| {
            Socks5Connect::new(&proxy.parse().unwrap(), &target.parse().unwrap()).unwrap_err()
        };
        assert_eq!(
            new("http://p", "ws://a/"),
            UsageError::UnsupportedProxyScheme("http".into())
        );
        assert_eq!(
            new("socks5://p", "ftp://a/"),
            UsageError::UnsupportedScheme("ftp".into())
        );
        let long_user = format!("socks5://{}:pw@p", "u".repeat(256));
        assert_eq!(
            new(&long_user, "ws://a/"),
            UsageError::SocksFieldTooLong("user name")
        );
        let long_host = format!("ws://{}.example/", "h".repeat(250));
        assert_eq!(
            new("socks5://p", &long_host),
            UsageError::SocksFieldTooLong("host name")
        );
    }

    fn socks4(proxy: &str, target: &str) -> Result<Socks4Connect, UsageError> {
        Socks4Connect::new(&proxy.parse().unwrap(), &target.parse().unwrap())
    }

    #[test]
    fn socks4_sends_an_ipv4_target_as_is_and_a_name_as_socks4a() {
        let ipv4 = socks4("socks4://proxy", "wss://192.0.2.7:8443/").unwrap();
        assert_eq!(ipv4.request(), [4, 1, 0x20, 0xFB, 192, 0, 2, 7, 0]);
        let named = socks4("socks4a://alice@proxy", "ws://chat.example/").unwrap();
        assert_eq!(
            named.request(),
            b"\x04\x01\x00\x50\x00\x00\x00\x01alice\x00chat.example\x00"
        );
        // The user name is percent-decoded like every other userinfo.
        let decoded = socks4("socks4://a%40b@proxy", "ws://192.0.2.7/").unwrap();
        assert_eq!(&decoded.request()[8..], b"a@b\x00");
    }

    #[test]
    fn socks4_reply_grants_or_refuses_with_its_code() {
        let mut socks = socks4("socks4a://proxy", "ws://chat.example/").unwrap();
        for end in 0..SOCKS4_REPLY_LEN {
            let partial = [0, 90, 0, 0, 0, 0, 0, 0];
            assert_eq!(
                socks.advance(&partial[..end]),
                Ok(None),
                "complete at {end}"
            );
        }
        assert_eq!(socks.advance(&[0, 90, 1, 2, 3, 4, 5, 6, 7]), Ok(Some(8)));
        for code in [91, 92, 93] {
            let refused = socks.advance(&[0, code, 0, 0, 0, 0, 0, 0]);
            assert_eq!(refused, Err(SocksError::Socks4Refused(code)));
        }
        assert_eq!(socks.advance(b"HTTP/1.1"), Err(SocksError::NotSocks4(b'H')));
        assert!(SocksError::Socks4Refused(92).to_string().contains("identd"));
    }

    #[test]
    fn socks4_refuses_what_it_cannot_carry() {
        assert_eq!(
            socks4("socks4://me:secret@proxy", "ws://a/").unwrap_err(),
            UsageError::UnsupportedBySocks4("a password")
        );
        assert_eq!(
            socks4("socks4://me%00@proxy", "ws://a/").unwrap_err(),
            UsageError::UnsupportedBySocks4("a NUL byte in the user id")
        );
        assert_eq!(
            socks4("socks4a://proxy", "ws://[2001:db8::1]/").unwrap_err(),
            UsageError::UnsupportedBySocks4("an IPv6 address")
        );
        assert_eq!(
            socks4("socks5://proxy", "ws://a/").unwrap_err(),
            UsageError::UnsupportedProxyScheme("socks5".into())
        );
    }
}
