//! HTTP/1.1 heads on the wire: incremental parsing into `http` types, under limits, and
//! encoding back to bytes.

use std::io::Write as _;

use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};

use crate::error::{RequestError, ResponseError, UsageError};

/// Limits on the HTTP head (and rejected body) received from the peer.
///
/// Each one bounds the memory and work a peer can cause before the handshake fails. The
/// defaults suit the internet; change a field to tighten or loosen one:
///
/// ```
/// let mut limits = ws_handshake::Limits::default();
/// limits.max_headers = 32;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most header lines accepted. Default: 64.
    pub max_headers: usize,
    /// The most bytes in the whole head: start line, headers and the blank line.
    /// Default: 16 KiB.
    pub max_head_bytes: usize,
    /// The most bytes in a request line, without its line break (servers only).
    /// Default: 8 KiB.
    pub max_request_line: usize,
    /// The most body bytes of a rejected response waited for and handed back (clients
    /// only). Default: 64 KiB.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_headers: 64,
            max_head_bytes: 16 << 10,
            max_request_line: 8 << 10,
            max_body: 64 << 10,
        }
    }
}

/// Parses a request head from the front of `buf`: the request and the head's length, or
/// `None` if the head is incomplete.
///
/// The parser only ever sees the bytes a limit allows, so a limit and a syntax error are
/// reported the same way whatever the split of the input.
pub(crate) fn parse_request(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(Request<()>, usize)>, RequestError> {
    let too_many = RequestError::TooManyHeaders {
        max: limits.max_headers,
    };
    // httparse skips empty lines before the request line; measure the line after them.
    let leading = buf
        .iter()
        .take_while(|&&b| matches!(b, b'\r' | b'\n'))
        .count();
    let line = &buf[leading..];
    let line_len = line
        .iter()
        .position(|&b| matches!(b, b'\r' | b'\n'))
        .unwrap_or(line.len());
    // The parser sees only the bytes the tighter limit allows, so the same limit is hit
    // whatever the split; an overlong line binds once it has passed its own limit.
    let line_cap = leading.saturating_add(limits.max_request_line);
    let line_binds = line_len > limits.max_request_line && line_cap <= limits.max_head_bytes;
    let visible = if line_binds {
        line_cap
    } else {
        limits.max_head_bytes
    };
    let view = &buf[..buf.len().min(visible)];

    let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut parsed = httparse::Request::new(&mut slots);
    let status = parsed.parse(view).map_err(|e| match e {
        httparse::Error::TooManyHeaders => too_many.clone(),
        e => RequestError::Malformed(e),
    })?;
    let head_len = match status {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() <= view.len() => return Ok(None),
        httparse::Status::Partial if line_binds => {
            return Err(RequestError::RequestLineTooLong {
                max: limits.max_request_line,
            });
        }
        httparse::Status::Partial => {
            return Err(RequestError::HeadTooLarge {
                max: limits.max_head_bytes,
            });
        }
    };
    // A complete head has all of these; httparse sets them as it goes.
    let (Some(method), Some(path), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(RequestError::Malformed(httparse::Error::Token));
    };
    let mut request = Request::new(());
    *request.method_mut() = Method::from_bytes(method.as_bytes())
        .map_err(|_| RequestError::Malformed(httparse::Error::Token))?;
    *request.uri_mut() = Uri::try_from(path).map_err(|_| RequestError::InvalidTarget)?;
    *request.version_mut() = http_version(version);
    *request.headers_mut() = header_map(parsed.headers, too_many, RequestError::InvalidHeader)?;
    Ok(Some((request, head_len)))
}

/// Parses a response head from the front of `buf`, as [`parse_request`] does a request.
pub(crate) fn parse_response(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(Response<()>, usize)>, ResponseError> {
    let too_many = ResponseError::TooManyHeaders {
        max: limits.max_headers,
    };
    let view = &buf[..buf.len().min(limits.max_head_bytes)];
    let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut parsed = httparse::Response::new(&mut slots);
    let status = parsed.parse(view).map_err(|e| match e {
        httparse::Error::TooManyHeaders => too_many.clone(),
        e => ResponseError::Malformed(e),
    })?;
    let head_len = match status {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() > view.len() => {
            return Err(ResponseError::HeadTooLarge {
                max: limits.max_head_bytes,
            });
        }
        httparse::Status::Partial => return Ok(None),
    };
    let malformed_status = ResponseError::Malformed(httparse::Error::Status);
    let (Some(code), Some(version)) = (parsed.code, parsed.version) else {
        return Err(malformed_status);
    };
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::from_u16(code).map_err(|_| malformed_status)?;
    *response.version_mut() = http_version(version);
    *response.headers_mut() = header_map(parsed.headers, too_many, ResponseError::InvalidHeader)?;
    Ok(Some((response, head_len)))
}

/// Completes a response that is handed back to the caller rather than accepted: its body
/// is taken from `rest` (the bytes after the head) when `Content-Length` announces one of
/// at most `max_body` bytes. Returns `None` while that body is incomplete; otherwise the
/// response and how many bytes of `rest` it took.
///
/// Without a usable length (chunked, close-delimited, too large) the body is left empty
/// and the bytes stay in the caller's buffer, since their end cannot be known here.
/// Parses the answer at the front of `buf` to a request sent: `Ok(None)` until it is
/// complete, then what it means and how many bytes it took. A head that `opens` (a 101, a
/// proxy's 2xx) ends the answer, the bytes after it being the new protocol's, and becomes
/// `open(head)`; any other head is a refusal, waited for with its body (see
/// [`with_body`]) and passed to `refused`.
pub(crate) fn parse_answer<T>(
    buf: &[u8],
    limits: &Limits,
    opens: impl FnOnce(StatusCode) -> bool,
    open: impl FnOnce(Response<()>) -> Result<T, ResponseError>,
    refused: impl FnOnce(Response<Vec<u8>>) -> T,
) -> Result<Option<(T, usize)>, ResponseError> {
    let Some((head, head_len)) = parse_response(buf, limits)? else {
        return Ok(None);
    };
    if opens(head.status()) {
        return open(head).map(|outcome| Some((outcome, head_len)));
    }
    Ok(with_body(head, &buf[head_len..], limits.max_body)
        .map(|(response, body_len)| (refused(response), head_len + body_len)))
}

pub(crate) fn with_body(
    head: Response<()>,
    rest: &[u8],
    max_body: usize,
) -> Option<(Response<Vec<u8>>, usize)> {
    let len = content_length(head.headers())
        .filter(|&len| {
            len <= max_body
                && !bodiless(head.status())
                && !head.headers().contains_key(TRANSFER_ENCODING)
        })
        .unwrap_or(0);
    let body = rest.get(..len)?;
    Some((head.map(|()| body.to_vec()), len))
}

/// The single, valid `Content-Length`, if there is one.
fn content_length(headers: &HeaderMap) -> Option<usize> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()?.trim().parse().ok()
}

/// Whether a response with `status` never has a body (RFC 9112 §6.3): then Content-Length
/// describes some other response, if anything.
fn bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

fn http_version(minor: u8) -> Version {
    if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    }
}

