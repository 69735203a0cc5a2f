//! The client side: the upgrade request and the check of the server's response.

use http::header::{
    CONNECTION, HOST, HeaderName, HeaderValue, ORIGIN, SEC_WEBSOCKET_ACCEPT,
    SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION,
    UPGRADE,
};
use http::uri::Scheme;
use http::{Method, Request, Response, StatusCode, Uri, Version};

use crate::error::{ResponseError, UsageError};
use crate::grammar::{caller_extensions, is_token, parse_extensions, parse_tokens};
use crate::key::{accept_key, generate_key};
use crate::wire::{self, Limits, set_list, text_value};

/// Builds a client's upgrade request (RFC 6455 §4.1).
///
/// Start from a `ws://` or `wss://` URI ([`new`](ClientBuilder::new)) or from a request
/// already carrying headers of your own ([`from_request`](ClientBuilder::from_request)),
/// add offers, then [`build`](ClientBuilder::build). The handshake headers (`Upgrade`,
/// `Connection`, `Sec-WebSocket-*`) are set by `build` and override any given here.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    request: Request<()>,
    protocols: Vec<String>,
    extensions: Vec<String>,
    origin: Option<String>,
    limits: Limits,
}

impl ClientBuilder {
    /// A request for the resource at `uri`, which must be `ws://` or `wss://`.
    pub fn new(uri: Uri) -> ClientBuilder {
        let mut request = Request::new(());
        *request.uri_mut() = uri;
        ClientBuilder::from_request(request)
    }

    /// A request built from `request`, e.g. one made with `http::Request::builder()`.
    ///
    /// Its URI is absolute (`ws://` or `wss://`), or origin-form with a `Host` header. Its
    /// headers are kept; subprotocols and extensions in its `Sec-WebSocket-Protocol` and
    /// `Sec-WebSocket-Extensions` headers count as offers, before any added here.
    pub fn from_request(request: Request<()>) -> ClientBuilder {
        ClientBuilder {
            request,
            protocols: Vec::new(),
            extensions: Vec::new(),
            origin: None,
            limits: Limits::default(),
        }
    }

    /// Offers a subprotocol; the server may choose one of those offered, in its own order
    /// of preference.
    pub fn protocol(mut self, name: impl Into<String>) -> ClientBuilder {
        self.protocols.push(name.into());
        self
    }

    /// Offers an extension, as the text of one or more `Sec-WebSocket-Extensions` list
    /// elements, e.g. `permessage-deflate; client_max_window_bits`.
    pub fn extension(mut self, offer: impl Into<String>) -> ClientBuilder {
        self.extensions.push(offer.into());
        self
    }

    /// Sets the `Origin` header, as browsers do (RFC 6455 §10.2).
    pub fn origin(mut self, origin: impl Into<String>) -> ClientBuilder {
        self.origin = Some(origin.into());
        self
    }

