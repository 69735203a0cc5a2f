//! The command line: subcommands, flags, and the parsers that check values before any
//! connection is made (a bad URL or header is a usage error, exit status 2).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use http::Uri;
use http::header::{HeaderName, HeaderValue};

/// WebSocket server, client and load generator.
#[derive(Debug, Parser)]
#[command(name = "ws", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run an echo server (or a chat room with --broadcast).
    Serve(ServeArgs),
    /// Connect, send each line of stdin as a text message, print what arrives.
    Connect(ConnectArgs),
    /// Load generator: echo round trips over N connections; throughput and latency.
    Bench(BenchArgs),
}

/// Options every connection shares: compression and limits.
#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Largest message accepted (bytes; K, M, G suffixes are powers of 1024).
    #[arg(long, value_name = "BYTES", value_parser = parse_size, default_value = "16M")]
    pub(crate) max_message_size: u64,
    /// Largest frame payload accepted (bytes; K, M, G suffixes).
    #[arg(long, value_name = "BYTES", value_parser = parse_size, default_value = "16M")]
    pub(crate) max_frame_size: u64,
    /// How long the opening handshake may take, TLS included (seconds).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub(crate) handshake_timeout: f64,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(default_value = "127.0.0.1:9001")]
    pub(crate) addr: SocketAddr,
    /// Chat room: every data message goes to every other client instead of back.
    #[arg(long)]
    pub(crate) broadcast: bool,
    /// (--broadcast) Messages the room buffers for its slowest client; a client that
    /// falls further behind is closed with 1013.
    #[arg(long, value_name = "MESSAGES", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1 << 20))]
    pub(crate) room_queue: u32,
    /// Subprotocol supported (repeatable, most preferred first): the first of these the
    /// client offers is chosen.
    #[arg(long = "protocol", value_name = "NAME")]
    pub(crate) protocols: Vec<String>,
    /// Refuse permessage-deflate (accepted when offered by default).
    #[arg(long)]
    pub(crate) no_compression: bool,
    /// Certificate chain (PEM) for wss://.
    #[arg(long, value_name = "PEM", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// Private key (PEM) for wss://.
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
    /// Runtime worker threads (default: one per CPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
    /// Do not log connections.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

