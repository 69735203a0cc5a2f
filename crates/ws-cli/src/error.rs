//! What can go wrong, each case with a message for the user.

use std::io;
use std::path::PathBuf;

use http::StatusCode;
use ws_tokio::CloseCode;

/// A failure of a command; `main` prints it and exits with status 1.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("cannot build the runtime: {0}")]
    Runtime(#[source] io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {what}", path.display())]
    Pem { path: PathBuf, what: String },
    #[error("TLS configuration: {0}")]
    TlsConfig(#[from] tokio_rustls::rustls::Error),
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("TLS handshake with {host} failed: {source}")]
    Tls {
        host: String,
        #[source]
        source: io::Error,
    },
    /// The value is not shown: a proxy URL may hold a password.
    #[error(
        "the proxy that https_proxy, http_proxy or all_proxy names cannot be used ({0}); \
         unset it, or list the host in no_proxy"
    )]
    EnvProxy(String),
    #[error("through the proxy at {proxy}: {source}")]
    Proxy {
        proxy: String,
        #[source]
        source: ws_tokio::Error,
    },
    #[error("{host} did not agree to HTTP/2 (ALPN chose {chosen}); try without --http2")]
    NoHttp2 { host: String, chosen: String },
    #[error("HTTP/2 with {host}: {source}")]
    Http2 {
        host: String,
        #[source]
        source: hyper::Error,
    },
    /// The proxy is not shown: its URL may hold a password.
    #[error(
        "--http2 connects directly, but the environment names a proxy for this URL; \
         unset it, or list the host in no_proxy"
    )]
    Http2Proxy,
    #[error("the server rejected the WebSocket handshake: HTTP {status}{body}")]
    Rejected { status: StatusCode, body: String },
    #[error("WebSocket: {0}")]
    Ws(#[from] ws_tokio::Error),
    #[error("the server closed the connection with code {code}{reason}")]
    Closed { code: CloseCode, reason: String },
    #[error("the connection was lost without a close frame (1006)")]
    Lost,
    #[error("stdin: {0}")]
    Stdin(#[source] io::Error),
    #[error("stdout: {0}")]
    Stdout(#[source] io::Error),
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{failed} of {total} connections failed; the first: {first}")]
    Bench {
        failed: u64,
        total: u64,
        first: String,
    },
}

impl CliError {
    /// A handshake failure, with the status and the start of the body when the server
    /// answered something other than 101.
    pub(crate) fn from_handshake(error: ws_tokio::Error) -> CliError {
        match error {
            ws_tokio::Error::Rejected(response) => {
                let status = response.status();
                let body = String::from_utf8_lossy(response.body());
                let body: String = body.trim().chars().take(200).collect();
                CliError::Rejected {
                    status,
                    body: if body.is_empty() {
                        String::new()
                    } else {
                        format!(" ({body})")
                    },
                }
            }
            other => CliError::Ws(other),
        }
    }

    /// The peer's close frame, as an error when it was not a normal closure.
    pub(crate) fn check_close(code: CloseCode, reason: &str) -> Result<(), CliError> {
        // 1005: a close frame without a code, which a peer sends when all went well.
        if code == CloseCode::NORMAL || code == CloseCode::NO_STATUS {
            return Ok(());
        }
        Err(CliError::Closed {
            code,
            reason: if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes() {
        assert!(CliError::check_close(CloseCode::NORMAL, "").is_ok());
        assert!(CliError::check_close(CloseCode::NO_STATUS, "").is_ok());
        let error = CliError::check_close(CloseCode::TRY_AGAIN_LATER, "too slow").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the server closed the connection with code 1013 (try again later): too slow"
        );
        let error = CliError::check_close(CloseCode::from(4000), "").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the server closed the connection with code 4000"
        );
    }

    #[test]
    fn rejected_handshake_shows_status_and_body() {
        let response = http::Response::builder()
            .status(403)
            .body(b"not you\n".to_vec())
            .unwrap();
        let error = CliError::from_handshake(ws_tokio::Error::Rejected(Box::new(response)));
        assert_eq!(
            error.to_string(),
            "the server rejected the WebSocket handshake: HTTP 403 Forbidden (not you)"
        );
    }
}
