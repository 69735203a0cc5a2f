//! The HTTP `CONNECT` exchange that opens a tunnel through a proxy (RFC 9110 §9.3.6).

use http::header::{HOST, HeaderName, HeaderValue, PROXY_AUTHORIZATION};
use http::{Method, Request, Response, Uri, Version};

use crate::auth::userinfo_authorization;
use crate::error::{ResponseError, UsageError};
use crate::wire::{self, Limits, text_value};

/// A client's `CONNECT` request to an HTTP proxy, and the check of the proxy's answer.
///
/// Once the proxy answers 2xx, the connection is a tunnel to the target: run TLS over it
/// for `wss://`, then the WebSocket handshake.
///
/// ```
/// use ws_handshake::{ProxyConnect, ProxyOutcome};
///
/// let connect = ProxyConnect::new(
///     &"http://me:secret@proxy.example:3128".parse()?,
///     &"wss://chat.example/room".parse()?,
/// )?;
/// let mut buf = Vec::new();
/// connect.encode(&mut buf);
/// assert!(buf.starts_with(b"CONNECT chat.example:443 HTTP/1.1\r\n"));
///
/// let reply = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03";
/// let (outcome, used) = connect.parse_response(reply)?.expect("a whole response");
/// assert!(matches!(outcome, ProxyOutcome::Connected(_)));
/// assert_eq!(&reply[used..], b"\x16\x03\x03"); // the tunnel's first bytes
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ProxyConnect {
    request: Request<()>,
    limits: Limits,
}

/// What the proxy answered.
#[derive(Clone, Debug)]
#[must_use]
pub enum ProxyOutcome {
    /// A 2xx: the tunnel is open, and what follows on the connection comes from the target.
    Connected(Response<()>),
    /// Any other status, e.g. 407 when credentials are missing or wrong. The body is as in
    /// [`ClientOutcome::Rejected`](crate::ClientOutcome::Rejected).
    Rejected(Response<Vec<u8>>),
}

/// The kinds of proxy a client can open a tunnel through, told by the proxy URI's scheme:
/// one list for every adapter and tool, with each kind's default port.
///
/// ```
/// use ws_handshake::ProxyKind;
///
/// let kind = |url: &str| ProxyKind::of(&url.parse().unwrap());
/// assert_eq!(kind("http://proxy:3128"), Some(ProxyKind::Http));
/// assert_eq!(kind("socks5h://proxy").map(ProxyKind::default_port), Some(1080));
/// assert!(kind("https://proxy").is_some_and(ProxyKind::uses_tls)); // TLS to the proxy
/// assert_eq!(kind("ftp://proxy"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyKind {
    /// `http://`: an HTTP `CONNECT` tunnel ([`ProxyConnect`]).
    Http,
    /// `https://`: the same `CONNECT` tunnel inside TLS with the proxy, which the client
    /// sets up first (the proxy's certificate checked against its host).
    Https,
    /// `socks5://` or `socks5h://`: a SOCKS5 tunnel
    /// ([`Socks5Connect`](crate::socks::Socks5Connect)), the target's name resolved by
    /// the proxy either way.
    Socks5,
    /// `socks4://` or `socks4a://`: a SOCKS4 tunnel
    /// ([`Socks4Connect`](crate::socks::Socks4Connect)), SOCKS4a for a target's name,
    /// which the proxy resolves either way.
    Socks4,
}

impl ProxyKind {
    /// The kind `proxy`'s scheme names, or `None` for one no client here supports
    /// (`ftp://`, `socks5s://`...).
    pub fn of(proxy: &Uri) -> Option<ProxyKind> {
        match proxy.scheme_str() {
            Some("http") => Some(ProxyKind::Http),
            Some("https") => Some(ProxyKind::Https),
            Some("socks5" | "socks5h") => Some(ProxyKind::Socks5),
            Some("socks4" | "socks4a") => Some(ProxyKind::Socks4),
            _ => None,
        }
    }

    /// The port when the URI names none: 80 for HTTP, 443 for HTTPS, 1080 for SOCKS.
    pub fn default_port(self) -> u16 {
        match self {
            ProxyKind::Http => 80,
            ProxyKind::Https => 443,
            ProxyKind::Socks5 | ProxyKind::Socks4 => 1080,
        }
    }

    /// Whether the connection to the proxy runs TLS (`https://`): the client's TLS
    /// handshake with the proxy comes first, and the tunnel's exchange runs inside it.
    pub fn uses_tls(self) -> bool {
        self == ProxyKind::Https
    }
}

/// Refuses a proxy URI whose scheme is not one of `schemes`.
pub(crate) fn check_proxy_scheme(proxy: &Uri, schemes: &[&str]) -> Result<(), UsageError> {
    match proxy.scheme_str() {
        Some(scheme) if schemes.contains(&scheme) => Ok(()),
        other => Err(UsageError::UnsupportedProxyScheme(
            other.unwrap_or("").into(),
        )),
    }
}

