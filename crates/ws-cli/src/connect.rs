//! `ws connect`: each line of stdin goes out as a text message; text that arrives is
//! printed, binary as hex (or appended to a file). At the end of stdin the client waits
//! for the replies to stop (`--linger`), closes with 1000 and waits for the server's close.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use ws_tokio::{CloseCode, CloseFrame, ConnectOptions, Message, WebSocket};

use crate::cli::{ConnectArgs, ProxyUrl, WsUrl, parse_proxy_url};
use crate::error::CliError;
use crate::net::Transport;

pub(crate) fn run(args: ConnectArgs) -> Result<(), CliError> {
    let runtime = crate::runtime(Some(1))?;
    let result = runtime.block_on(connect(args));
    // Tokio reads stdin on a blocking thread that may sit in `read` for a line that never
    // comes; do not wait for it.
    runtime.shutdown_background();
    result
}

async fn connect(args: ConnectArgs) -> Result<(), CliError> {
    let output = Output::new(args.binary_to)?;
    let config = crate::endpoint_config(&args.limits, !args.no_compression);
    let mut options = ConnectOptions::new(&args.url.to_string())?.config(config);
    for protocol in args.protocols {
        options = options.protocol(protocol);
    }
    for (name, value) in args.headers {
        options = options.header(name, value);
    }
    let transport = Transport::new(args.insecure.insecure);
    let proxy = match args.proxy {
        Some(proxy) => Some(proxy),
        None => env_proxy(&args.url.uri)?,
    };
    let linger = Duration::from_secs_f64(args.linger);
    if args.http2 {
        if proxy.is_some() {
            return Err(CliError::Http2Proxy);
        }
        let connection = transport.open_http2(&args.url, None).await?;
        let (ws, response) = crate::net::http2_websocket(connection, &args.url, options).await?;
        return session(ws, &response, &args.url, output, linger).await;
    }
    let (ws, response) = match &proxy {
        // ws-tokio opens the tunnel, then TLS and the handshake inside it.
        Some(proxy) => options
            .proxy(&proxy.url)?
            .tls_config(transport.tls)
            .connect()
            .await
            .map_err(|error| match error {
                ws_tokio::Error::Rejected(_) => CliError::from_handshake(error),
                source => CliError::Proxy {
                    proxy: proxy.addr.clone(),
                    source,
                },
            })?,
        None => {
            let stream = transport.open(&args.url, None).await?;
            options
                .connect_on(stream)
                .await
                .map_err(CliError::from_handshake)?
        }
    };
    session(ws, &response, &args.url, output, linger).await
}

/// The interactive part: lines of stdin out, messages in, until the close.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocket<S>,
    response: &http::Response<()>,
    url: &WsUrl,
    mut output: Output,
    linger: Duration,
) -> Result<(), CliError> {
    let extensions = response
        .headers()
        .get_all(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "connected to {} (protocol: {}, extensions: {})",
        url,
        ws.protocol().unwrap_or("none"),
        if extensions.is_empty() {
            "none"
        } else {
            &extensions
        },
    );

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut reading = true;
    // Armed at the end of input, pushed back by every message: when it fires, close.
    let quiet = tokio::time::sleep(linger);
    tokio::pin!(quiet);
    let mut lingering = false;
    loop {
        tokio::select! {
            line = lines.next_line(), if reading => match line.map_err(CliError::Stdin)? {
                // Fed, not sent: `recv` below writes what is queued before it waits, so a
                // burst of lines from a pipe leaves in one write.
                Some(line) => ws.feed(Message::text(line)).await?,
                None => {
                    reading = false;
                    lingering = true;
                    quiet.as_mut().reset(tokio::time::Instant::now() + linger);
                }
            },
            () = &mut quiet, if lingering => {
                lingering = false;
                // Not `close`, which drops what arrives meanwhile: `recv` goes on until
                // the server's close frame.
                ws.feed(Message::Close(CloseFrame {
                    code: CloseCode::NORMAL,
                    reason: String::new(),
                }))
                .await?;
                ws.flush().await?;
            },
            // Cancel-safe: a message that arrives while another branch wins is kept.
            item = ws.recv() => {
                if lingering {
                    quiet.as_mut().reset(tokio::time::Instant::now() + linger);
                }
                match item {
                    Some(Ok(Message::Text(text))) => output.text(text.as_str())?,
                    Some(Ok(Message::Binary(data))) => output.binary(&data)?,
                    Some(Ok(Message::Close(frame))) => {
                        return CliError::check_close(frame.code, &frame.reason);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Err(error.into()),
                    None => return Err(CliError::Lost),
                }
            }
        }
    }
}

/// The proxy the environment names for `url`, read as curl reads it (the rules:
/// `ws_handshake::proxy_env::proxy_for`).
fn env_proxy(url: &http::Uri) -> Result<Option<ProxyUrl>, CliError> {
    ws_handshake::proxy_env::proxy_for(url, |name| std::env::var(name).ok())
        .map(|proxy| parse_proxy_url(&proxy).map_err(CliError::EnvProxy))
        .transpose()
}

/// Where received messages go.
struct Output {
    stdout: std::io::Stdout,
    binary_to: Option<(PathBuf, File)>,
}

impl Output {
    fn new(binary_to: Option<PathBuf>) -> Result<Output, CliError> {
        let binary_to = match binary_to {
            Some(path) => {
                let file = File::options()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|source| CliError::WriteFile {
                        path: path.clone(),
                        source,
                    })?;
                Some((path, file))
            }
            None => None,
        };
        Ok(Output {
            stdout: std::io::stdout(),
            binary_to,
        })
    }

    fn text(&mut self, text: &str) -> Result<(), CliError> {
        self.line(text.as_bytes())
    }

    fn binary(&mut self, data: &[u8]) -> Result<(), CliError> {
        match &mut self.binary_to {
            Some((path, file)) => file.write_all(data).map_err(|source| CliError::WriteFile {
                path: path.clone(),
                source,
            }),
            None => self.line(hex(data).as_bytes()),
        }
    }

    /// One line on stdout, flushed at once: whoever reads the pipe sees each message as it
    /// arrives.
    fn line(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        let mut out = self.stdout.lock();
        out.write_all(bytes)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map_err(CliError::Stdout)
    }
}

/// Lower-case hex, two digits a byte.
fn hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    data.iter()
        .flat_map(|byte| {
            [
                DIGITS[usize::from(byte >> 4)],
                DIGITS[usize::from(byte & 15)],
            ]
        })
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