/// `--insecure`, for the commands that connect.
#[derive(Debug, Args)]
pub(crate) struct Insecure {
    /// Accept any TLS certificate (self-signed, expired, another host's). DANGEROUS:
    /// anyone on the path can read and change the traffic. For testing only.
    #[arg(long)]
    pub(crate) insecure: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// The server's URL: ws://HOST:PORT/PATH or wss://... (port and path optional).
    #[arg(value_parser = parse_ws_url)]
    pub(crate) url: WsUrl,
    /// Extra request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Subprotocol to offer (repeatable, most preferred first).
    #[arg(long = "protocol", value_name = "NAME")]
    pub(crate) protocols: Vec<String>,
    /// Do not offer permessage-deflate.
    #[arg(long)]
    pub(crate) no_compression: bool,
    /// At the end of input, wait until no message has arrived for this long before
    /// closing: a server may answer a close frame at once and drop the replies to the
    /// messages just before it, so closing right after the last line could lose them.
    #[arg(long, value_name = "SECS", default_value = "0.5", value_parser = parse_linger)]
    pub(crate) linger: f64,
    /// Append received binary messages to FILE instead of printing them as hex.
    #[arg(long, value_name = "FILE")]
    pub(crate) binary_to: Option<PathBuf>,
    /// Tunnel through this proxy: http://HOST:PORT (HTTP CONNECT; https:// for TLS to the
    /// proxy, checked like the server's certificate), socks5://HOST:PORT
    /// (SOCKS5, the host name resolved by the proxy; socks5h:// alike) or
    /// socks4a://HOST:PORT (SOCKS4a; socks4:// alike), with USER:PASSWORD@ before the host
    /// for credentials (SOCKS4: USER@, its user id). Without it, the proxy the
    /// environment names, as curl reads it: https_proxy for wss://, http_proxy for ws://
    /// (lowercase first, then uppercase), else all_proxy; none for hosts listed in
    /// no_proxy ('*' for all) and for loopback hosts.
    #[arg(long, value_name = "URL", value_parser = parse_proxy_url)]
    pub(crate) proxy: Option<ProxyUrl>,
    /// Open the WebSocket on a stream of an HTTP/2 connection (RFC 8441 extended CONNECT):
    /// TLS with ALPN h2 for wss://, HTTP/2 without TLS (prior knowledge) for ws://. The
    /// server must offer it; no proxy is used.
    #[arg(long, conflicts_with = "proxy")]
    pub(crate) http2: bool,
    #[command(flatten)]
    pub(crate) insecure: Insecure,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The echo server's URL: ws://HOST:PORT/PATH or wss://... (port and path optional).
    #[arg(value_parser = parse_ws_url)]
    pub(crate) url: WsUrl,
    /// Connections, each running its own echo loop.
    #[arg(short, long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) connections: u32,
    /// Message size (bytes; K, M, G suffixes).
    #[arg(short, long, value_name = "BYTES", value_parser = parse_size, default_value = "16")]
    pub(crate) size: u64,
    /// Run for this many seconds (default 10 when --count is not given).
    #[arg(short, long, value_name = "SECS", conflicts_with = "count", value_parser = parse_seconds)]
    pub(crate) duration: Option<f64>,
    /// Messages per connection, then stop.
    #[arg(short = 'n', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) count: Option<u64>,
    /// Messages in flight per connection (pipelining): D are sent at once, then one more
    /// for every echo.
    #[arg(long, value_name = "D", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub(crate) depth: u32,
    /// Binary messages of random bytes (the default).
    #[arg(long, conflicts_with = "text")]
    pub(crate) binary: bool,
    /// Text messages of JSON-like ASCII (compressible).
    #[arg(long)]
    pub(crate) text: bool,
    /// Offer permessage-deflate (off by default in bench).
    #[arg(long)]
    pub(crate) compression: bool,
    /// Runtime threads. Default 1: the benchmarks run client and server on one 2-core
    /// machine, so the generator keeps to one core.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: u16,
    /// Idle mode: open the connections, hold them without traffic for --duration
    /// seconds, report how many are open, close them.
    #[arg(long, conflicts_with_all = ["count", "depth", "binary", "text"])]
    pub(crate) idle: bool,
    /// Bind each connection to one of these local addresses, round-robin (e.g.
    /// 127.0.0.1,127.0.0.2 for more than one port range's worth of connections).
    #[arg(long, value_name = "IP,IP,...", value_delimiter = ',')]
    pub(crate) source_ips: Vec<IpAddr>,
    /// One line of JSON on stdout instead of the report.
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Open each WebSocket on a stream of an HTTP/2 connection (RFC 8441 extended
    /// CONNECT): TLS with ALPN h2 for wss://, HTTP/2 without TLS for ws://.
    #[arg(long)]
    pub(crate) http2: bool,
    /// With --http2: WebSockets per HTTP/2 connection (the connections opened are
    /// --connections divided by this, rounded up).
    #[arg(long, value_name = "N", default_value_t = 100, requires = "http2",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) streams: u32,
    #[command(flatten)]
    pub(crate) insecure: Insecure,
}

/// A checked `ws://` or `wss://` URL.
#[derive(Clone, Debug)]
pub(crate) struct WsUrl {
    pub(crate) uri: Uri,
    pub(crate) secure: bool,
    /// The host without IPv6 brackets, as the resolver and TLS want it.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl std::fmt::Display for WsUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.uri.fmt(f)
    }
}

pub(crate) fn parse_ws_url(text: &str) -> Result<WsUrl, String> {
    let uri: Uri = text.parse().map_err(|e| format!("not a URL: {e}"))?;
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        Some(other) => {
            return Err(format!(
                "the scheme must be ws:// or wss://, not {other}://"
            ));
        }
        None => return Err("expected ws://host[:port][/path] or wss://...".into()),
    };
    let host = uri
        .host()
        .filter(|host| !host.is_empty())
        .ok_or("the URL has no host")?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    Ok(WsUrl {
        uri,
        secure,
        host,
        port,
    })
}

