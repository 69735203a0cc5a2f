//! The server side: the client's request, checked, and the answer to it.

use http::header::{
    CONNECTION, HOST, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};

use crate::error::{RequestError, UsageError};
use crate::grammar::{caller_extensions, parse_extensions, parse_tokens};
use crate::key::{accept_key, is_valid_key};
use crate::wire::{self, Limits, encode_response, set_list, text_value};

/// A request a server received: a WebSocket upgrade, or plain HTTP.
#[derive(Clone, Debug)]
#[must_use]
pub enum Incoming {
    /// A valid request to upgrade to WebSocket; answer it with
    /// [`UpgradeRequest::accept`] or with a rejection of your own.
    Upgrade(UpgradeRequest),
    /// A request that does not ask for WebSocket (no `Upgrade: websocket`), for the
    /// application to serve as HTTP. Any body follows in the input, unconsumed.
    Plain(Request<()>),
}

impl Incoming {
    /// Parses and checks the request head at the front of `buf`, which holds everything
    /// received so far.
    ///
    /// Returns `Ok(None)` while the head is incomplete and within `limits`: call again with
    /// more bytes. Then returns the request and the head's length; any bytes after it
    /// belong to what follows (frames, or a plain request's body). On an error, send
    /// [`RequestError::write_response`] and close.
    pub fn parse(buf: &[u8], limits: &Limits) -> Result<Option<(Incoming, usize)>, RequestError> {
        let Some((request, head_len)) = wire::parse_request(buf, limits)? else {
            return Ok(None);
        };
        Incoming::try_from(request).map(|incoming| Some((incoming, head_len)))
    }
}

impl TryFrom<Request<()>> for Incoming {
    type Error = RequestError;

    /// Checks a request parsed by other means, e.g. by hyper.
    fn try_from(request: Request<()>) -> Result<Incoming, RequestError> {
        let headers = request.headers();
        if !wire::lists_token(headers, UPGRADE, "websocket") {
            return Ok(Incoming::Plain(request));
        }
        if request.method() != Method::GET {
            return Err(RequestError::NotGet(request.method().clone()));
        }
        if request.version() != Version::HTTP_11 {
            return Err(RequestError::NotHttp11(request.version()));
        }
        if !headers.contains_key(HOST) {
            return Err(RequestError::MissingHost);
        }
        if !wire::lists_token(headers, CONNECTION, "upgrade") {
            return Err(RequestError::MissingConnectionUpgrade);
        }
        // The version goes first: a client of another version may lack the rest, and it
        // should learn from the 426 which version to use.
        check_version(headers)?;
        let key = single(headers, SEC_WEBSOCKET_KEY)?.ok_or(RequestError::MissingKey)?;
        let key = key.as_bytes().trim_ascii();
        if !is_valid_key(key) {
            return Err(RequestError::InvalidKey);
        }
        let accept = accept_key(key);
        UpgradeRequest::with_offers(request, Some(accept)).map(Incoming::Upgrade)
    }
}

/// Checks `Sec-WebSocket-Version: 13` (RFC 6455 §4.2.1 item 6; RFC 8441 §5 keeps it).
fn check_version(headers: &HeaderMap) -> Result<(), RequestError> {
    let version = single(headers, SEC_WEBSOCKET_VERSION)?.ok_or(RequestError::MissingVersion)?;
    if version.as_bytes().trim_ascii() != b"13" {
        return Err(RequestError::UnsupportedVersion);
    }
    Ok(())
}

/// The value of a header that may appear at most once.
fn single(headers: &HeaderMap, name: HeaderName) -> Result<Option<&HeaderValue>, RequestError> {
    let mut values = headers.get_all(&name).iter();
    match (values.next(), values.next()) {
        (value, None) => Ok(value),
        (_, Some(_)) => Err(RequestError::DuplicateHeader(name)),
    }
}