/// The parsed headers as a map; `too_many` if the map cannot hold them, `invalid` if one
/// is not a valid `http` header.
fn header_map<E>(
    headers: &[httparse::Header<'_>],
    too_many: E,
    invalid: E,
) -> Result<HeaderMap, E> {
    let mut map = HeaderMap::new();
    for header in headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_bytes(header.value),
        ) else {
            return Err(invalid);
        };
        if map.try_append(name, value).is_err() {
            return Err(too_many);
        }
    }
    Ok(map)
}

/// A header value from text the caller gave.
pub(crate) fn text_value(name: HeaderName, text: &str) -> Result<HeaderValue, UsageError> {
    HeaderValue::from_str(text).map_err(|_| UsageError::InvalidHeaderValue(name))
}

/// Replaces header `name` with one line listing `items`, or removes it if there are none.
pub(crate) fn set_list<S: std::borrow::Borrow<str>>(
    headers: &mut HeaderMap,
    name: HeaderName,
    items: &[S],
) -> Result<(), UsageError> {
    headers.remove(&name);
    if !items.is_empty() {
        let value = text_value(name.clone(), &items.join(", "))?;
        headers.insert(name, value);
    }
    Ok(())
}

/// Whether any line of header `name` lists `token` (case-insensitive), as `Connection` and
/// `Upgrade` do.
pub(crate) fn lists_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// Appends a request head to `buf`. The target is in authority form for `CONNECT` and
/// origin form otherwise, as a request to a server (not to a forward proxy) must be.
pub(crate) fn encode_request(request: &Request<()>, buf: &mut Vec<u8>) {
    let uri = request.uri();
    let target = if request.method() == Method::CONNECT {
        uri.authority().map_or("", |a| a.as_str())
    } else {
        uri.path_and_query().map_or("/", |pq| pq.as_str())
    };
    // Writing to a Vec cannot fail.
    let _ = write!(buf, "{} {target} HTTP/1.1\r\n", request.method());
    encode_headers(request.headers(), buf);
}