    /// Adds a header, e.g. `Authorization` or `Cookie`.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> ClientBuilder {
        self.request.headers_mut().append(name, value);
        self
    }

    /// Sets the limits on the response the server sends back.
    pub fn limits(mut self, limits: Limits) -> ClientBuilder {
        self.limits = limits;
        self
    }

    /// Checks the request and completes it with a fresh key from the thread's CSPRNG.
    pub fn build(self) -> Result<ClientHandshake, UsageError> {
        self.build_with_key(generate_key())
    }

    fn build_with_key(self, key: String) -> Result<ClientHandshake, UsageError> {
        let limits = self.limits;
        let (mut parts, offers, origin) = self.into_offers()?;
        match parts.uri.scheme_str() {
            Some("ws" | "wss") | None => {}
            Some(other) => return Err(UsageError::UnsupportedScheme(other.to_owned())),
        }
        if !parts.headers.contains_key(HOST) {
            let host = host_header(&parts.uri).ok_or(UsageError::MissingHost)?;
            parts.headers.insert(HOST, text_value(HOST, &host)?);
        }
        parts.version = Version::HTTP_11;
        let headers = &mut parts.headers;
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(SEC_WEBSOCKET_KEY, text_value(SEC_WEBSOCKET_KEY, &key)?);
        offers.write(headers, origin.as_deref())?;
        Ok(ClientHandshake {
            request: Request::from_parts(parts, ()),
            accept: accept_key(key.as_bytes()),
            offers,
            limits,
        })
    }

    /// Checks the request and completes it as an extended CONNECT (RFC 8441): the
    /// WebSocket handshake on one stream of an HTTP/2 connection (or HTTP/3, RFC 9220)
    /// that an HTTP client library of your own carries. The URI must be absolute; the
    /// request goes to `https://` for `wss://` and `http://` for `ws://`, as `CONNECT`
    /// with `Sec-WebSocket-Version: 13` and the offers, and no key. Send it with the
    /// `:protocol` pseudo-header set to `websocket` (hyper: a `hyper::ext::Protocol` in
    /// its extensions), then check the answer with
    /// [`ExtendedConnect::check_response`].
    ///
    /// ```
    /// use http::Method;
    /// use ws_handshake::ClientBuilder;
    ///
    /// let connect = ClientBuilder::new("wss://chat.example/room".parse()?)
    ///     .protocol("chat")
    ///     .build_extended_connect()?;
    /// assert_eq!(connect.request().method(), Method::CONNECT);
    /// assert_eq!(connect.request().uri(), "https://chat.example/room");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_extended_connect(self) -> Result<ExtendedConnect, UsageError> {
        let (mut parts, offers, origin) = self.into_offers()?;
        let scheme = match parts.uri.scheme_str() {
            Some("wss") => Scheme::HTTPS,
            Some("ws") => Scheme::HTTP,
            Some(other) => return Err(UsageError::UnsupportedScheme(other.to_owned())),
            None => return Err(UsageError::MissingHost),
        };
        let mut uri = parts.uri.into_parts();
        uri.scheme = Some(scheme);
        // Only a URI without an authority fails here: an absolute one has it.
        parts.uri = Uri::from_parts(uri).map_err(|_| UsageError::MissingHost)?;
        if parts.uri.host().is_none_or(str::is_empty) {
            return Err(UsageError::MissingHost);
        }
        parts.method = Method::CONNECT;
        parts.version = Version::HTTP_2;
        offers.write(&mut parts.headers, origin.as_deref())?;
        Ok(ExtendedConnect {
            request: Request::from_parts(parts, ()),
            offers,
        })
    }

    /// The request's parts, the offers (checked), and the origin.
    fn into_offers(self) -> Result<(http::request::Parts, Offers, Option<String>), UsageError> {
        let (mut parts, ()) = self.request.into_parts();
        if parts.method != Method::GET {
            return Err(UsageError::NotGet(parts.method));
        }
        let headers = &mut parts.headers;

        let mut protocols = Vec::new();
        let given = parse_tokens(headers.get_all(SEC_WEBSOCKET_PROTOCOL))
            .map(|p| p.map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                let text = joined(headers.get_all(SEC_WEBSOCKET_PROTOCOL));
                UsageError::InvalidProtocol(text)
            })?;
        for protocol in given.into_iter().chain(self.protocols) {
            if !is_token(&protocol) {
                return Err(UsageError::InvalidProtocol(protocol));
            }
            if protocols.contains(&protocol) {
                return Err(UsageError::DuplicateProtocol(protocol));
            }
            protocols.push(protocol);
        }

        let given: Vec<String> = headers
            .get_all(SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let offers = caller_extensions(given.iter().chain(&self.extensions).map(String::as_str))?;
        let offers = Offers {
            protocols,
            extensions: offers.iter().map(|e| e.as_str().to_owned()).collect(),
            extension_names: offers.iter().map(|e| e.name().to_owned()).collect(),
        };
        Ok((parts, offers, self.origin))
    }
}

/// The `Host` value for `uri`: its host, with the port unless it is the scheme's default.
fn host_header(uri: &Uri) -> Option<String> {
    let host = uri.host().filter(|h| !h.is_empty())?;
    let default_port = if uri.scheme_str() == Some("wss") {
        443
    } else {
        80
    };
    Some(match uri.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    })
}

