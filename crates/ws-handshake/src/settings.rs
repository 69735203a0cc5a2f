//! What a client connects to and how it asks, independent of any I/O: the adapters'
//! `ConnectOptions` keep one of these and add their transport settings (TLS, timeouts).

use http::Uri;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::proxy_env::without_credentials;
use crate::redirect::Redirects;
use crate::{ClientBuilder, ProxyKind, UsageError};

/// A client's settings that no transport changes: the `ws://` or `wss://` URL, the
/// subprotocols and headers of the upgrade request, the proxy, and how many redirects
/// to follow.
///
/// Every URL is checked when it is given, and error messages never repeat the
/// credentials a URL may hold (`ws://user:password@host/`, `http://user:password@proxy`).
///
/// ```
/// use http::header::{COOKIE, HeaderValue};
/// use ws_handshake::ClientSettings;
///
/// let mut settings = ClientSettings::new("wss://chat.example/room")?;
/// settings.add_protocol("chat");
/// settings.add_header(COOKIE, HeaderValue::from_static("session=1"));
/// settings.set_proxy("socks5h://proxy.example")?;
///
/// let request = settings.request(&settings.redirects()).build()?;
/// assert_eq!(request.request().headers()["sec-websocket-protocol"], "chat");
/// let proxy = settings.proxy_for(request.request().uri(), |_| None)?;
/// assert_eq!(proxy.unwrap(), "socks5h://proxy.example");
/// # Ok::<(), ws_handshake::UsageError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientSettings {
    uri: Uri,
    protocols: Vec<String>,
    headers: HeaderMap,
    proxy: Option<Uri>,
    proxy_from_env: bool,
    max_redirects: usize,
}

impl ClientSettings {
    /// Settings for connecting to `url`: a `ws://` or `wss://` URL with a host, no
    /// subprotocol, no extra header, no proxy, no redirect followed.
    ///
    /// # Errors
    /// [`UsageError::InvalidUrl`] when `url` does not parse,
    /// [`UsageError::UnsupportedScheme`] when it is not `ws://` or `wss://`,
    /// [`UsageError::MissingHost`] when it names no host.
    pub fn new(url: &str) -> Result<ClientSettings, UsageError> {
        let uri = parse_url(url)?;
        if !matches!(uri.scheme_str(), Some("ws" | "wss")) {
            let scheme = uri.scheme_str().unwrap_or_default().to_owned();
            return Err(UsageError::UnsupportedScheme(scheme));
        }
        host_port(&uri, 0)?;
        Ok(ClientSettings {
            uri,
            protocols: Vec::new(),
            headers: HeaderMap::new(),
            proxy: None,
            proxy_from_env: false,
            max_redirects: 0,
        })
    }

    /// The URL given to [`new`](ClientSettings::new).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Offers a subprotocol (several calls: in order of preference).
    pub fn add_protocol(&mut self, name: impl Into<String>) {
        self.protocols.push(name.into());
    }

    /// Adds a header to the upgrade request (`Authorization`, `Cookie`, `Origin`...).
    /// Credentials (`Authorization`, `Cookie`, the URL's userinfo) go only to the origin of
    /// the URL given to [`new`](ClientSettings::new), never to another one a redirect
    /// leads to ([`redirect::request_headers`](crate::redirect::request_headers)).
    pub fn add_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.append(name, value);
    }

    /// Connects through the proxy at `url`: `http://` (port 80 by default) or `https://`
    /// (443; TLS with the proxy first) for an HTTP `CONNECT` tunnel, with the URL's
    /// credentials as `Proxy-Authorization: Basic`; `socks5://` or `socks5h://` (1080) for
    /// SOCKS5, the target's name resolved by the proxy and the credentials offered as user
    /// name and password; `socks4://` or `socks4a://` (1080) for SOCKS4, SOCKS4a for a
    /// name, the URL's user name as the user id. See [`ProxyKind`] and
    /// [`Tunnel`](crate::Tunnel).
    ///
    /// # Errors
    /// [`UsageError::InvalidUrl`] when `url` does not parse,
    /// [`UsageError::UnsupportedProxyScheme`] for any other scheme.
    pub fn set_proxy(&mut self, url: &str) -> Result<(), UsageError> {
        self.proxy = Some(parse_proxy(url)?);
        Ok(())
    }

    /// Connects through the proxy the environment names, as curl does (the rules:
    /// [`proxy_env::proxy_for`](crate::proxy_env::proxy_for)), unless
    /// [`set_proxy`](ClientSettings::set_proxy) named one. Judged again for each host a
    /// redirect leads to.
    pub fn use_proxy_from_env(&mut self) {
        self.proxy_from_env = true;
    }

    /// Follows up to `max` redirects (see [`Redirects`]); 0, the default, follows none.
    pub fn set_max_redirects(&mut self, max: usize) {
        self.max_redirects = max;
    }

    /// A new connection attempt: it starts at [`uri`](ClientSettings::uri) and follows
    /// redirects up to the limit set.
    pub fn redirects(&self) -> Redirects {
        Redirects::new(self.uri.clone(), self.max_redirects)
    }

    /// The upgrade request for where `redirects` now leads: the subprotocols, and the
    /// headers that may go there.
    pub fn request(&self, redirects: &Redirects) -> ClientBuilder {
        redirects.request(&self.protocols, &self.headers)
    }

    /// The proxy to reach `uri` through: the one set, else, when asked to, the one the
    /// environment names (`var` looks a variable up: `|name| std::env::var(name).ok()`);
    /// `None` to connect directly.
    ///
    /// # Errors
    /// As [`set_proxy`](ClientSettings::set_proxy), for an environment variable that names
    /// no usable proxy: such a proxy is an error, not a reason to connect directly.
    pub fn proxy_for(
        &self,
        uri: &Uri,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Uri>, UsageError> {
        if self.proxy.is_some() || !self.proxy_from_env {
            return Ok(self.proxy.clone());
        }
        crate::proxy_env::proxy_for(uri, var)
            .as_deref()
            .map(parse_proxy)
            .transpose()
    }
}