/// Appends a response to `buf`: status line, headers and body.
///
/// A `Content-Length` is added when the response may have a body and carries neither a
/// `Content-Length` nor a `Transfer-Encoding`; the body is written as given. The version
/// is always HTTP/1.1.
///
/// This is how a server sends a rejection of its own choosing, e.g. after inspecting an
/// [`UpgradeRequest`](crate::UpgradeRequest):
///
/// ```
/// use http::{Response, StatusCode};
///
/// let response = Response::builder()
///     .status(StatusCode::FORBIDDEN)
///     .body("no entry")?;
/// let mut buf = Vec::new();
/// ws_handshake::encode_response(&response, &mut buf);
/// assert_eq!(buf, b"HTTP/1.1 403 Forbidden\r\ncontent-length: 8\r\n\r\nno entry");
/// # Ok::<(), http::Error>(())
/// ```
pub fn encode_response<B: AsRef<[u8]>>(response: &Response<B>, buf: &mut Vec<u8>) {
    let status = response.status();
    let body = response.body().as_ref();
    let _ = write!(
        buf,
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    );
    let headers = response.headers();
    if !bodiless(status)
        && !headers.contains_key(CONTENT_LENGTH)
        && !headers.contains_key(TRANSFER_ENCODING)
    {
        let _ = write!(buf, "content-length: {}\r\n", body.len());
    }
    encode_headers(headers, buf);
    buf.extend_from_slice(body);
}