/// The lines of a header joined into one list, for error messages.
fn joined(values: http::header::GetAll<'_, HeaderValue>) -> String {
    values
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A client's handshake in progress: the request to send and what the response must say.
///
/// Send [`encode`](ClientHandshake::encode)'s bytes, then feed what the server sends back
/// to [`parse_response`](ClientHandshake::parse_response) until it returns an outcome.
/// Users of `http` clients can send [`request`](ClientHandshake::request) themselves and
/// pass the response to [`check_response`](ClientHandshake::check_response).
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    request: Request<()>,
    /// The `Sec-WebSocket-Accept` value the server must send.
    accept: String,
    offers: Offers,
    limits: Limits,
}

/// A client's extended CONNECT (RFC 8441, RFC 9220) in progress: the request for an
/// HTTP/2 or HTTP/3 client library to send, and the check of its answer. From
/// [`ClientBuilder::build_extended_connect`].
#[derive(Clone, Debug)]
pub struct ExtendedConnect {
    request: Request<()>,
    offers: Offers,
}

/// What a client offered, which the server's acceptance must keep to.
#[derive(Clone, Debug)]
struct Offers {
    protocols: Vec<String>,
    /// Each extension offer's text, and apart its name.
    extensions: Vec<String>,
    extension_names: Vec<String>,
}

/// What the server answered.
#[derive(Clone, Debug)]
#[must_use]
pub enum ClientOutcome {
    /// The server switched to WebSocket; what follows on the connection (or the extended
    /// CONNECT's stream) is frames.
    Accepted(Accepted),
    /// The server answered with something other than 101 (a 2xx for an extended
    /// CONNECT), e.g. a redirect or a 401. The
    /// body holds the bytes `Content-Length` announced, when it did and they fit
    /// [`Limits::max_body`]; otherwise it is empty and any body bytes are left unconsumed.
    Rejected(Response<Vec<u8>>),
}

/// A server's acceptance of the upgrade, checked against the request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Accepted {
    /// The 101 response (the 2xx of an extended CONNECT) as received.
    pub response: Response<()>,
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<String>,
    /// The extensions the server accepted, in its order, each as the text of one
    /// `Sec-WebSocket-Extensions` element; parse them with
    /// [`Extension::parse`](crate::grammar::Extension::parse).
    pub extensions: Vec<String>,
}

impl ClientHandshake {
    /// The request, for clients that send it with an `http` library of their own.
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// Appends the request's bytes to `buf`.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        wire::encode_request(&self.request, buf);
    }

    /// Parses and checks the response at the front of `buf`, which holds everything
    /// received so far.
    ///
    /// Returns `Ok(None)` while the response head (or the body of a rejection) is
    /// incomplete: call again with more bytes. Then returns the outcome and how many bytes
    /// of `buf` it took; the bytes after those are the server's first frames.
    pub fn parse_response(
        &self,
        buf: &[u8],
    ) -> Result<Option<(ClientOutcome, usize)>, ResponseError> {
        wire::parse_answer(
            buf,
            &self.limits,
            |status| status == StatusCode::SWITCHING_PROTOCOLS,
            |head| self.check_switch(head).map(ClientOutcome::Accepted),
            ClientOutcome::Rejected,
        )
    }

    /// Checks a response received by other means, e.g. by an `http` client library.
    pub fn check_response(&self, response: Response<()>) -> Result<ClientOutcome, ResponseError> {
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            self.check_switch(response).map(ClientOutcome::Accepted)
        } else {
            Ok(ClientOutcome::Rejected(response.map(|()| Vec::new())))
        }
    }

    /// Checks a 101 response against RFC 6455 §4.1 and what was offered.
    fn check_switch(&self, response: Response<()>) -> Result<Accepted, ResponseError> {
        if response.version() != Version::HTTP_11 {
            return Err(ResponseError::NotHttp11(response.version()));
        }
        let headers = response.headers();
        if !wire::lists_token(headers, UPGRADE, "websocket") {
            return Err(ResponseError::MissingUpgrade);
        }
        if !wire::lists_token(headers, CONNECTION, "upgrade") {
            return Err(ResponseError::MissingConnectionUpgrade);
        }
        let mut accepts = headers.get_all(SEC_WEBSOCKET_ACCEPT).iter();
        let (Some(accept), None) = (accepts.next(), accepts.next()) else {
            return Err(ResponseError::MissingAccept);
        };
        if accept.as_bytes().trim_ascii() != self.accept.as_bytes() {
            return Err(ResponseError::AcceptMismatch);
        }
        self.offers.accepted(response)
    }
}

