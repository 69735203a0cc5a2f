//! Following a redirect from the server on the client's side: whether a response is one,
//! where its `Location` leads (RFC 3986 §5.2 reference resolution), and which credentials
//! the next request may carry. No I/O: an adapter opens each connection itself.
//!
//! [`Redirects`] keeps the state of one connection attempt across its hops:
//!
//! ```
//! use http::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderValue};
//! use ws_handshake::redirect::Redirects;
//!
//! let mut redirects = Redirects::new("wss://me:pw@a.example/chat".parse()?, 5);
//! let mut headers = HeaderMap::new();
//! headers.insert(COOKIE, HeaderValue::from_static("session=1"));
//!
//! // The first request goes to the URL named, with its credentials.
//! let sent = redirects.headers(&headers);
//! assert_eq!(sent[AUTHORIZATION], ws_handshake::basic_authorization("me", "pw"));
//! assert_eq!(sent[COOKIE], "session=1");
//! let request = redirects.request(&["chat".to_owned()], &headers).build()?;
//! assert_eq!(request.request().headers()[COOKIE], "session=1");
//!
//! // The server redirects to another origin: the credentials stay behind.
//! let response = http::Response::builder()
//!     .status(302)
//!     .header("location", "https://b.example/chat")
//!     .body(())?;
//! let next = redirects.follow(&response)?.expect("a redirect");
//! assert_eq!(next, "wss://b.example/chat");
//! assert!(redirects.headers(&headers).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use http::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderName, LOCATION};
use http::{Response, StatusCode, Uri};

use crate::ClientBuilder;
use crate::auth::userinfo_authorization;

/// Why a redirect cannot be followed.
///
/// Not `#[non_exhaustive]`: adapters map each reason to an error of their own, and a new
/// one should not pass them by unnoticed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// The server sent one more redirect than the `max` allowed.
    #[error("more than {max} redirects")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The `Location` is not a `ws`, `wss`, `http` or `https` URL (or a reference relative
    /// to the current one), or resolves to an invalid URI.
    #[error("cannot follow the redirect to {location:?}")]
    InvalidLocation {
        /// The `Location` header's value (invalid UTF-8 replaced).
        location: String,
    },
}

/// A connection attempt that follows up to `max` redirects: the URI to connect to now,
/// the headers to send there, and the next URI after a redirect.
///
/// The URI given to [`new`](Redirects::new) names the origin that may receive the
/// credentials (see [`request_headers`]).
#[derive(Clone, Debug)]
pub struct Redirects {
    named: Uri,
    current: Uri,
    max: usize,
    followed: usize,
}

impl Redirects {
    /// Starts at `uri` (`ws://` or `wss://`), following at most `max` redirects; with `max`
    /// 0, none.
    pub fn new(uri: Uri, max: usize) -> Redirects {
        Redirects {
            named: uri.clone(),
            current: uri,
            max,
            followed: 0,
        }
    }

    /// The URI to connect to now.
    pub fn uri(&self) -> &Uri {
        &self.current
    }

    /// How many redirects were followed so far.
    pub fn followed(&self) -> usize {
        self.followed
    }

    /// The headers to send to [`uri`](Redirects::uri), out of those the caller gave:
    /// [`request_headers`] from the URI named to the current one.
    pub fn headers(&self, headers: &HeaderMap) -> HeaderMap {
        request_headers(&self.named, &self.current, headers)
    }

    /// The upgrade request for [`uri`](Redirects::uri): `protocols` offered in order, and
    /// [`headers`](Redirects::headers) out of `headers`.
    pub fn request(&self, protocols: &[String], headers: &HeaderMap) -> ClientBuilder {
        let mut builder = ClientBuilder::new(self.current.clone());
        for protocol in protocols {
            builder = builder.protocol(protocol.clone());
        }
        for (name, value) in &self.headers(headers) {
            builder = builder.header(name.clone(), value.clone());
        }
        builder
    }

    /// Moves on after the server answered with `response` instead of 101: the URI to
    /// connect to next, or `None` when `response` is no redirect to follow (not a
    /// [redirect status](is_redirect), no `Location`, or following is off: `max` 0). Then
    /// the response is the caller's refusal to report.
    ///
    /// # Errors
    /// [`RedirectError::InvalidLocation`] for a `Location` that cannot be followed (checked
    /// first), [`RedirectError::TooMany`] when `max` redirects were already followed.
    pub fn follow<B>(&mut self, response: &Response<B>) -> Result<Option<&Uri>, RedirectError> {
        if self.max == 0 {
            return Ok(None);
        }
        let Some(next) = target(&self.current, response)? else {
            return Ok(None);
        };
        if self.followed == self.max {
            return Err(RedirectError::TooMany { max: self.max });
        }
        self.followed += 1;
        self.current = next;
        Ok(Some(&self.current))
    }
}