/// An `http[s]://`, `socks5[h]://` or `socks4[a]://` proxy URL, checked here so that a bad
/// one is a usage error.
#[derive(Clone, Debug)]
pub(crate) struct ProxyUrl {
    /// As given, for `ConnectOptions::proxy`.
    pub(crate) url: String,
    /// `host:port`, for messages: the URL may hold a password.
    pub(crate) addr: String,
}

pub(crate) fn parse_proxy_url(text: &str) -> Result<ProxyUrl, String> {
    let uri: Uri = text.parse().map_err(|e| format!("not a URL: {e}"))?;
    let Some(kind) = ws_handshake::ProxyKind::of(&uri) else {
        return Err(
            "only http://, https://, socks5://, socks5h://, socks4:// and socks4a:// proxies are supported"
                .into(),
        );
    };
    let host = uri.host().filter(|host| !host.is_empty());
    let host = host.ok_or("the proxy URL has no host")?;
    Ok(ProxyUrl {
        url: text.to_owned(),
        addr: format!("{host}:{}", uri.port_u16().unwrap_or(kind.default_port())),
    })
}

fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text.split_once(':').ok_or("expected 'Name: value'")?;
    let name =
        HeaderName::try_from(name.trim()).map_err(|_| format!("bad header name {name:?}"))?;
    let value =
        HeaderValue::try_from(value.trim()).map_err(|_| format!("bad header value {value:?}"))?;
    Ok((name, value))
}

/// A byte count: digits with an optional K, M or G suffix (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => return Err(format!("unknown unit {unit:?} (use K, M or G)")),
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("expected a number of bytes, got {text:?}"))?;
    count
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text} is too large"))
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        // A day at most: beyond that `Instant` arithmetic is the only thing being tested.
        Ok(secs) if secs > 0.0 && secs <= 86_400.0 => Ok(secs),
        _ => Err(format!(
            "expected seconds between 0 and 86400, got {text:?}"
        )),
    }
}

fn parse_linger(text: &str) -> Result<f64, String> {
    if text.parse::<f64>() == Ok(0.0) {
        return Ok(0.0);
    }
    parse_seconds(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16"), Ok(16));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("K").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        assert!(parse_size("17179869184G").is_err());
    }

    #[test]
    fn urls() {
        let url = parse_ws_url("wss://[::1]/chat").unwrap();
        assert!(url.secure);
        assert_eq!((url.host.as_str(), url.port), ("::1", 443));
        let url = parse_ws_url("ws://127.0.0.1:9001").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.secure),
            ("127.0.0.1", 9001, false)
        );
        assert!(parse_ws_url("http://x/").unwrap_err().contains("ws://"));
        assert!(parse_ws_url("localhost:9001").is_err());
        assert!(parse_ws_url("/path").is_err());
        assert!(parse_ws_url("ws:// bad").is_err());
    }

    #[test]
    fn proxies() {
        let proxy = parse_proxy_url("http://user:pw@proxy:3128").unwrap();
        assert_eq!(proxy.addr, "proxy:3128");
        assert_eq!(parse_proxy_url("http://proxy").unwrap().addr, "proxy:80");
        assert!(parse_proxy_url("http:///x").is_err());
        assert_eq!(parse_proxy_url("https://proxy").unwrap().addr, "proxy:443");
        assert!(parse_proxy_url("ftp://proxy:21").is_err());
        assert_eq!(
            parse_proxy_url("socks4a://proxy").unwrap().addr,
            "proxy:1080"
        );
        assert_eq!(
            parse_proxy_url("socks5://proxy").unwrap().addr,
            "proxy:1080"
        );
        assert_eq!(
            parse_proxy_url("socks5h://u:p@proxy:9").unwrap().addr,
            "proxy:9"
        );
    }

    #[test]
    fn headers() {
        let (name, value) = parse_header("Authorization: Bearer x:y").unwrap();
        assert_eq!(name, http::header::AUTHORIZATION);
        assert_eq!(value, "Bearer x:y");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        assert!(parse_header("X: a\nb").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("0.5"), Ok(0.5));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("nan").is_err());
        assert!(parse_seconds("inf").is_err());
        assert_eq!(parse_linger("0"), Ok(0.0));
        assert_eq!(parse_linger("1.5"), Ok(1.5));
        assert!(parse_linger("-1").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
