//! Following redirects: where a `Location` leads (RFC 3986 §5.2 reference resolution) and
//! which requests may carry the user's credentials.

use http::header::{AUTHORIZATION, COOKIE, HeaderName, LOCATION};
use http::{Response, StatusCode, Uri};

use crate::Error;

/// Where the redirect `response` to a request for `base` leads, as a `ws://` or `wss://`
/// URI; `None` when it is no redirect (not 301, 302, 303, 307, 308, or no `Location`).
pub(crate) fn target(base: &Uri, response: &Response<Vec<u8>>) -> Result<Option<Uri>, Error> {
    let redirect = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    let Some(location) = response.headers().get(LOCATION).filter(|_| redirect) else {
        return Ok(None);
    };
    let invalid = || Error::InvalidRedirect {
        location: String::from_utf8_lossy(location.as_bytes()).into_owned(),
    };
    let location = location.to_str().map_err(|_| invalid())?;
    resolve(base, location).map(Some).ok_or_else(invalid)
}

/// Whether two URIs have the same origin: scheme, host and port (RFC 6454).
pub(crate) fn same_origin(a: &Uri, b: &Uri) -> bool {
    origin(a) == origin(b)
}

/// Whether header `name` carries credentials, which only go to the origin the user named.
pub(crate) fn is_credential(name: &HeaderName) -> bool {
    name == AUTHORIZATION || name == COOKIE
}

fn origin(uri: &Uri) -> Option<(&str, String, u16)> {
    let scheme = uri.scheme_str()?;
    let default_port = if scheme == "wss" { 443 } else { 80 };
    let host = uri.host()?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16().unwrap_or(default_port)))
}

/// Resolves `reference` (absolute, `//authority...`, `/path`, `?query` or a relative path)
/// against `base`; `http` and `https` become `ws` and `wss`. `None` for another scheme or
/// a result that is not a valid URI.
fn resolve(base: &Uri, reference: &str) -> Option<Uri> {
    // A fragment is never sent (RFC 6455 §3).
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
            ],
        );
    }

    #[test]
    fn unusable_locations_are_refused() {
        let base = "wss://a.example:8443/chat";
        for reference in [
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
            builder.body(Vec::new()).unwrap()
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
            matches!(&invalid, Err(Error::InvalidRedirect { location }) if location.starts_with("gopher://x/")),
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
}