/// A valid request to upgrade to WebSocket (RFC 6455 §4.2.1).
///
/// Inspect it (path, `Origin`, cookies, the offers), then answer with
/// [`accept`](UpgradeRequest::accept), or refuse with any response through
/// [`encode_response`].
#[derive(Clone, Debug)]
pub struct UpgradeRequest {
    request: Request<()>,
    /// The `Sec-WebSocket-Accept` value for the client's key; `None` for an extended
    /// CONNECT, which has no key.
    accept: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<String>,
    extension_names: Vec<String>,
}

impl UpgradeRequest {
    /// Checks an extended CONNECT request (RFC 8441 for HTTP/2, RFC 9220 for HTTP/3): the
    /// way a WebSocket opens on one stream of such a connection, which the HTTP/2 or
    /// HTTP/3 server (hyper, h2, h3) parsed. `protocol` is the request's `:protocol`
    /// pseudo-header, which the `http` types do not carry (hyper puts it in the request's
    /// extensions as `hyper::ext::Protocol`).
    ///
    /// It must be a `CONNECT` with `:protocol` `websocket` and `Sec-WebSocket-Version: 13`;
    /// there is no key, and the answer ([`accept`](UpgradeRequest::accept)) is a 200
    /// without `Upgrade`, `Connection` or `Sec-WebSocket-Accept`. Subprotocols and
    /// extensions are offered and chosen as over HTTP/1.1. After the 200 the stream's
    /// bytes are frames.
    ///
    /// ```
    /// use http::{Method, Request, Version};
    /// use ws_handshake::UpgradeRequest;
    ///
    /// let request = Request::builder()
    ///     .method(Method::CONNECT)
    ///     .version(Version::HTTP_2)
    ///     .uri("https://chat.example/room")
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())?;
    /// let upgrade = UpgradeRequest::from_extended_connect(request, "websocket")?;
    /// let response = upgrade.accept().select_protocol(&["chat"]).into_response()?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    /// assert!(!response.headers().contains_key("sec-websocket-accept"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RequestError::NotConnect`], [`RequestError::NotWebSocketProtocol`],
    /// [`RequestError::NotHttp2`] (HTTP/2 or HTTP/3 only), and the version, subprotocol
    /// and extension header errors of an HTTP/1.1 upgrade.
    pub fn from_extended_connect(
        request: Request<()>,
        protocol: &str,
    ) -> Result<UpgradeRequest, RequestError> {
        if request.method() != Method::CONNECT {
            return Err(RequestError::NotConnect(request.method().clone()));
        }
        if !protocol.eq_ignore_ascii_case("websocket") {
            return Err(RequestError::NotWebSocketProtocol(protocol.to_owned()));
        }
        if !matches!(request.version(), Version::HTTP_2 | Version::HTTP_3) {
            return Err(RequestError::NotHttp2(request.version()));
        }
        check_version(request.headers())?;
        UpgradeRequest::with_offers(request, None)
    }

    /// The request with the subprotocols and extensions it offers, parsed.
    fn with_offers(
        request: Request<()>,
        accept: Option<String>,
    ) -> Result<UpgradeRequest, RequestError> {
        let headers = request.headers();
        let protocols = parse_tokens(headers.get_all(SEC_WEBSOCKET_PROTOCOL))
            .map(|p| p.map(str::to_owned))
            .collect::<Result<_, _>>()
            .map_err(RequestError::InvalidProtocolHeader)?;
        let mut extensions = Vec::new();
        let mut extension_names = Vec::new();
        for ext in parse_extensions(headers.get_all(SEC_WEBSOCKET_EXTENSIONS)) {
            let ext = ext.map_err(RequestError::InvalidExtensionHeader)?;
            extensions.push(ext.as_str().to_owned());
            extension_names.push(ext.name().to_owned());
        }
        Ok(UpgradeRequest {
            request,
            accept,
            protocols,
            extensions,
            extension_names,
        })
    }

    /// Whether this is an extended CONNECT (HTTP/2 or HTTP/3), answered with a 200,
    /// rather than an HTTP/1.1 upgrade, answered with a 101.
    pub fn is_extended_connect(&self) -> bool {
        self.accept.is_none()
    }

    /// The request as received.
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// The request as received, by value.
    pub fn into_request(self) -> Request<()> {
        self.request
    }

    /// The subprotocols the client offered, in its order.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions the client offered, in its order, each as the text of one
    /// `Sec-WebSocket-Extensions` element; parse them with
    /// [`Extension::parse`](crate::grammar::Extension::parse).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// Starts the response that accepts the upgrade: a 101, or a 200 for an extended
    /// CONNECT.
    pub fn accept(&self) -> Accept<'_> {
        Accept {
            request: self,
            protocol: None,
            extensions: Vec::new(),
            headers: HeaderMap::new(),
        }
    }
}