/// Appends the header lines and the blank line that ends a head.
fn encode_headers(headers: &HeaderMap, buf: &mut Vec<u8>) {
    for (name, value) in headers {
        buf.extend_from_slice(name.as_str().as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(value.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    buf.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &[u8] = b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nA: 1\r\nA: 2\r\n\r\n";

    #[test]
    fn request_head_parses_into_http_types() {
        let (request, len) = parse_request(GET, &Limits::default()).unwrap().unwrap();
        assert_eq!(len, GET.len());
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/chat?x=1");
        assert_eq!(request.version(), Version::HTTP_11);
        assert_eq!(request.headers().get_all("a").iter().count(), 2);
        assert!(
            parse_request(&GET[..20], &Limits::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn request_limits_each_hit() {
        let limits = Limits {
            max_headers: 2,
            max_head_bytes: 40,
            max_request_line: 16,
            max_body: 0,
        };
        assert_eq!(
            parse_request(b"GET /abcdefghijkl HTTP/1.1\r\n\r\n", &limits).unwrap_err(),
            (RequestError::RequestLineTooLong { max: 16 })
        );
        // Detected before the line ends.
        assert_eq!(
            parse_request(b"GET /abcdefghijklm", &limits).unwrap_err(),
            (RequestError::RequestLineTooLong { max: 16 })
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &limits).unwrap_err(),
            (RequestError::TooManyHeaders { max: 2 })
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nA: 1234567890123456789012345", &limits).unwrap_err(),
            (RequestError::HeadTooLarge { max: 40 })
        );
        // Empty lines before the request line count towards the head, not the line.
        let limits = Limits {
            max_head_bytes: 8,
            max_request_line: 2,
            ..Limits::default()
        };
        assert_eq!(
            parse_request(b"\r\n\r\n\r\n\r\n\r\nGET", &limits).unwrap_err(),
            RequestError::HeadTooLarge { max: 8 }
        );
        assert_eq!(
            parse_request(b"\r\nGET /", &limits).unwrap_err(),
            RequestError::RequestLineTooLong { max: 2 }
        );
        // Exactly at the limits is fine.
        let limits = Limits {
            max_head_bytes: GET.len(),
            max_request_line: 22,
            ..Limits::default()
        };
        assert!(parse_request(GET, &limits).unwrap().is_some());
    }

    #[test]
    fn request_target_and_syntax_errors() {
        let limits = Limits::default();
        assert_eq!(
            parse_request(b"GET /a b HTTP/1.1\r\n\r\n", &limits).unwrap_err(),
            (RequestError::Malformed(httparse::Error::Version))
        );
        assert_eq!(
            parse_request(b"GET http://[::1 HTTP/1.1\r\n\r\n", &limits).unwrap_err(),
            (RequestError::InvalidTarget)
        );
    }

    #[test]
    fn response_head_and_body() {
        let limits = Limits::default();
        let bytes = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!rest";
        let (head, len) = parse_response(bytes, &limits).unwrap().unwrap();
        assert_eq!(head.status(), StatusCode::UNAUTHORIZED);
        assert!(with_body(head.clone(), &bytes[len..len + 4], 100).is_none());
        let (response, used) = with_body(head.clone(), &bytes[len..], 100).unwrap();
        assert_eq!(response.body(), b"nope!");
        assert_eq!(used, 5);
        // Over the body limit: handed back without waiting for it.
        let (response, used) = with_body(head, &bytes[len..], 4).unwrap();
        assert!(response.body().is_empty());
        assert_eq!(used, 0);
        assert_eq!(
            parse_response(b"HTTP/1.1 099 Low\r\n\r\n", &limits).unwrap_err(),
            (ResponseError::Malformed(httparse::Error::Status))
        );
    }

    #[test]
    fn body_needs_one_valid_length() {
        let mut head = Response::new(());
        head.headers_mut()
            .append(CONTENT_LENGTH, HeaderValue::from_static("2"));
        head.headers_mut()
            .append(CONTENT_LENGTH, HeaderValue::from_static("3"));
        assert_eq!(with_body(head, b"abc", 10).unwrap().1, 0);
    }

    #[test]
    fn token_lists_match_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.append("connection", HeaderValue::from_static("keep-alive"));
        headers.append("connection", HeaderValue::from_static("x , UpGrade"));
        assert!(lists_token(&headers, http::header::CONNECTION, "upgrade"));
        assert!(!lists_token(&headers, http::header::CONNECTION, "close"));
    }

    #[test]
    fn responses_encode_with_length() {
        let mut buf = Vec::new();
        encode_response(&Response::new([0u8; 0]), &mut buf);
        assert_eq!(buf, b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        buf.clear();
        let response = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .body([])
            .unwrap();
        encode_response(&response, &mut buf);
        assert_eq!(buf, b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
        buf.clear();
        let response = Response::builder().status(599).body(b"x").unwrap();
        encode_response(&response, &mut buf);
        assert_eq!(buf, b"HTTP/1.1 599 \r\ncontent-length: 1\r\n\r\nx");
    }
}