/// The host and port a tunnel to `target` (`ws://`, `wss://`, `http://` or `https://`)
/// leads to; the port defaults by scheme.
pub(crate) fn tunnel_target(target: &Uri) -> Result<(&str, u16), UsageError> {
    let port = match (target.port_u16(), target.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("ws" | "http")) => 80,
        (None, Some("wss" | "https")) => 443,
        (None, other) => return Err(UsageError::UnsupportedScheme(other.unwrap_or("").into())),
    };
    let host = target
        .host()
        .filter(|h| !h.is_empty())
        .ok_or(UsageError::MissingHost)?;
    Ok((host, port))
}

impl ProxyConnect {
    /// A `CONNECT` to the host and port of `target` (`ws://`, `wss://`, `http://` or
    /// `https://`; the port defaults by scheme), through the proxy at `proxy` (`http://`
    /// or `https://`). Credentials in the proxy URI's userinfo (`user:password@`,
    /// percent-encoded) are sent as `Proxy-Authorization: Basic`
    /// ([`userinfo_authorization`](crate::userinfo_authorization)).
    pub fn new(proxy: &Uri, target: &Uri) -> Result<ProxyConnect, UsageError> {
        check_proxy_scheme(proxy, &["http", "https"])?;
        let (host, port) = tunnel_target(target)?;
        let authority = format!("{host}:{port}");

        let mut request = Request::new(());
        *request.method_mut() = Method::CONNECT;
        *request.version_mut() = Version::HTTP_11;
        // `host` came out of a valid URI, so `host:port` is a valid authority.
        *request.uri_mut() =
            Uri::try_from(authority.as_str()).map_err(|_| UsageError::MissingHost)?;
        let headers = request.headers_mut();
        headers.insert(HOST, text_value(HOST, &authority)?);
        if let Some(credentials) = userinfo_authorization(proxy) {
            headers.insert(PROXY_AUTHORIZATION, credentials);
        }
        Ok(ProxyConnect {
            request,
            limits: Limits::default(),
        })
    }

    /// Adds a header, e.g. a `Proxy-Authorization` of another scheme.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> ProxyConnect {
        self.request.headers_mut().append(name, value);
        self
    }

    /// Sets the limits on the proxy's response.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> ProxyConnect {
        self.limits = limits;
        self
    }

    /// The request, for clients that send it with an `http` library of their own.
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// Appends the request's bytes to `buf`.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        wire::encode_request(&self.request, buf);
    }

    /// Parses the proxy's response at the front of `buf`, as
    /// [`ClientHandshake::parse_response`](crate::ClientHandshake::parse_response) does:
    /// `Ok(None)` until it is complete, then the outcome and the bytes it took.
    pub fn parse_response(
        &self,
        buf: &[u8],
    ) -> Result<Option<(ProxyOutcome, usize)>, ResponseError> {
        wire::parse_answer(
            buf,
            &self.limits,
            |status| status.is_success(),
            |head| Ok(ProxyOutcome::Connected(head)),
            ProxyOutcome::Rejected,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(proxy: &str, target: &str) -> Result<ProxyConnect, UsageError> {
        ProxyConnect::new(&proxy.parse().unwrap(), &target.parse().unwrap())
    }

    fn bytes(connect: &ProxyConnect) -> String {
        let mut buf = Vec::new();
        connect.encode(&mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn connect_without_credentials() {
        let c = connect("http://proxy:3128", "ws://a.example/chat").unwrap();
        assert_eq!(
            bytes(&c),
            "CONNECT a.example:80 HTTP/1.1\r\nhost: a.example:80\r\n\r\n"
        );
        let c = connect("https://proxy", "wss://[::1]:9443").unwrap();
        assert!(bytes(&c).starts_with("CONNECT [::1]:9443 HTTP/1.1\r\n"));
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let c = connect("http://Aladdin:open%20sesame@proxy", "wss://a.example")
            .unwrap()
            .header(
                HeaderName::from_static("x-trace"),
                HeaderValue::from_static("1"),
            );
        assert_eq!(
            bytes(&c),
            "CONNECT a.example:443 HTTP/1.1\r\n\
             host: a.example:443\r\n\
             proxy-authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\
             x-trace: 1\r\n\r\n"
        );
    }

    #[test]
    fn each_misuse_is_refused() {
        assert_eq!(
            connect("socks5://proxy", "ws://a").unwrap_err(),
            UsageError::UnsupportedProxyScheme("socks5".into())
        );
        assert_eq!(
            connect("http://proxy", "ftp://a").unwrap_err(),
            UsageError::UnsupportedScheme("ftp".into())
        );
        assert_eq!(
            connect("http://proxy", "/x").unwrap_err(),
            UsageError::UnsupportedScheme(String::new())
        );
    }
}