/// The response accepting an [`UpgradeRequest`] (a 101, or a 200 for an extended
/// CONNECT), under construction.
#[derive(Clone, Debug)]
#[must_use]
pub struct Accept<'r> {
    request: &'r UpgradeRequest,
    protocol: Option<&'r str>,
    extensions: Vec<String>,
    headers: HeaderMap,
}

impl<'r> Accept<'r> {
    /// Chooses the subprotocol: the first of `supported` (the server's, most preferred
    /// first) that the client offered, or none if the client offered none of them.
    pub fn select_protocol(mut self, supported: &[&str]) -> Accept<'r> {
        self.protocol = supported.iter().find_map(|&wanted| {
            self.request
                .protocols
                .iter()
                .find(|offered| *offered == wanted)
                .map(String::as_str)
        });
        self
    }

    /// The subprotocol chosen so far.
    pub fn protocol(&self) -> Option<&'r str> {
        self.protocol
    }

    /// Accepts an extension, as the text of one `Sec-WebSocket-Extensions` element with
    /// the parameters the server settled on. Its name must be one the client offered.
    pub fn extension(mut self, accepted: impl Into<String>) -> Accept<'r> {
        self.extensions.push(accepted.into());
        self
    }

    /// Adds a header, e.g. `Set-Cookie`.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Accept<'r> {
        self.headers.append(name, value);
        self
    }

    /// The response, for servers that send it with an `http` library of their own.
    pub fn into_response(self) -> Result<Response<()>, UsageError> {
        let mut headers = self.headers;
        // HTTP/2 and HTTP/3 have no connection-level headers, and an extended CONNECT no key.
        let status = match &self.request.accept {
            Some(accept) => {
                headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
                headers.insert(
                    SEC_WEBSOCKET_ACCEPT,
                    text_value(SEC_WEBSOCKET_ACCEPT, accept)?,
                );
                StatusCode::SWITCHING_PROTOCOLS
            }
            None => StatusCode::OK,
        };
        let protocol: Vec<&str> = self.protocol.into_iter().collect();
        set_list(&mut headers, SEC_WEBSOCKET_PROTOCOL, &protocol)?;
        let accepted = caller_extensions(self.extensions.iter().map(String::as_str))?;
        if let Some(ext) = accepted
            .iter()
            .find(|ext| !self.request.extension_names.iter().any(|n| n == ext.name()))
        {
            return Err(UsageError::ExtensionNotOffered(ext.name().to_owned()));
        }
        let list: Vec<&str> = accepted.iter().map(|ext| ext.as_str()).collect();
        set_list(&mut headers, SEC_WEBSOCKET_EXTENSIONS, &list)?;
        let mut response = Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// Appends the response's bytes to `buf`, for an HTTP/1.1 upgrade. An extended
    /// CONNECT is answered on its HTTP/2 or HTTP/3 stream: [`UsageError::NotHttp11`]
    /// (send [`into_response`](Accept::into_response) with that connection's library).
    pub fn encode(self, buf: &mut Vec<u8>) -> Result<(), UsageError> {
        if self.request.is_extended_connect() {
            return Err(UsageError::NotHttp11);
        }
        let response = self.into_response()?;
        encode_response(&response.map(|()| []), buf);
        Ok(())
    }
}
