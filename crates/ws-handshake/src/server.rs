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
        let version =
            single(headers, SEC_WEBSOCKET_VERSION)?.ok_or(RequestError::MissingVersion)?;
        if version.as_bytes().trim_ascii() != b"13" {
            return Err(RequestError::UnsupportedVersion);
        }
        let key = single(headers, SEC_WEBSOCKET_KEY)?.ok_or(RequestError::MissingKey)?;
        let key = key.as_bytes().trim_ascii();
        if !is_valid_key(key) {
            return Err(RequestError::InvalidKey);
        }
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
        Ok(Incoming::Upgrade(UpgradeRequest {
            accept: accept_key(key),
            protocols,
            extensions,
            extension_names,
            request,
        }))
    }
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
    /// The `Sec-WebSocket-Accept` value for the client's key.
    accept: String,
    protocols: Vec<String>,
    extensions: Vec<String>,
    extension_names: Vec<String>,
}

impl UpgradeRequest {
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

    /// Starts the 101 response that accepts the upgrade.
    pub fn accept(&self) -> Accept<'_> {
        Accept {
            request: self,
            protocol: None,
            extensions: Vec::new(),
            headers: HeaderMap::new(),
        }
    }
}

/// The 101 response accepting an [`UpgradeRequest`], under construction.
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
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        let accept = text_value(SEC_WEBSOCKET_ACCEPT, &self.request.accept)?;
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
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
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// Appends the response's bytes to `buf`.
    pub fn encode(self, buf: &mut Vec<u8>) -> Result<(), UsageError> {
        let response = self.into_response()?;
        encode_response(&response.map(|()| []), buf);
        Ok(())
    }
}