/// Whether a response with `status` is a redirect a WebSocket client may follow: 301, 302,
/// 303, 307 or 308. (300 asks for a choice and 304 is about caches: neither leads
/// anywhere by itself.)
pub fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Where `response`, the answer to a request for `base`, redirects to: its `Location`
/// [resolved](resolve) against `base`; `None` when it is no redirect ([`is_redirect`])
/// or has no `Location`.
///
/// # Errors
/// [`RedirectError::InvalidLocation`] when the `Location` cannot be followed.
pub fn target<B>(base: &Uri, response: &Response<B>) -> Result<Option<Uri>, RedirectError> {
    let location = response
        .headers()
        .get(LOCATION)
        .filter(|_| is_redirect(response.status()));
    let Some(location) = location else {
        return Ok(None);
    };
    let invalid = || RedirectError::InvalidLocation {
        location: String::from_utf8_lossy(location.as_bytes()).into_owned(),
    };
    let location = location.to_str().map_err(|_| invalid())?;
    resolve(base, location).map(Some).ok_or_else(invalid)
}

/// Whether two URIs have the same origin: scheme, host (ASCII case-insensitive) and port,
/// the scheme's default when none is given (RFC 6454). Userinfo and path do not count.
pub fn same_origin(a: &Uri, b: &Uri) -> bool {
    origin(a) == origin(b)
}

/// Whether header `name` carries credentials (`Authorization`, `Cookie`), which only go to
/// the origin the user named.
pub fn is_credential(name: &HeaderName) -> bool {
    name == AUTHORIZATION || name == COOKIE
}

/// The headers for a request to `target` on the way from `named`, the URI the user gave:
/// all of `headers`, and the userinfo of `named` as `Authorization: Basic` unless
/// `headers` has an `Authorization`; but when `target` is on another origin than
/// `named`, no credentials at all ([`is_credential`] headers, userinfo). The userinfo of
/// `target` itself is never used: it came from the server.
pub fn request_headers(named: &Uri, target: &Uri, headers: &HeaderMap) -> HeaderMap {
    if !same_origin(named, target) {
        let mut kept = HeaderMap::with_capacity(headers.len());
        for (name, value) in headers.iter().filter(|(name, _)| !is_credential(name)) {
            kept.append(name.clone(), value.clone());
        }
        return kept;
    }
    let mut all = headers.clone();
    if !all.contains_key(AUTHORIZATION)
        && let Some(value) = userinfo_authorization(named)
    {
        all.insert(AUTHORIZATION, value);
    }
    all
}

fn origin(uri: &Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = if matches!(scheme.as_str(), "wss" | "https") {
        443
    } else {
        80
    };
    let host = uri.host()?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16().unwrap_or(default_port)))
}

/// Resolves `reference` (a `Location`: absolute, `//authority...`, `/path`, `?query` or a
/// relative path) against `base` as RFC 3986 §5.2 says; `http` and `https` become `ws` and
/// `wss`, and a fragment is dropped (RFC 6455 §3 forbids one). `None` for another scheme,
/// a `ws`/`http` URL without an authority, or a result that is not a valid URI.
///
/// ```
/// use ws_handshake::redirect::resolve;
///
/// let base = "ws://a.example/b/c/d?q".parse()?;
/// assert_eq!(resolve(&base, "../g").unwrap(), "ws://a.example/b/g");
/// assert_eq!(resolve(&base, "https://b.example/x#top").unwrap(), "wss://b.example/x");
/// assert_eq!(resolve(&base, "ftp://b.example/"), None);
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
pub fn resolve(base: &Uri, reference: &str) -> Option<Uri> {
    let reference = reference.split('#').next().unwrap_or_default();
    let (scheme, rest, absolute) = match split_scheme(reference) {
        Some((scheme, rest)) => (websocket_scheme(scheme)?, rest, true),
        None => (base.scheme_str()?, reference, false),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(rest) => {
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            let path = &rest[end..];
            let path = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            };
            (&rest[..end], path)
        }
        // ws and http URLs have an authority: `ws:/path` is not one.
        None if absolute => return None,
        None => (base.authority()?.as_str(), relative_path(base, rest)),
    };
    if authority.is_empty() {
        return None;
    }
    format!("{scheme}://{authority}{}", remove_dot_segments(&path))
        .parse()
        .ok()
}

