//! Following redirects: bounded, and credentials only for the origin the user named.

mod support;

use http::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderValue, LOCATION};
use ws_std::{ConnectOptions, Decision, Error, Message};

use support::{LIMIT, Seen, server};

fn redirect(status: u16, location: &str) -> Decision {
    Decision::Reject(
        http::Response::builder()
            .status(status)
            .header(LOCATION, location)
            .body(Vec::new())
            .unwrap(),
    )
}

/// The next request a test server saw.
fn next(seen: &Seen) -> (String, HeaderMap) {
    seen.recv_timeout(LIMIT).expect("a request")
}

#[test]
fn a_redirect_answered() {
    let (target, target_seen) = server(|_| Decision::Accept);
    let location = format!("http://{target}/final");
    let (first, _) = server(move |_| redirect(302, &location));
    let url = format!("ws://{first}/start");

    // By default the redirect comes back as a rejection.
    match ConnectOptions::new(&url).unwrap().connect() {
        Err(Error::Rejected(response)) => {
            assert_eq!(response.status(), 302);
            assert_eq!(
                response.headers()[LOCATION],
                format!("http://{target}/final")
            );
        }
        other => panic!("{other:?}"),
    }

    let options = ConnectOptions::new(&url).unwrap().follow_redirects(1);
    let mut ws = options.connect().unwrap();
    assert_eq!(next(&target_seen).0, "/final");
    ws.send(Message::text("arrived")).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::text("arrived")));
}

#[test]
fn every_redirect_status_is_followed() {
    for status in [301, 302, 303, 307, 308] {
        let (addr, _) = server(move |path| match path {
            "/a/b" => redirect(status, "../c"),
            _ => Decision::Accept,
        });
        let options = ConnectOptions::new(&format!("ws://{addr}/a/b")).unwrap();
        options.follow_redirects(1).connect().unwrap();
    }
}

#[test]
fn the_hop_limit_is_kept() {
    let (addr, seen) = server(|_| redirect(307, "/again"));
    let options = ConnectOptions::new(&format!("ws://{addr}/")).unwrap();
    match options.follow_redirects(2).connect() {
        Err(Error::TooManyRedirects { max, response }) => {
            assert_eq!(max, 2);
            assert_eq!(response.status(), 307);
        }
        other => panic!("{other:?}"),
    }
    // The first request and two redirects followed; the third was not.
    let paths: Vec<String> = seen.try_iter().map(|(path, _)| path).collect();
    assert_eq!(paths, ["/", "/again", "/again"]);
}

#[test]
fn an_unusable_location_is_a_typed_error() {
    let (addr, _) = server(|_| redirect(301, "ftp://files.example/"));
    let options = ConnectOptions::new(&format!("ws://{addr}/")).unwrap();
    match options.follow_redirects(5).connect() {
        Err(Error::InvalidRedirect { location }) => assert_eq!(location, "ftp://files.example/"),
        other => panic!("{other:?}"),
    }
}

/// The credentials headers of a request, and one ordinary header.
fn credentials(headers: &HeaderMap) -> [Option<&HeaderValue>; 3] {
    [
        headers.get(AUTHORIZATION),
        headers.get(COOKIE),
        headers.get("x-trace"),
    ]
}

#[test]
fn credentials_are_not_forwarded_to_another_origin() {
    // Another port is another origin.
    let (target, target_seen) = server(|_| Decision::Accept);
    let location = format!("ws://{target}/");
    let (first, first_seen) = server(move |_| redirect(302, &location));
    let cookie = HeaderValue::from_static("session=1");
    let trace = HeaderValue::from_static("7");
    let bearer = HeaderValue::from_static("Bearer token");
    // `user:pass` in the URL, then an explicit header.
    let basic = HeaderValue::from_static("Basic dXNlcjpwYXNz");
    for (url, authorization) in [
        (format!("ws://user:pass@{first}/"), None),
        (format!("ws://{first}/"), Some(&bearer)),
    ] {
        let mut options = ConnectOptions::new(&url)
            .unwrap()
            .header(COOKIE, cookie.clone())
            .header("x-trace".parse().unwrap(), trace.clone())
            .follow_redirects(1);
        if let Some(authorization) = authorization {
            options = options.header(AUTHORIZATION, authorization.clone());
        }
        options.connect().unwrap();
        let (_, headers) = next(&first_seen);
        let sent = authorization.unwrap_or(&basic);
        assert_eq!(
            credentials(&headers),
            [Some(sent), Some(&cookie), Some(&trace)]
        );
        let (_, headers) = next(&target_seen);
        assert_eq!(credentials(&headers), [None, None, Some(&trace)]);
    }
}

#[test]
fn credentials_are_kept_on_the_same_origin() {
    let (addr, seen) = server(|path| match path {
        "/final" => Decision::Accept,
        _ => redirect(302, "/final"),
    });
    let options = ConnectOptions::new(&format!("ws://user:pass@{addr}/start"))
        .unwrap()
        .header(COOKIE, HeaderValue::from_static("session=1"))
        .follow_redirects(1);
    options.connect().unwrap();
    for expected_path in ["/start", "/final"] {
        let (path, headers) = next(&seen);
        assert_eq!(path, expected_path);
        assert_eq!(headers[AUTHORIZATION], "Basic dXNlcjpwYXNz");
        assert_eq!(headers[COOKIE], "session=1");
    }
}

#[test]
fn each_hop_goes_through_the_proxy() {
    let (target, _) = server(|_| Decision::Accept);
    let location = format!("ws://{target}/");
    let (first, _) = server(move |_| redirect(308, &location));
    let (proxy, targets) = ws_test_proxies::http_connect("Basic dXNlcjpwYXNz");
    let mut ws = ConnectOptions::new(&format!("ws://{first}/"))
        .unwrap()
        .proxy(&format!("http://user:pass@{proxy}"))
        .unwrap()
        .follow_redirects(1)
        .connect()
        .unwrap();
    let asked = targets.so_far();
    assert_eq!(asked, [first.to_string(), target.to_string()]);
    ws.send(Message::text("two tunnels")).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::text("two tunnels")));
}

#[cfg(not(feature = "rustls"))]
#[test]
fn a_redirect_to_wss_needs_the_rustls_feature() {
    // Refused before any connection is tried (nothing listens on port 1).
    let (addr, _) = server(|_| redirect(301, "https://127.0.0.1:1/"));
    let options = ConnectOptions::new(&format!("ws://{addr}/")).unwrap();
    match options.follow_redirects(1).connect() {
        Err(Error::TlsNotEnabled) => {}
        other => panic!("{other:?}"),
    }
}