impl ExtendedConnect {
    /// The request to send, with `:protocol` set to `websocket`.
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// Checks the server's answer: a 2xx accepts (its subprotocol and extensions must be
    /// ones offered), anything else is [`ClientOutcome::Rejected`] with an empty body
    /// (the stream's body is the HTTP library's to read).
    pub fn check_response(&self, response: Response<()>) -> Result<ClientOutcome, ResponseError> {
        if response.status().is_success() {
            self.offers.accepted(response).map(ClientOutcome::Accepted)
        } else {
            Ok(ClientOutcome::Rejected(response.map(|()| Vec::new())))
        }
    }
}

impl Offers {
    /// Sets the version, subprotocol, extension and origin headers of the request.
    fn write(&self, headers: &mut http::HeaderMap, origin: Option<&str>) -> Result<(), UsageError> {
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        set_list(headers, SEC_WEBSOCKET_PROTOCOL, &self.protocols)?;
        set_list(headers, SEC_WEBSOCKET_EXTENSIONS, &self.extensions)?;
        if let Some(origin) = origin {
            headers.insert(ORIGIN, text_value(ORIGIN, origin)?);
        }
        Ok(())
    }

    /// The acceptance in `response`: its subprotocol and extensions, each one offered.
    fn accepted(&self, response: Response<()>) -> Result<Accepted, ResponseError> {
        let headers = response.headers();
        let protocol = self.check_protocol(headers)?;
        let mut extensions = Vec::new();
        for ext in parse_extensions(headers.get_all(SEC_WEBSOCKET_EXTENSIONS)) {
            let ext = ext.map_err(ResponseError::InvalidExtensionHeader)?;
            if !self.extension_names.iter().any(|name| name == ext.name()) {
                return Err(ResponseError::ExtensionNotOffered(ext.name().to_owned()));
            }
            extensions.push(ext.as_str().to_owned());
        }
        Ok(Accepted {
            response,
            protocol,
            extensions,
        })
    }

