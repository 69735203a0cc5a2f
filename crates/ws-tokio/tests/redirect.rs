//! Following redirects: bounded, and credentials only for the origin the user named.

mod support;

use std::net::SocketAddr;

use http::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderValue, LOCATION};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use ws_tokio::{Answer, ConnectOptions, Error, Message};

use support::LIMIT;

/// What a test server saw of one upgrade request: its path and headers.
type Seen = mpsc::UnboundedReceiver<(String, HeaderMap)>;

/// A server on 127.0.0.1 that answers each upgrade request with `answer(path)`, reports
/// the request on the returned channel, and echoes on the connections it accepts.
async fn server<F>(answer: F) -> (SocketAddr, Seen)
where
    F: Fn(&str) -> Answer + Clone + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (answer, seen) = (answer.clone(), seen.clone());
            tokio::spawn(async move {
                let accepted = ws_tokio::accept_with(tcp, |request| {
                    let path = request.request().uri().path().to_owned();
                    let headers = request.request().headers().clone();
                    let answer = answer(&path);
                    // Tests that do not look at the requests dropped the receiver.
                    let _ = seen.send((path, headers));
                    answer
                });
                if let Ok(ws) = accepted.await {
                    support::echo_open(ws).await;
                }
            });
        }
    });
    (addr, requests)
}

fn redirect(status: u16, location: &str) -> Answer {
    Answer::reject(
        http::Response::builder()
            .status(status)
            .header(LOCATION, location)
            .body(Vec::new())
            .unwrap(),
    )
}

async fn connect(
    options: ConnectOptions,
) -> Result<ws_tokio::WebSocket<ws_tokio::ClientStream>, Error> {
    let result = tokio::time::timeout(LIMIT, options.connect()).await;
    result.expect("no answer in time").map(|(ws, _)| ws)
}

#[tokio::test]
async fn a_redirect_answered() {
    let (target, mut target_seen) = server(|_| Answer::accept()).await;
    let location = format!("http://{target}/final");
    let (first, _) = server(move |_| redirect(302, &location)).await;
    let url = format!("ws://{first}/start");

    // By default the redirect comes back as a rejection.
    match connect(ConnectOptions::new(&url).unwrap()).await {
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
    let mut ws = connect(options).await.unwrap();
    assert_eq!(target_seen.recv().await.unwrap().0, "/final");
    ws.send(Message::text("arrived")).await.unwrap();
    let reply = tokio::time::timeout(LIMIT, ws.recv()).await.unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text("arrived"));
}

#[tokio::test]
async fn every_redirect_status_is_followed() {
    for status in [301, 302, 303, 307, 308] {
        let (addr, _) = server(move |path| match path {
            "/a/b" => redirect(status, "../c"),
            _ => Answer::accept(),
        })
        .await;
        let options = ConnectOptions::new(&format!("ws://{addr}/a/b")).unwrap();
        connect(options.follow_redirects(1)).await.unwrap();
    }
}

#[tokio::test]
async fn the_hop_limit_is_kept() {
    let (addr, mut seen) = server(|_| redirect(307, "/again")).await;
    let options = ConnectOptions::new(&format!("ws://{addr}/")).unwrap();
    match connect(options.follow_redirects(2)).await {
        Err(Error::TooManyRedirects { max, response }) => {
            assert_eq!(max, 2);
            assert_eq!(response.status(), 307);
        }
        other => panic!("{other:?}"),
    }
    // The first request and two redirects followed; the third was not.
    let paths: Vec<String> = std::iter::from_fn(|| seen.try_recv().ok().map(|(p, _)| p)).collect();
    assert_eq!(paths, ["/", "/again", "/again"]);
}

#[tokio::test]
async fn an_unusable_location_is_a_typed_error() {
    let (addr, _) = server(|_| redirect(301, "ftp://files.example/")).await;
    let options = ConnectOptions::new(&format!("ws://{addr}/")).unwrap();
    match connect(options.follow_redirects(5)).await {
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

#[tokio::test]
async fn credentials_are_not_forwarded_to_another_origin() {
    // Another port is another origin.
    let (target, mut target_seen) = server(|_| Answer::accept()).await;
    let location = format!("ws://{target}/");
    let (first, mut first_seen) = server(move |_| redirect(302, &location)).await;
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
        connect(options).await.unwrap();
        let (_, headers) = first_seen.recv().await.unwrap();
        let sent = authorization.unwrap_or(&basic);
        assert_eq!(
            credentials(&headers),
            [Some(sent), Some(&cookie), Some(&trace)]
        );
        let (_, headers) = target_seen.recv().await.unwrap();
        assert_eq!(credentials(&headers), [None, None, Some(&trace)]);
    }
}

#[tokio::test]
async fn credentials_are_kept_on_the_same_origin() {
    let (addr, mut seen) = server(|path| match path {
        "/final" => Answer::accept(),
        _ => redirect(302, "/final"),
    })
    .await;
    let options = ConnectOptions::new(&format!("ws://user:pass@{addr}/start"))
        .unwrap()
        .header(COOKIE, HeaderValue::from_static("session=1"))
        .follow_redirects(1);
    connect(options).await.unwrap();
    for expected_path in ["/start", "/final"] {
        let (path, headers) = seen.recv().await.unwrap();
        assert_eq!(path, expected_path);
        assert_eq!(headers[AUTHORIZATION], "Basic dXNlcjpwYXNz");
        assert_eq!(headers[COOKIE], "session=1");
    }
}
