//! Usage errors: exit status 2 and a message that says what is wrong.

use crate::support::run;

fn usage_error(args: &[&str], expected: &str) {
    let finished = run(args, "");
    assert_eq!(finished.code(), Some(2), "{args:?}: {finished:?}");
    assert!(
        finished.stderr.contains(expected),
        "{args:?}: {expected:?} not in {}",
        finished.stderr
    );
    assert!(finished.stdout.is_empty(), "{finished:?}");
}

#[test]
fn no_command() {
    usage_error(&[], "Usage: ws <COMMAND>");
    usage_error(&["listen"], "unrecognized subcommand 'listen'");
}

#[test]
fn missing_url() {
    usage_error(
        &["connect"],
        "the following required arguments were not provided",
    );
    usage_error(&["bench", "--count", "5"], "<URL>");
}

#[test]
fn bad_urls() {
    usage_error(
        &["connect", "http://127.0.0.1:1/"],
        "must be ws:// or wss://, not http://",
    );
    usage_error(
        &["bench", "127.0.0.1:9001"],
        "expected ws://host[:port][/path]",
    );
    usage_error(&["connect", "ws://bad host/"], "not a URL");
    usage_error(
        &[
            "connect",
            "ws://127.0.0.1:1/",
            "--proxy",
            "ftp://127.0.0.1:21",
        ],
        "only http://, https://, socks5://, socks5h://, socks4:// and socks4a:// proxies",
    );
}

#[test]
fn bad_flags_and_values() {
    const URL: &str = "ws://127.0.0.1:1/";
    let cases: [(&[&str], &str); 12] = [
        (&["bench", URL, "--bogus"], "unexpected argument '--bogus'"),
        (
            &["connect", URL, "-H", "no colon"],
            "expected 'Name: value'",
        ),
        (&["bench", URL, "--size", "12Q"], "unknown unit"),
        (&["bench", URL, "--connections", "0"], "--connections"),
        (&["bench", URL, "--duration", "0"], "expected seconds"),
        (
            &["bench", URL, "--count", "5", "--duration", "1"],
            "cannot be used with",
        ),
        (
            &["bench", URL, "--idle", "--depth", "4"],
            "cannot be used with",
        ),
        (&["bench", URL, "--source-ips", "localhost"], "--source-ips"),
        (&["bench", URL, "--streams", "4"], "--http2"),
        (&["bench", URL, "--http2", "--streams", "0"], "--streams"),
        (
            &["serve", "not-an-address"],
            "invalid value 'not-an-address'",
        ),
        (&["serve", "--cert", "cert.pem"], "--key <PEM>"),
    ];
    for (args, expected) in cases {
        usage_error(args, expected);
    }
}

#[test]
fn help_succeeds() {
    let finished = run(&["bench", "--help"], "");
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    for flag in [
        "--connections",
        "--depth",
        "--json",
        "--idle",
        "--source-ips",
    ] {
        assert!(
            finished.stdout.contains(flag),
            "{flag} not in {}",
            finished.stdout
        );
    }
}