/// The path and query a reference without authority leads to from `base` (RFC 3986 §5.2.2).
fn relative_path(base: &Uri, reference: &str) -> String {
    let base_path = base.path();
    if reference.is_empty() {
        return base
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
    }
    if reference.starts_with('/') {
        return reference.to_owned();
    }
    if reference.starts_with('?') {
        return format!("{base_path}{reference}");
    }
    // Merge: the base path up to its last segment, then the reference (§5.2.3).
    let directory = &base_path[..base_path.rfind('/').map_or(0, |slash| slash + 1)];
    format!("{directory}{reference}")
}
/// `scheme` and the rest of `reference` when it starts with a scheme (RFC 3986 §3.1).
fn split_scheme(reference: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = reference.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// The WebSocket scheme for a redirect's scheme.
fn websocket_scheme(scheme: &str) -> Option<&'static str> {
    match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => Some("ws"),
        "wss" | "https" => Some("wss"),
        _ => None,
    }
}

/// Removes `.` and `..` segments from the path of `path_and_query` (RFC 3986 §5.2.4).
fn remove_dot_segments(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.find('?') {
        Some(at) => path_and_query.split_at(at),
        None => (path_and_query, ""),
    };
    let mut segments: Vec<&str> = Vec::new();
    // The path starts with '/', so the first piece is empty.
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    // A final `.` or `..` leaves a directory: the path ends with '/'.
    if path.ends_with("/.") || path.ends_with("/..") {
        segments.push("");
    }
    let mut resolved = String::with_capacity(path_and_query.len());
    for segment in &segments {
        resolved.push('/');
        resolved.push_str(segment);
    }
    if resolved.is_empty() {
        resolved.push('/');
    }
    resolved.push_str(query);
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(base: &str, reference: &str) -> Option<String> {
        resolve(&base.parse().unwrap(), reference).map(|uri| uri.to_string())
    }

    fn assert_resolves(base: &str, cases: &[(&str, &str)]) {
        for &(reference, expected) in cases {
            let got = resolved(base, reference);
            assert_eq!(got.as_deref(), Some(expected), "{reference}");
        }
    }

    #[test]
    fn absolute_locations_map_http_to_websocket_schemes() {
        assert_resolves(
            "ws://a.example/chat",
            &[
                ("ws://b.example/x", "ws://b.example/x"),
                ("WSS://b.example:8443/x?y", "wss://b.example:8443/x?y"),
                ("http://b.example", "ws://b.example/"),
                ("https://b.example/a/../b#frag", "wss://b.example/b"),
                ("//b.example:81/x", "ws://b.example:81/x"),
                ("//b.example?q", "ws://b.example/?q"),
            ],
        );
    }

    #[test]
    fn relative_locations_follow_rfc_3986() {
        // From the examples of RFC 3986 §5.4.1, with ws for http.
        assert_resolves(
            "ws://a/b/c/d;p?q",
            &[
                ("g", "ws://a/b/c/g"),
                ("./g", "ws://a/b/c/g"),
                ("g/", "ws://a/b/c/g/"),
                ("/g", "ws://a/g"),
                ("?y", "ws://a/b/c/d;p?y"),
                ("g?y", "ws://a/b/c/g?y"),
                ("", "ws://a/b/c/d;p?q"),
                (".", "ws://a/b/c/"),
                ("..", "ws://a/b/"),
                ("../g", "ws://a/b/g"),
                ("../..", "ws://a/"),
                ("../../../g", "ws://a/g"),
                ("/./g", "ws://a/g"),
                ("g;x=1/../y", "ws://a/b/c/y"),
                ("//g", "ws://g/"),
                ("#s", "ws://a/b/c/d;p?q"),
                ("g#s", "ws://a/b/c/g"),
                ("g?y#s", "ws://a/b/c/g?y"),
                (";x", "ws://a/b/c/;x"),
                ("g;x", "ws://a/b/c/g;x"),
                ("g;x?y#s", "ws://a/b/c/g;x?y"),
                ("./", "ws://a/b/c/"),
                ("../", "ws://a/b/"),
                ("../../", "ws://a/"),
                ("../../../../g", "ws://a/g"),
            ],
        );
    }

    #[test]
    fn unusable_locations_are_refused() {
        let base = "wss://a.example:8443/chat";
        for reference in [
            "g:h",
            "ftp://b.example/",
            "mailto:x@b.example",
            "ws:/no-authority",
            "//",
            "ws://b.example/a b",
        ] {
            assert_eq!(resolved(base, reference), None, "{reference}");
        }
        // The base's userinfo and port stay with a relative reference.
        assert_eq!(
            resolved("ws://u:p@a.example:81/x", "y").as_deref(),
            Some("ws://u:p@a.example:81/y")
        );
    }

    #[test]
    fn only_redirect_statuses_with_a_location_are_followed() {
        let base: Uri = "ws://a.example/".parse().unwrap();
        let response = |status: u16, location: Option<&[u8]>| {
            let mut builder = Response::builder().status(status);
            if let Some(location) = location {
                builder = builder.header(LOCATION, location);
            }
            builder.body(Vec::<u8>::new()).unwrap()
        };
        for status in [301, 302, 303, 307, 308] {
            let target = target(&base, &response(status, Some(b"/next"))).unwrap();
            assert_eq!(target.unwrap(), "ws://a.example/next");
        }
        for (status, location) in [
            (300, Some(&b"/next"[..])),
            (304, Some(b"/next")),
            (302, None),
        ] {
            assert!(
                target(&base, &response(status, location))
                    .unwrap()
                    .is_none()
            );
        }
        let invalid = target(&base, &response(302, Some(b"gopher://x/\xff")));
        assert!(
            matches!(&invalid, Err(RedirectError::InvalidLocation { location }) if location.starts_with("gopher://x/")),
            "{invalid:?}"
        );
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let uri = |text: &str| -> Uri { text.parse().unwrap() };
        assert!(same_origin(
            &uri("ws://A.example/x"),
            &uri("ws://a.example:80/y")
        ));
        assert!(same_origin(
            &uri("wss://u@a.example/"),
            &uri("wss://a.example:443/")
        ));
        assert!(!same_origin(
            &uri("ws://a.example/"),
            &uri("wss://a.example/")
        ));
        assert!(!same_origin(
            &uri("ws://a.example/"),
            &uri("ws://a.example:81/")
        ));
        assert!(!same_origin(
            &uri("ws://a.example/"),
            &uri("ws://b.example/")
        ));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|&(name, value)| {
                (
                    HeaderName::from_static(name),
                    http::HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn credentials_go_only_to_the_origin_named() {
        let uri = |text: &str| -> Uri { text.parse().unwrap() };
        let given = headers(&[("cookie", "a=1"), ("x-trace", "7")]);
        let named = uri("ws://me:pw@a.example/");
        let basic = crate::basic_authorization("me", "pw");

        let same = request_headers(&named, &uri("ws://a.example:80/next"), &given);
        assert_eq!(same["cookie"], "a=1");
        assert_eq!(same[AUTHORIZATION], basic);
        let other = request_headers(&named, &uri("ws://b.example/"), &given);
        assert_eq!(other, headers(&[("x-trace", "7")]));

        // An explicit Authorization wins over the userinfo, and is dropped the same way.
        let bearer = headers(&[("authorization", "Bearer t"), ("x-trace", "7")]);
        let same = request_headers(&named, &named, &bearer);
        assert_eq!(same.get_all(AUTHORIZATION).iter().count(), 1);
        assert_eq!(same[AUTHORIZATION], "Bearer t");
        let other = request_headers(&named, &uri("wss://a.example/"), &bearer);
        assert_eq!(other, headers(&[("x-trace", "7")]));

        // Userinfo in a redirect's target is the server's, never sent.
        let plain = uri("ws://a.example/");
        let target = uri("ws://evil:pw@a.example/");
        assert!(request_headers(&plain, &target, &HeaderMap::new()).is_empty());
    }

    #[test]
    fn redirects_are_followed_up_to_the_limit() {
        let redirect = |location: &'static str| {
            Response::builder()
                .status(307)
                .header(LOCATION, location)
                .body(())
                .unwrap()
        };
        let mut redirects = Redirects::new("ws://a.example/x".parse().unwrap(), 2);
        let next = redirects.follow(&redirect("/y")).unwrap();
        assert_eq!(next.unwrap(), "ws://a.example/y");
        let next = redirects.follow(&redirect("z")).unwrap();
        assert_eq!(next.unwrap(), "ws://a.example/z");
        assert_eq!(redirects.followed(), 2);
        // The location is judged before the limit.
        assert!(matches!(
            redirects.follow(&redirect("ftp://b.example/")),
            Err(RedirectError::InvalidLocation { .. })
        ));
        assert_eq!(
            redirects.follow(&redirect("/w")),
            Err(RedirectError::TooMany { max: 2 })
        );
        assert_eq!(redirects.uri(), "ws://a.example/z");

        // A refusal that is no redirect is left to the caller.
        let forbidden = Response::builder().status(403).body(()).unwrap();
        assert_eq!(redirects.follow(&forbidden), Ok(None));
        // With a limit of 0, following is off: even a redirect is the caller's refusal.
        let mut off = Redirects::new("ws://a.example/".parse().unwrap(), 0);
        assert_eq!(off.follow(&redirect("/y")), Ok(None));
        assert_eq!(off.followed(), 0);
    }
}