    /// The subprotocol the server chose, if any, which must be one offered.
    fn check_protocol(&self, headers: &http::HeaderMap) -> Result<Option<String>, ResponseError> {
        let mut chosen = parse_tokens(headers.get_all(SEC_WEBSOCKET_PROTOCOL));
        match (chosen.next(), chosen.next()) {
            (None, _) => Ok(None),
            (Some(Ok(protocol)), None) if self.protocols.iter().any(|p| p == protocol) => {
                Ok(Some(protocol.to_owned()))
            }
            (Some(Ok(protocol)), None) => {
                Err(ResponseError::ProtocolNotOffered(protocol.to_owned()))
            }
            _ => Err(ResponseError::InvalidProtocolHeader),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The RFC 6455 §1.3 sample key, for byte-exact requests.
    pub(crate) const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    pub(crate) fn sample(builder: ClientBuilder) -> ClientHandshake {
        builder.build_with_key(SAMPLE_KEY.to_owned()).unwrap()
    }

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn request_bytes_follow_rfc_example() {
        let client = sample(
            ClientBuilder::new(uri("ws://server.example.com/chat"))
                .protocol("chat")
                .protocol("superchat")
                .origin("http://example.com"),
        );
        let mut buf = Vec::new();
        client.encode(&mut buf);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "GET /chat HTTP/1.1\r\n\
             host: server.example.com\r\n\
             upgrade: websocket\r\n\
             connection: Upgrade\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             sec-websocket-version: 13\r\n\
             sec-websocket-protocol: chat, superchat\r\n\
             origin: http://example.com\r\n\r\n"
        );
    }

    #[test]
    fn host_has_port_only_when_not_default() {
        let host = |s: &str| {
            sample(ClientBuilder::new(uri(s))).request().headers()[HOST]
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(host("ws://a.example"), "a.example");
        assert_eq!(host("ws://a.example:80/"), "a.example");
        assert_eq!(host("ws://a.example:443/"), "a.example:443");
        assert_eq!(host("wss://a.example:443/"), "a.example");
        assert_eq!(host("wss://a.example:8443/x"), "a.example:8443");
        assert_eq!(host("ws://[::1]:9001"), "[::1]:9001");
        assert_eq!(host("ws://user:pw@a.example"), "a.example");
    }

    #[test]
    fn target_keeps_path_and_query() {
        let client = sample(ClientBuilder::new(uri("wss://a.example:8443/p/q?x=1&y")));
        let mut buf = Vec::new();
        client.encode(&mut buf);
        assert!(buf.starts_with(b"GET /p/q?x=1&y HTTP/1.1\r\n"));
        let client = sample(ClientBuilder::new(uri("ws://a.example")));
        buf.clear();
        client.encode(&mut buf);
        assert!(buf.starts_with(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn key_is_fresh_each_build() {
        let key = |c: &ClientHandshake| c.request().headers()[SEC_WEBSOCKET_KEY].clone();
        let a = ClientBuilder::new(uri("ws://a")).build().unwrap();
        let b = ClientBuilder::new(uri("ws://a")).build().unwrap();
        assert_ne!(key(&a), key(&b));
        assert!(crate::key::is_valid_key(key(&a).as_bytes()));
    }

    #[test]
    fn from_request_keeps_headers_and_offers() {
        let request = Request::builder()
            .uri("/chat")
            .header(HOST, "a.example:81")
            .header("authorization", "Bearer x")
            .header(SEC_WEBSOCKET_PROTOCOL, "v1")
            .header(SEC_WEBSOCKET_EXTENSIONS, "x-a; p=1")
            .header(SEC_WEBSOCKET_KEY, "stale")
            .body(())
            .unwrap();
        let client = sample(
            ClientBuilder::from_request(request)
                .protocol("v2")
                .extension("x-b, x-c"),
        );
        let headers = client.request().headers();
        assert_eq!(headers[HOST], "a.example:81");
        assert_eq!(headers["authorization"], "Bearer x");
        assert_eq!(headers[SEC_WEBSOCKET_PROTOCOL], "v1, v2");
        assert_eq!(headers[SEC_WEBSOCKET_EXTENSIONS], "x-a; p=1, x-b, x-c");
        assert_eq!(headers[SEC_WEBSOCKET_KEY], SAMPLE_KEY);
        assert_eq!(client.offers.extension_names, ["x-a", "x-b", "x-c"]);
    }

    #[test]
    fn each_misuse_is_refused() {
        let build = |b: ClientBuilder| b.build().unwrap_err();
        assert_eq!(
            build(ClientBuilder::new(uri("http://a/"))),
            UsageError::UnsupportedScheme("http".into())
        );
        assert_eq!(
            build(ClientBuilder::new(uri("/chat"))),
            UsageError::MissingHost
        );
        let post = Request::builder()
            .method(Method::POST)
            .uri("ws://a/")
            .body(())
            .unwrap();
        assert_eq!(
            build(ClientBuilder::from_request(post)),
            UsageError::NotGet(Method::POST)
        );
        assert_eq!(
            build(ClientBuilder::new(uri("ws://a")).protocol("a b")),
            UsageError::InvalidProtocol("a b".into())
        );
        assert_eq!(
            build(ClientBuilder::new(uri("ws://a")).protocol("")),
            UsageError::InvalidProtocol(String::new())
        );
        assert_eq!(
            build(
                ClientBuilder::new(uri("ws://a"))
                    .protocol("x")
                    .protocol("x")
            ),
            UsageError::DuplicateProtocol("x".into())
        );
        let bad_header = Request::builder()
            .uri("ws://a")
            .header(SEC_WEBSOCKET_PROTOCOL, "a;b")
            .body(())
            .unwrap();
        assert_eq!(
            build(ClientBuilder::from_request(bad_header)),
            UsageError::InvalidProtocol("a;b".into())
        );
        assert!(matches!(
            build(ClientBuilder::new(uri("ws://a")).extension("x; =1")),
            UsageError::InvalidExtension { text, .. } if text == "x; =1"
        ));
        assert_eq!(
            build(ClientBuilder::new(uri("ws://a")).origin("http://a\n")),
            UsageError::InvalidHeaderValue(ORIGIN)
        );
    }
}
