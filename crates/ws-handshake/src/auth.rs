//! `Basic` credentials (RFC 7617): for `Authorization` and `Proxy-Authorization`, given
//! directly or taken from the userinfo of a URI (`ws://user:password@host/`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use http::Uri;

/// The value of an `Authorization` (or `Proxy-Authorization`) header carrying `user` and
/// `password` with the `Basic` scheme of RFC 7617: `Basic ` and the base64 of
/// `user:password`. The value is marked sensitive, so `Debug` does not print it.
///
/// The bytes are encoded as given; RFC 7617 suggests UTF-8. A `user` holding a `:` cannot
/// be told apart from its password by the server.
///
/// ```
/// let value = ws_handshake::basic_authorization("Aladdin", "open sesame");
/// assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// assert!(value.is_sensitive());
/// ```
pub fn basic_authorization(user: impl AsRef<[u8]>, password: impl AsRef<[u8]>) -> HeaderValue {
    let (user, password) = (user.as_ref(), password.as_ref());
    let mut pair = Vec::with_capacity(user.len() + 1 + password.len());
    pair.extend_from_slice(user);
    pair.push(b':');
    pair.extend_from_slice(password);
    let text = format!("Basic {}", STANDARD.encode(pair));
    // Base64 and "Basic " are visible ASCII, which every header value may hold.
    let mut value = HeaderValue::try_from(text).expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}

/// [`basic_authorization`] for the userinfo of `uri` (`user:password@`, each part
/// percent-decoded; no `:` means an empty password), or `None` when `uri` has none.
///
/// ```
/// let uri = "ws://me:p%40ss@chat.example/".parse()?;
/// let value = ws_handshake::userinfo_authorization(&uri).expect("userinfo");
/// assert_eq!(value, ws_handshake::basic_authorization("me", "p@ss"));
/// assert!(ws_handshake::userinfo_authorization(&"ws://chat.example/".parse()?).is_none());
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
pub fn userinfo_authorization(uri: &Uri) -> Option<HeaderValue> {
    let (user, password) = userinfo(uri)?;
    Some(basic_authorization(user, password))
}

/// The user and password of `uri`'s userinfo, percent-decoded (no `:` means an empty
/// password), or `None` when it has none.
pub(crate) fn userinfo(uri: &Uri) -> Option<(Vec<u8>, Vec<u8>)> {
    let authority = uri.authority()?.as_str();
    // The host cannot hold an `@`, so the userinfo ends at the last one.
    let userinfo = &authority[..authority.rfind('@')?];
    // Split before decoding: a `%3A` in the user name is not the separator.
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    Some((percent_decode(user), percent_decode(password)))
}

/// Decodes `%XX` escapes (RFC 3986 §2.1); a `%` not followed by two hex digits stays as is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| b == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_uri(uri: &str) -> Option<HeaderValue> {
        userinfo_authorization(&uri.parse().unwrap())
    }

    #[test]
    fn rfc_7617_example() {
        assert_eq!(
            basic_authorization(b"Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn userinfo_is_split_then_decoded() {
        // The escaped `@` and `:` belong to the user name and the password.
        assert_eq!(
            from_uri("http://user%40corp:p%3Ass@proxy:3128"),
            Some(basic_authorization("user@corp", "p:ss"))
        );
        assert_eq!(
            from_uri("ws://a%3Ab@h/"),
            Some(basic_authorization("a:b", ""))
        );
        // No password, and an empty one, are the same credentials.
        assert_eq!(from_uri("ws://me@h/"), from_uri("ws://me:@h/"));
        assert_eq!(from_uri("ws://me@h/"), Some(basic_authorization("me", "")));
        assert_eq!(from_uri("ws://h:80/"), None);
        assert_eq!(from_uri("/path"), None);
    }

    #[test]
    fn percent_decoding_keeps_stray_percents() {
        assert_eq!(percent_decode("a%3Ab%zz%4"), b"a:b%zz%4");
        assert_eq!(percent_decode("%e2%82%ac"), "€".as_bytes());
    }

    #[test]
    fn credentials_are_hidden_from_debug() {
        let value = basic_authorization("user", "secret");
        assert!(!format!("{value:?}").contains("dXNlcjpzZWNyZXQ="));
    }
}
