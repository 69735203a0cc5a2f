//! The crate's errors: the caller's misuse apart from the peer's faults.

use http::header::{
    CONNECTION, CONTENT_TYPE, HeaderName, HeaderValue, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, Response, StatusCode, Version};

use crate::grammar::GrammarError;
use crate::wire::encode_response;

/// The caller asked for a handshake that cannot be made; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A URL does not parse; `url` is shown without its credentials.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given, with any `user:password@` replaced by `***@`.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The URI's scheme is not `ws` or `wss` (RFC 6455 §3).
    #[error("URI scheme must be ws or wss, not {0:?}")]
    UnsupportedScheme(String),
    /// The URI names no host, and the request has no `Host` header either.
    #[error("the URI names no host")]
    MissingHost,
    /// The request given to the client builder is not a GET (RFC 6455 §4.1).
    #[error("a handshake request must be GET, not {0}")]
    NotGet(Method),
    /// A subprotocol name is not a token (RFC 6455 §4.1, §11.3.4).
    #[error("subprotocol {0:?} is not a token")]
    InvalidProtocol(String),
    /// A subprotocol was offered twice; offers must be unique (RFC 6455 §4.1).
    #[error("subprotocol {0:?} is offered twice")]
    DuplicateProtocol(String),
    /// An extension offer or acceptance breaks the grammar of RFC 6455 §9.1.
    #[error("extension {text:?} breaks the header grammar")]
    InvalidExtension {
        /// The text given.
        text: String,
        /// Where it breaks the grammar.
        #[source]
        error: GrammarError,
    },
    /// A server accepted an extension the client did not offer (RFC 6455 §9.1).
    #[error("extension {0:?} was not offered by the client")]
    ExtensionNotOffered(String),
    /// A header value given as text holds bytes a header cannot carry, such as a newline.
    #[error("value for header {0} holds bytes a header cannot carry")]
    InvalidHeaderValue(HeaderName),
    /// The proxy URI's scheme is not `http` or `https` (for [`ProxyConnect`](crate::ProxyConnect)),
    /// not `socks5` or `socks5h` (for [`Socks5Connect`](crate::socks::Socks5Connect)), not
    /// `socks4` or `socks4a` (for [`Socks4Connect`](crate::socks::Socks4Connect)), or none
    /// of these (for a [`Tunnel`](crate::Tunnel)).
    #[error("unsupported proxy URI scheme {0:?}")]
    UnsupportedProxyScheme(String),
    /// An HTTP/1.1 encoding was asked of an extended CONNECT handshake (RFC 8441), which
    /// runs over HTTP/2 or HTTP/3.
    #[error("an extended CONNECT handshake runs over HTTP/2 or HTTP/3, not HTTP/1.1")]
    NotHttp11,
    /// A SOCKS5 field (user name, password or host name) is longer than the protocol's
    /// 255 bytes.
    #[error("the {0} is longer than SOCKS5 allows (255 bytes)")]
    SocksFieldTooLong(&'static str),
    /// SOCKS4 has no place for what the URIs ask for: a password, an IPv6 target, or a
    /// NUL byte in the user id.
    #[error("SOCKS4 cannot carry {0}")]
    UnsupportedBySocks4(&'static str),
}

/// A handshake request a server must refuse: the client broke HTTP/1.1 or RFC 6455 §4.2.1,
/// or a [`Limits`](crate::Limits) value.
///
/// Each variant maps to an HTTP status ([`status`](RequestError::status)), and
/// [`write_response`](RequestError::write_response) encodes the refusal to send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The bytes are not an HTTP/1.x request head.
    #[error("malformed request head: {0}")]
    Malformed(#[source] httparse::Error),
    /// The request line is longer than [`Limits::max_request_line`](crate::Limits::max_request_line).
    #[error("request line longer than {max} bytes")]
    RequestLineTooLong {
        /// The limit.
        max: usize,
    },
    /// The head is longer than [`Limits::max_head_bytes`](crate::Limits::max_head_bytes).
    #[error("request head longer than {max} bytes")]
    HeadTooLarge {
        /// The limit.
        max: usize,
    },
    /// The head has more header lines than [`Limits::max_headers`](crate::Limits::max_headers).
    #[error("more than {max} header lines")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// The request target is not a valid URI.
    #[error("request target is not a valid URI")]
    InvalidTarget,
    /// A header name or value is not one HTTP allows.
    #[error("invalid header name or value")]
    InvalidHeader,
    /// An upgrade to WebSocket asked with a method other than GET (RFC 6455 §4.2.1 item 1).
    #[error("WebSocket upgrade with method {0}, not GET")]
    NotGet(Method),
    /// An upgrade to WebSocket over a version other than HTTP/1.1 (RFC 6455 §4.2.1 item 1).
    #[error("WebSocket upgrade over {0:?}, not HTTP/1.1")]
    NotHttp11(Version),
    /// An extended CONNECT whose method is not CONNECT (RFC 8441 §4).
    #[error("extended CONNECT with method {0}, not CONNECT")]
    NotConnect(Method),
    /// An extended CONNECT whose `:protocol` is not `websocket` (RFC 8441 §4).
    #[error("extended CONNECT for protocol {0:?}, not websocket")]
    NotWebSocketProtocol(String),
    /// An extended CONNECT over a version other than HTTP/2 or HTTP/3 (RFC 8441, RFC 9220).
    #[error("extended CONNECT over {0:?}, not HTTP/2 or HTTP/3")]
    NotHttp2(Version),
    /// No `Host` header (RFC 6455 §4.2.1 item 2).
    #[error("no Host header")]
    MissingHost,
    /// `Connection` does not list `upgrade` (RFC 6455 §4.2.1 item 4).
    #[error("Connection header does not list upgrade")]
    MissingConnectionUpgrade,
    /// No `Sec-WebSocket-Key` header (RFC 6455 §4.2.1 item 5).
    #[error("no Sec-WebSocket-Key header")]
    MissingKey,
    /// `Sec-WebSocket-Key` is not the base64 of 16 bytes (RFC 6455 §4.2.1 item 5).
    #[error("Sec-WebSocket-Key is not the base64 of 16 bytes")]
    InvalidKey,
    /// A header that must appear once appears more often (RFC 6455 §11.3).
    #[error("header {0} appears more than once")]
    DuplicateHeader(HeaderName),
    /// No `Sec-WebSocket-Version` header (RFC 6455 §4.2.1 item 6).
    #[error("no Sec-WebSocket-Version header")]
    MissingVersion,
    /// `Sec-WebSocket-Version` is not 13 (RFC 6455 §4.2.1 item 6, §4.4).
    #[error("Sec-WebSocket-Version is not 13")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Protocol` is not a list of tokens (RFC 6455 §11.3.4).
    #[error("invalid Sec-WebSocket-Protocol header: {0}")]
    InvalidProtocolHeader(#[source] GrammarError),
    /// `Sec-WebSocket-Extensions` breaks the grammar of RFC 6455 §9.1.
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensionHeader(#[source] GrammarError),
}

impl RequestError {
    /// The HTTP status to refuse the request with: 414 for a long request line, 431 for
    /// too many or too large headers, 426 for a missing or other WebSocket version, 501
    /// for an extended CONNECT to another protocol than WebSocket, 400 for the rest.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::RequestLineTooLong { .. } => StatusCode::URI_TOO_LONG,
            RequestError::HeadTooLarge { .. } | RequestError::TooManyHeaders { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            RequestError::MissingVersion | RequestError::UnsupportedVersion => {
                StatusCode::UPGRADE_REQUIRED
            }
            // RFC 9220 §3 (for HTTP/2 as well): an extended CONNECT for a protocol the
            // server does not serve.
            RequestError::NotWebSocketProtocol(_) => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The refusal as a response: [`status`](RequestError::status), `Connection: close`,
    /// this error's message as a plain-text body, and for 426 the headers RFC 6455 §4.4 and
    /// RFC 9110 §15.5.22 ask for (`Sec-WebSocket-Version: 13`, `Upgrade: websocket`).
    pub fn to_response(&self) -> Response<String> {
        let mut response = Response::new(format!("{self}\n"));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.status() == StatusCode::UPGRADE_REQUIRED {
            headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        }
        response
    }

    /// Appends [`to_response`](RequestError::to_response), encoded, to `buf`: the bytes to
    /// send before closing the connection.
    pub fn write_response(&self, buf: &mut Vec<u8>) {
        encode_response(&self.to_response(), buf);
    }
}

/// A response a client (or a proxy client) must refuse: the server broke HTTP/1.1 or
/// RFC 6455 §4.1, or a [`Limits`](crate::Limits) value.
///
/// A well-formed response that declines the upgrade is not an error: it is handed back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The bytes are not an HTTP/1.x response head.
    #[error("malformed response head: {0}")]
    Malformed(#[source] httparse::Error),
    /// The head is longer than [`Limits::max_head_bytes`](crate::Limits::max_head_bytes).
    #[error("response head longer than {max} bytes")]
    HeadTooLarge {
        /// The limit.
        max: usize,
    },
    /// The head has more header lines than [`Limits::max_headers`](crate::Limits::max_headers).
    #[error("more than {max} header lines")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// A header name or value is not one HTTP allows.
    #[error("invalid header name or value")]
    InvalidHeader,
    /// A 101 response over a version other than HTTP/1.1.
    #[error("101 response over {0:?}, not HTTP/1.1")]
    NotHttp11(Version),
    /// `Upgrade` is missing or is not `websocket` (RFC 6455 §4.1, response item 2).
    #[error("Upgrade header is not websocket")]
    MissingUpgrade,
    /// `Connection` does not list `upgrade` (RFC 6455 §4.1, response item 3).
    #[error("Connection header does not list upgrade")]
    MissingConnectionUpgrade,
    /// No single `Sec-WebSocket-Accept` header (RFC 6455 §4.1, response item 4).
    #[error("no single Sec-WebSocket-Accept header")]
    MissingAccept,
    /// `Sec-WebSocket-Accept` is not the hash of the key sent (RFC 6455 §4.1, response item 4).
    #[error("Sec-WebSocket-Accept does not match the key sent")]
    AcceptMismatch,
    /// `Sec-WebSocket-Protocol` is not a single token (RFC 6455 §11.3.4).
    #[error("Sec-WebSocket-Protocol is not a single token")]
    InvalidProtocolHeader,
    /// The server chose a subprotocol the client did not offer (RFC 6455 §4.1, item 6).
    #[error("server chose subprotocol {0:?}, which was not offered")]
    ProtocolNotOffered(String),
    /// `Sec-WebSocket-Extensions` breaks the grammar of RFC 6455 §9.1.
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensionHeader(#[source] GrammarError),
    /// The server accepted an extension the client did not offer (RFC 6455 §4.1, item 5).
    #[error("server accepted extension {0:?}, which was not offered")]
    ExtensionNotOffered(String),
}