/// The host to resolve (an IPv6 literal without its brackets) and the port of `uri`,
/// `default_port` when it names none.
///
/// ```
/// use ws_handshake::host_port;
///
/// assert_eq!(host_port(&"wss://[::1]/".parse()?, 443)?, ("::1".to_owned(), 443));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`UsageError::MissingHost`] when `uri` names no host.
pub fn host_port(uri: &Uri, default_port: u16) -> Result<(String, u16), UsageError> {
    let host = uri
        .host()
        .filter(|host| !host.is_empty())
        .ok_or(UsageError::MissingHost)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(default_port)))
}

fn parse_url(url: &str) -> Result<Uri, UsageError> {
    url.parse()
        .map_err(|error: http::uri::InvalidUri| UsageError::InvalidUrl {
            url: without_credentials(url).into_owned(),
            reason: error.to_string(),
        })
}

fn parse_proxy(url: &str) -> Result<Uri, UsageError> {
    let uri = parse_url(url)?;
    match ProxyKind::of(&uri) {
        Some(_) => Ok(uri),
        None => Err(UsageError::UnsupportedProxyScheme(
            uri.scheme_str().unwrap_or_default().to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use http::header::{AUTHORIZATION, COOKIE};

    use super::*;

    #[test]
    fn refuses_unusable_urls_without_repeating_credentials() {
        let error = ClientSettings::new("ws://me:secret@exa mple/").unwrap_err();
        let UsageError::InvalidUrl { url, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(url, "ws://***@exa mple/");
        assert!(!error.to_string().contains("secret"), "{error}");
        assert_eq!(
            ClientSettings::new("http://example/").unwrap_err(),
            UsageError::UnsupportedScheme("http".into())
        );
        assert_eq!(
            ClientSettings::new("/chat").unwrap_err(),
            UsageError::UnsupportedScheme(String::new())
        );
        assert_eq!(
            ClientSettings::new("ws:///chat").map(|_| ()),
            Err(UsageError::InvalidUrl {
                url: "ws:///chat".into(),
                reason: "invalid format".into()
            })
        );
    }

    #[test]
    fn refuses_unsupported_proxies_without_repeating_credentials() {
        let mut settings = ClientSettings::new("ws://example/").unwrap();
        assert_eq!(
            settings.set_proxy("ftp://me:secret@proxy/"),
            Err(UsageError::UnsupportedProxyScheme("ftp".into()))
        );
        let error = settings.set_proxy("http://me:secret@pro xy/").unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
        assert_eq!(settings.proxy_for(settings.uri(), |_| None), Ok(None));
    }

    #[test]
    fn a_proxy_set_wins_over_the_environment_which_is_read_only_when_asked() {
        let env = |name: &str| (name == "http_proxy").then(|| "env-proxy:3128".to_owned());
        let mut settings = ClientSettings::new("ws://example/").unwrap();
        let target: Uri = "ws://example/".parse().unwrap();
        assert_eq!(settings.proxy_for(&target, env), Ok(None));
        settings.use_proxy_from_env();
        let from_env = settings.proxy_for(&target, env).unwrap().unwrap();
        assert_eq!(from_env, "http://env-proxy:3128/");
        settings.set_proxy("socks4a://given").unwrap();
        let given = settings.proxy_for(&target, env).unwrap().unwrap();
        assert_eq!(given, "socks4a://given/");
    }

    #[test]
    fn a_bad_proxy_in_the_environment_is_an_error() {
        let env = |name: &str| (name == "all_proxy").then(|| "gopher://proxy".to_owned());
        let mut settings = ClientSettings::new("wss://example/").unwrap();
        settings.use_proxy_from_env();
        let target = settings.uri().clone();
        assert_eq!(
            settings.proxy_for(&target, env),
            Err(UsageError::UnsupportedProxyScheme("gopher".into()))
        );
    }

    #[test]
    fn requests_carry_protocols_and_keep_credentials_at_their_origin() {
        let mut settings = ClientSettings::new("wss://me:pw@a.example/chat").unwrap();
        settings.add_protocol("v2");
        settings.add_protocol("v1");
        settings.add_header(COOKIE, HeaderValue::from_static("id=1"));
        settings.set_max_redirects(1);
        let mut redirects = settings.redirects();
        let first = settings.request(&redirects).build().unwrap();
        let headers = first.request().headers();
        assert_eq!(headers["sec-websocket-protocol"], "v2, v1");
        assert_eq!(headers[COOKIE], "id=1");
        assert!(headers.contains_key(AUTHORIZATION));

        let moved = http::Response::builder()
            .status(307)
            .header("location", "wss://b.example/chat")
            .body(())
            .unwrap();
        redirects.follow(&moved).unwrap();
        let second = settings.request(&redirects).build().unwrap();
        let headers = second.request().headers();
        assert_eq!(headers["sec-websocket-protocol"], "v2, v1");
        assert!(!headers.contains_key(COOKIE) && !headers.contains_key(AUTHORIZATION));
    }
}
