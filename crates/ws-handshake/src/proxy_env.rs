//! Which proxy (HTTP or SOCKS5) the environment names for a connection, read the way
//! curl and Python read it: `https_proxy` for `wss://` (and `https://`), `http_proxy` for
//! `ws://` (and `http://`), else `all_proxy`; each lowercase first, then uppercase; none
//! for a host that `no_proxy` lists or for a loopback host. No I/O and no environment access here:
//! the caller passes the lookup.
//!
//! ```
//! use ws_handshake::proxy_env::proxy_for;
//!
//! let env = |name: &str| match name {
//!     "https_proxy" => Some("proxy.example:3128".to_owned()),
//!     "no_proxy" => Some("internal.example, 10.0.0.0/8".to_owned()),
//!     _ => None,
//! };
//! let proxy = |url: &str| proxy_for(&url.parse().unwrap(), env);
//! assert_eq!(proxy("wss://chat.example/").as_deref(), Some("http://proxy.example:3128"));
//! assert_eq!(proxy("wss://api.internal.example/"), None); // listed in no_proxy
//! assert_eq!(proxy("wss://10.1.2.3/"), None); // inside 10.0.0.0/8
//! assert_eq!(proxy("wss://127.0.0.1:9001/"), None); // loopback: never through a proxy
//! assert_eq!(proxy("ws://chat.example/"), None); // no http_proxy or all_proxy set
//! ```

use std::borrow::Cow;
use std::net::IpAddr;

use http::Uri;

/// The proxy URL the environment names for connecting to `target`, or `None` to connect
/// directly. `var` looks a variable up (`|name| std::env::var(name).ok()`); an empty value
/// counts as unset. A value without a scheme (`proxy:3128`) is taken as `http://`.
///
/// `no_proxy` is a list separated by commas or spaces of: `*` (every host); a domain,
/// which also covers its subdomains (`example.com`, `.example.com` and `*.example.com`
/// alike); an IP address (IPv6 with or without brackets); an address block in CIDR
/// notation (`10.0.0.0/8`, `fd00::/8`). A domain or address may end in `:port`, and then
/// covers that port only. Loopback hosts (`localhost` and its subdomains, `127.0.0.0/8`,
/// `::1`) are always reached directly: a proxy elsewhere cannot reach this machine's
/// loopback.
pub fn proxy_for(target: &Uri, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let host = target
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let secure = matches!(target.scheme_str(), Some("wss" | "https"));
    let port = target.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let ip = host.parse::<IpAddr>().ok();
    if host == "localhost" || host.ends_with(".localhost") || ip.is_some_and(|ip| ip.is_loopback())
    {
        return None;
    }
    let get = |name: &str| {
        var(name)
            .or_else(|| var(&name.to_ascii_uppercase()))
            .filter(|value| !value.trim().is_empty())
    };
    if get("no_proxy").is_some_and(|list| bypasses(&list, &host, ip, port)) {
        return None;
    }
    let url =
        get(if secure { "https_proxy" } else { "http_proxy" }).or_else(|| get("all_proxy"))?;
    let url = url.trim();
    Some(if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    })
}

/// `url` with the credentials of its authority (`user:password@`) replaced by `***@`,
/// for error messages and logs: a proxy URL, from the environment above all, may hold a
/// password.
///
/// ```
/// use ws_handshake::proxy_env::without_credentials;
///
/// assert_eq!(without_credentials("http://me:pw@proxy:3128/"), "http://***@proxy:3128/");
/// assert_eq!(without_credentials("socks5://proxy:1080"), "socks5://proxy:1080");
/// ```
pub fn without_credentials(url: &str) -> Cow<'_, str> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]).into(),
        None => url.into(),
    }
}

/// Whether an entry of the `no_proxy` list covers `host` (`ip` if it is an address) at
/// `port`.
fn bypasses(list: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .any(|entry| covers(&entry.to_ascii_lowercase(), host, ip, port))
}

fn covers(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((network, prefix)) = entry.split_once('/') {
        return ip.is_some_and(|ip| in_block(ip, network, prefix));
    }
    let (name, entry_port) = split_port(entry);
    if entry_port.is_some_and(|entry_port| entry_port != port) {
        return false;
    }
    if let Ok(entry_ip) = name.parse::<IpAddr>() {
        return ip == Some(entry_ip);
    }
    let domain = name.trim_start_matches("*.").trim_start_matches('.');
    !domain.is_empty()
        && host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// `name[:port]`, `[v6]:port`, `[v6]` or a bare IPv6 address (several colons, no port).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((address, after)) => (
                address,
                after.strip_prefix(':').and_then(|p| p.parse().ok()),
            ),
            None => (rest, None),
        };
    }
    match entry.split_once(':') {
        Some((name, port)) if !port.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// Whether `ip` lies in the block `network/prefix` (same address family only).
fn in_block(ip: IpAddr, network: &str, prefix: &str) -> bool {
    let (Ok(network), Ok(prefix)) = (network.parse::<IpAddr>(), prefix.parse::<u32>()) else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn proxy(url: &str, env: &[(&str, &str)]) -> Option<String> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        proxy_for(&url.parse().unwrap(), |name| env.get(name).cloned())
    }

    const BOTH: [(&str, &str); 2] = [
        ("http_proxy", "http://plain.proxy:3128"),
        ("https_proxy", "http://secure.proxy:3128"),
    ];

    #[test]
    fn the_scheme_picks_the_variable() {
        assert_eq!(
            proxy("ws://a.example/", &BOTH).unwrap(),
            "http://plain.proxy:3128"
        );
        assert_eq!(
            proxy("wss://a.example/", &BOTH).unwrap(),
            "http://secure.proxy:3128"
        );
        assert_eq!(
            proxy("https://a.example/", &BOTH).unwrap(),
            "http://secure.proxy:3128"
        );
        assert_eq!(proxy("wss://a.example/", &BOTH[..1]), None);
    }

    #[test]
    fn lowercase_first_then_uppercase_then_all_proxy() {
        let env = [
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:1"),
        ];
        assert_eq!(proxy("ws://a.example/", &env).unwrap(), "http://lower:1");
        assert_eq!(
            proxy("ws://a.example/", &env[..1]).unwrap(),
            "http://upper:1"
        );
        let env = [("ALL_PROXY", "http://all:1")];
        assert_eq!(proxy("wss://a.example/", &env).unwrap(), "http://all:1");
        // An empty value is unset: the next candidate is used.
        let env = [("http_proxy", " "), ("all_proxy", "http://all:1")];
        assert_eq!(proxy("ws://a.example/", &env).unwrap(), "http://all:1");
    }

    #[test]
    fn a_value_without_a_scheme_is_http_and_others_are_kept() {
        let env = [("http_proxy", "proxy:3128")];
        assert_eq!(proxy("ws://a.example/", &env).unwrap(), "http://proxy:3128");
        // The scheme is kept as it is: SOCKS5 for this one; the adapter refuses others.
        let env = [("all_proxy", "socks5://proxy:1080")];
        assert_eq!(
            proxy("ws://a.example/", &env).unwrap(),
            "socks5://proxy:1080"
        );
    }

    #[test]
    fn loopback_is_always_direct() {
        for url in [
            "ws://127.0.0.1:9001/",
            "ws://127.1.2.3/",
            "ws://[::1]:9001/",
            "ws://localhost/",
            "ws://LOCALHOST:1/",
            "ws://app.localhost/",
        ] {
            assert_eq!(proxy(url, &BOTH), None, "{url}");
        }
    }

    #[test]
    fn no_proxy_domains_cover_their_subdomains_only() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "other, EXAMPLE.com",
        ] {
            let env = [BOTH[0], ("no_proxy", list)];
            assert_eq!(proxy("ws://example.com/", &env), None, "{list}");
            assert_eq!(proxy("ws://api.example.com/", &env), None, "{list}");
            assert!(proxy("ws://notexample.com/", &env).is_some(), "{list}");
            assert!(proxy("ws://example.com.evil/", &env).is_some(), "{list}");
        }
        let env = [BOTH[0], ("NO_PROXY", "*")];
        assert_eq!(proxy("ws://anything.example/", &env), None);
    }

    #[test]
    fn no_proxy_ports_addresses_and_blocks() {
        let list = "a.example:8080 192.0.2.7,[2001:db8::1]:443,2001:db8::2,10.0.0.0/8,fd00::/8";
        let env = [BOTH[0], BOTH[1], ("no_proxy", list)];
        let direct = [
            "ws://a.example:8080/",
            "ws://192.0.2.7/",
            "wss://[2001:db8::1]/",
            "ws://[2001:db8::2]:1/",
            "ws://10.200.0.1/",
            "ws://[fd12::1]/",
        ];
        for url in direct {
            assert_eq!(proxy(url, &env), None, "{url}");
        }
        let proxied = [
            "ws://a.example/",
            "ws://192.0.2.8/",
            "ws://[2001:db8::1]/",
            "ws://11.0.0.1/",
            "ws://[fe80::1]/",
        ];
        for url in proxied {
            assert!(proxy(url, &env).is_some(), "{url}");
        }
    }

    #[test]
    fn credentials_are_hidden_wherever_the_authority_has_them() {
        assert_eq!(without_credentials("http://u:p@h:1"), "http://***@h:1");
        assert_eq!(without_credentials("u:p@h:1"), "***@h:1");
        assert_eq!(
            without_credentials("http://u:p@x@h/a@b"),
            "http://***@h/a@b"
        );
        assert_eq!(without_credentials("http://h/path@x"), "http://h/path@x");
        assert_eq!(without_credentials("http://[::1"), "http://[::1");
    }

    #[test]
    fn malformed_no_proxy_entries_cover_nothing() {
        let env = [
            BOTH[0],
            ("no_proxy", "10.0.0.0/99, 10.0.0.0/x, /8, ., *., [::1"),
        ];
        assert!(proxy("ws://10.0.0.1/", &env).is_some());
        assert!(proxy("ws://a.example/", &env).is_some());
    }
}
