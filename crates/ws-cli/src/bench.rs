//! `ws bench`: a load generator for echo servers.
//!
//! Every connection keeps `depth` messages in flight: it feeds `depth` messages and
//! flushes them in one write, then sends one more for each echo. Echoes come back in
//! order, so the send instants wait in a FIFO and each echo's latency is the time since
//! the oldest. The hot loop allocates nothing: messages are clones of a few prepared
//! payloads (a reference count each), and `recv` writes everything fed since the last
//! batch of echoes with one write before it waits.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OnceCell;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use ws_tokio::{ClientStream, CloseCode, Config, ConnectOptions, Message, WebSocket};

use crate::cli::{BenchArgs, WsUrl};
use crate::error::CliError;
use crate::net::{Http2Connection, Http2Stream, Transport};

/// What a benchmark's connections run over: a TCP (or TLS) connection of their own, or
/// a stream of an HTTP/2 connection.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for S {}

/// Handshakes in progress at once: enough to open thousands of connections quickly,
/// few enough not to overflow the server's listen backlog.
const MAX_CONNECTING: usize = 256;

/// The longest a connection may take to open (TCP, TLS, handshake).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest the final close of a connection may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Distinct payloads sent in turn, so that compression sees varied text rather than the
/// same message again (with 1 KiB messages, 64 span more than deflate's 32 KiB window).
const PAYLOADS: usize = 64;
/// ... but no more than this many bytes of them in all.
const PAYLOAD_BYTES: usize = 16 << 20;

/// A connection reports its echoes to the progress counter in batches of this many, so
/// the counter's cache line is not written once per message.
const PROGRESS_BATCH: u64 = 1024;

const PROGRESS_TICK: Duration = Duration::from_millis(100);

/// Duration when neither --duration nor --count is given.
const DEFAULT_SECONDS: f64 = 10.0;

pub(crate) fn run(args: BenchArgs) -> Result<(), CliError> {
    let runtime = crate::runtime(Some(args.threads))?;
    runtime.block_on(async {
        let opener = Arc::new(Opener::new(&args));
        let bar = progress_bar(args.quiet, args.connections.into(), OPENING_TEMPLATE);
        if args.http2 {
            let opened = opener.open_all(args.connections, &bar, Opener::open_stream);
            let (sockets, failures) = opened.await;
            bar.finish_and_clear();
            measure(args, sockets, failures).await
        } else {
            let (sockets, failures) = opener.open_all(args.connections, &bar, Opener::open).await;
            bar.finish_and_clear();
            measure(args, sockets, failures).await
        }
    })
}

/// The run proper, on the connections that opened.
async fn measure<S: Stream>(
    args: BenchArgs,
    sockets: Vec<WebSocket<S>>,
    failures: Failures,
) -> Result<(), CliError> {
    if args.idle {
        idle(args, sockets, failures).await
    } else {
        bench(args, sockets, failures).await
    }
}

/// The one-line JSON result (`--json`); its keys are read by scripts.
#[derive(Debug, Serialize)]
struct Report {
    connections: u32,
    size: u64,
    depth: u32,
    /// Echoes received, all connections together.
    messages: u64,
    /// From the first send to the last echo.
    seconds: f64,
    msgs_per_sec: f64,
    /// Echoed payload bytes per second, in units of 10^6 bytes.
    mb_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    /// Connections that failed to open or failed while running.
    errors: u64,
}

/// `--idle`'s JSON result.
#[derive(Debug, Serialize)]
struct IdleReport {
    connections: u32,
    open: u64,
}

/// What every connection of a run shares.
struct Opener {
    url: WsUrl,
    transport: Transport,
    config: Config,
    source_ips: Vec<IpAddr>,
    /// With `--http2`: the HTTP/2 connections, each opened by the first WebSocket on it.
    http2: Vec<OnceCell<Http2Connection>>,
    streams_per_connection: usize,
}

impl Opener {
    fn new(args: &BenchArgs) -> Opener {
        let mut config = Config::default();
        if !args.compression {
            config.extensions = ws_extensions::Extensions::new();
        }
        Opener {
            url: args.url.clone(),
            transport: Transport::new(args.insecure.insecure),
            config,
            source_ips: args.source_ips.clone(),
            http2: if args.http2 {
                let connections = args.connections.div_ceil(args.streams);
                (0..connections).map(|_| OnceCell::new()).collect()
            } else {
                Vec::new()
            },
            streams_per_connection: args.streams as usize,
        }
    }

    /// The local address for connection number `index`: the source addresses in turn.
    fn bind(&self, index: usize) -> Option<IpAddr> {
        (!self.source_ips.is_empty()).then(|| self.source_ips[index % self.source_ips.len()])
    }

    fn options(&self) -> Result<ConnectOptions, CliError> {
        Ok(ConnectOptions::new(&self.url.to_string())?.config(self.config.clone()))
    }

    /// WebSocket number `index` on a connection of its own: transport and handshake.
    async fn open(self: Arc<Self>, index: usize) -> Result<WebSocket<ClientStream>, CliError> {
        let stream = self.transport.open(&self.url, self.bind(index)).await?;
        let (ws, _) = self
            .options()?
            .connect_on(stream)
            .await
            .map_err(CliError::from_handshake)?;
        Ok(ws)
    }

    /// WebSocket number `index` on a stream of HTTP/2 connection `index / streams`,
    /// which the first of them opens.
    async fn open_stream(
        self: Arc<Self>,
        index: usize,
    ) -> Result<WebSocket<Http2Stream>, CliError> {
        let number = index / self.streams_per_connection;
        let connection = self.http2[number]
            .get_or_try_init(|| self.transport.open_http2(&self.url, self.bind(number)))
            .await?
            .clone();
        let (ws, _) = crate::net::http2_websocket(connection, &self.url, self.options()?).await?;
        Ok(ws)
    }

    /// Opens `count` WebSockets with `open`, `MAX_CONNECTING` at a time; the sockets and
    /// the errors.
    async fn open_all<S, F, Fut>(
        self: &Arc<Self>,
        count: u32,
        bar: &ProgressBar,
        open: F,
    ) -> (Vec<WebSocket<S>>, Failures)
    where
        S: Stream,
        F: Fn(Arc<Opener>, usize) -> Fut,
        Fut: Future<Output = Result<WebSocket<S>, CliError>> + Send + 'static,
    {
        let permits = Arc::new(Semaphore::new(MAX_CONNECTING));
        let mut tasks = JoinSet::new();
        for index in 0..count as usize {
            let (opening, permits) = (open(self.clone(), index), permits.clone());
            tasks.spawn(async move {
                // The semaphore is never closed.
                let _permit = permits.acquire_owned().await;
                match tokio::time::timeout(OPEN_TIMEOUT, opening).await {
                    Ok(result) => result.map_err(|error| error.to_string()),
                    Err(_) => Err(format!("no connection within {OPEN_TIMEOUT:?}")),
                }
            });
        }
        let mut sockets = Vec::with_capacity(count as usize);
        let mut failures = Failures::default();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(ws)) => sockets.push(ws),
                Ok(Err(error)) => failures.add(error),
                Err(error) => failures.add(error.to_string()),
            }
            bar.inc(1);
        }
        (sockets, failures)
    }
}

/// Connections that failed: how many, and the first reason.
#[derive(Debug, Default)]
struct Failures {
    count: u64,
    first: Option<String>,
}

impl Failures {
    fn add(&mut self, error: String) {
        self.count += 1;
        self.first.get_or_insert(error);
    }

    /// An error for the exit status once the report is out, if any connection failed.
    fn into_result(self, total: u32) -> Result<(), CliError> {
        match self.first {
            None => Ok(()),
            Some(first) => Err(CliError::Bench {
                failed: self.count,
                total: total.into(),
                first,
            }),
        }
    }
}

/// A progress bar on stderr, or a hidden one when stderr is not a terminal or with
/// `--quiet`.
fn progress_bar(quiet: bool, len: u64, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

const OPENING_TEMPLATE: &str = "opening [{bar:30}] {pos}/{len} connections";

/// When a connection stops sending.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// After this many messages.
    Count(u64),
    /// At this instant.
    At(Instant),
}

impl Stop {
    fn more(self, sent: u64, now: Instant) -> bool {
        match self {
            Stop::Count(count) => sent < count,
            Stop::At(deadline) => now < deadline,
        }
    }
}

/// What one connection measured.
struct Tally {
    latency: Histogram<u64>,
    echoes: u64,
    /// When the last echo arrived.
    finished: Instant,
    error: Option<String>,
}

async fn bench<S: Stream>(
    args: BenchArgs,
    sockets: Vec<WebSocket<S>>,
    mut failures: Failures,
) -> Result<(), CliError> {
    if sockets.is_empty() {
        return failures.into_result(args.connections);
    }

    let size = usize::try_from(args.size).unwrap_or(usize::MAX);
    let payloads: Arc<[Message]> = payloads(size, args.text).into();
    let start = Instant::now();
    let stop = match (args.count, args.duration) {
        (Some(count), _) => Stop::Count(count),
        (None, seconds) => {
            Stop::At(start + Duration::from_secs_f64(seconds.unwrap_or(DEFAULT_SECONDS)))
        }
    };
    let progress = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for ws in sockets {
        let (payloads, progress) = (payloads.clone(), progress.clone());
        let depth = args.depth as usize;
        tasks.spawn(async move { run_connection(ws, &payloads, depth, stop, &progress).await });
    }

    let bar = match stop {
        Stop::Count(count) => progress_bar(
            args.quiet,
            count.saturating_mul(tasks.len() as u64),
            "[{bar:30}] {pos}/{len} echoes {msg}",
        ),
        Stop::At(deadline) => progress_bar(
            args.quiet,
            (deadline - start).as_millis() as u64,
            "[{bar:30}] {elapsed} {msg}",
        ),
    };
    let mut latency = new_histogram();
    let mut echoes = 0;
    let mut finished = start;
    let mut ticks = tokio::time::interval(PROGRESS_TICK);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok(tally)) => {
                    echoes += tally.echoes;
                    finished = finished.max(tally.finished);
                    if let Err(error) = latency.add(&tally.latency) {
                        failures.add(format!("merging latencies: {error}"));
                    }
                    if let Some(error) = tally.error {
                        failures.add(error);
                    }
                }
                Some(Err(error)) => failures.add(error.to_string()),
            },
            _ = ticks.tick() => {
                let done = progress.load(Ordering::Relaxed);
                let elapsed = start.elapsed().as_secs_f64();
                bar.set_message(format!("{:.0} msgs/s", done as f64 / elapsed.max(1e-9)));
                match stop {
                    Stop::Count(_) => bar.set_position(done),
                    Stop::At(_) => bar.set_position(start.elapsed().as_millis() as u64),
                }
            }
        }
    }
    bar.finish_and_clear();

    let seconds = (finished - start).as_secs_f64();
    let per_sec = |count: f64| if seconds > 0.0 { count / seconds } else { 0.0 };
    let quantile_us = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let report = Report {
        connections: args.connections,
        size: args.size,
        depth: args.depth,
        messages: echoes,
        seconds,
        msgs_per_sec: per_sec(echoes as f64),
        mb_per_sec: per_sec(echoes as f64 * args.size as f64) / 1e6,
        p50_us: quantile_us(0.5),
        p99_us: quantile_us(0.99),
        p999_us: quantile_us(0.999),
        errors: failures.count,
    };
    if args.json {
        println!("{}", json(&report));
    } else {
        print!("{}", report.text());
    }
    failures.into_result(args.connections)
}

impl Report {
    fn text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "{} connection(s) x {} B, depth {}: {} echoes in {:.2} s",
            self.connections, self.size, self.depth, self.messages, self.seconds
        );
        let _ = writeln!(
            text,
            "  {:.0} msgs/s, {:.2} MB/s",
            self.msgs_per_sec, self.mb_per_sec
        );
        let _ = writeln!(
            text,
            "  latency p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us",
            self.p50_us, self.p99_us, self.p999_us
        );
        if self.errors > 0 {
            let _ = writeln!(text, "  errors: {}", self.errors);
        }
        text
    }
}

fn json<T: Serialize>(value: &T) -> String {
    // Plain numbers and strings: serialization cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// A latency histogram in nanoseconds, 3 significant digits, growing as needed (its size
/// follows the largest latency seen, not a preset maximum).
fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits are supported")
}

/// The echo loop of one connection; the latencies and count, also when it fails.
async fn run_connection<S: Stream>(
    mut ws: WebSocket<S>,
    payloads: &[Message],
    depth: usize,
    stop: Stop,
    progress: &AtomicU64,
) -> Tally {
    let mut tally = Tally {
        latency: new_histogram(),
        echoes: 0,
        finished: Instant::now(),
        error: None,
    };
    let result = echo_loop(&mut ws, payloads, depth, stop, progress, &mut tally).await;
    tally.finished = Instant::now();
    progress.fetch_add(tally.echoes % PROGRESS_BATCH, Ordering::Relaxed);
    match result {
        Ok(()) => {
            match tokio::time::timeout(CLOSE_TIMEOUT, ws.close(CloseCode::NORMAL, "")).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tally.error = Some(format!("closing: {error}")),
                Err(_) => tally.error = Some("closing: timed out".into()),
            }
        }
        Err(error) => tally.error = Some(error),
    }
    tally
}

async fn echo_loop<S: Stream>(
    ws: &mut WebSocket<S>,
    payloads: &[Message],
    depth: usize,
    stop: Stop,
    progress: &AtomicU64,
    tally: &mut Tally,
) -> Result<(), String> {
    let mut in_flight: VecDeque<Instant> = VecDeque::with_capacity(depth);
    let mut sent = 0u64;
    let mut now = Instant::now();
    while in_flight.len() < depth && stop.more(sent, now) {
        ws.feed(payloads[sent as usize % payloads.len()].clone())
            .await
            .map_err(|e| e.to_string())?;
        in_flight.push_back(now);
        sent += 1;
        now = Instant::now();
    }
    ws.flush().await.map_err(|e| e.to_string())?;
    let expected = payload_len(&payloads[0]);
    while let Some(&sent_at) = in_flight.front() {
        let message = match ws.recv().await {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Err(error.to_string()),
            None => return Err("the connection was lost".into()),
        };
        match message {
            Message::Text(_) | Message::Binary(_) if payload_len(&message) == expected => {}
            Message::Close(frame) => {
                return Err(format!("the server closed the connection: {}", frame.code));
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return Err(format!("not an echo: {} bytes", payload_len(&other))),
        }
        now = Instant::now();
        in_flight.pop_front();
        let nanos = (now - sent_at).as_nanos() as u64;
        // `record` grows the histogram to fit; it fails only when it cannot grow.
        if tally.latency.record(nanos).is_err() {
            tally.latency.saturating_record(nanos);
        }
        tally.echoes += 1;
        if tally.echoes.is_multiple_of(PROGRESS_BATCH) {
            progress.fetch_add(PROGRESS_BATCH, Ordering::Relaxed);
        }
        if stop.more(sent, now) {
            ws.feed(payloads[sent as usize % payloads.len()].clone())
                .await
                .map_err(|e| e.to_string())?;
            in_flight.push_back(now);
            sent += 1;
        }
    }
    Ok(())
}

fn payload_len(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.len(),
        Message::Binary(data) => data.len(),
        _ => 0,
    }
}

/// The payloads sent in turn: `size` random bytes, or `size` bytes of JSON-like text.
fn payloads(size: usize, text: bool) -> Vec<Message> {
    let count = (PAYLOAD_BYTES / size.max(1)).clamp(1, PAYLOADS);
    // Seeded: every run sends the same bytes, so runs compare.
    let mut rng = StdRng::seed_from_u64(0x5eed);
    (0..count)
        .map(|_| {
            if text {
                Message::text(json_like(&mut rng, size))
            } else {
                let mut data = vec![0; size];
                rng.fill_bytes(&mut data);
                Message::binary(data)
            }
        })
        .collect()
}

/// `size` bytes of ASCII that look like a JSON array of small records: the kind of text
/// permessage-deflate is for.
fn json_like(rng: &mut StdRng, size: usize) -> String {
    const WORDS: [&str; 12] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima",
    ];
    let mut text = String::with_capacity(size + 128);
    text.push('[');
    while text.len() < size {
        let _ = write!(
            text,
            r#"{{"id":{},"user":"{}{}","score":{}.{:02},"active":{},"tags":["{}","{}"]}},"#,
            rng.random_range(0..1_000_000),
            WORDS[rng.random_range(0..WORDS.len())],
            rng.random_range(0..100),
            rng.random_range(0..100),
            rng.random_range(0..100),
            rng.random_bool(0.5),
            WORDS[rng.random_range(0..WORDS.len())],
            WORDS[rng.random_range(0..WORDS.len())],
        );
    }
    text.truncate(size);
    text
}

/// `--idle`: open the connections, hold them (answering pings, noticing closes) until the
/// deadline, report how many are still open, close them.
async fn idle<S: Stream>(
    args: BenchArgs,
    sockets: Vec<WebSocket<S>>,
    mut failures: Failures,
) -> Result<(), CliError> {
    let hold = Duration::from_secs_f64(args.duration.unwrap_or(DEFAULT_SECONDS));
    let deadline = tokio::time::Instant::now() + hold;
    let mut tasks = JoinSet::new();
    for ws in sockets {
        tasks.spawn(hold_open(ws, deadline));
    }
    let mut open = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(ws)) => open.push(ws),
            Ok(Err(error)) => failures.add(error),
            Err(error) => failures.add(error.to_string()),
        }
    }
    let report = IdleReport {
        connections: args.connections,
        open: open.len() as u64,
    };
    if args.json {
        println!("{}", json(&report));
    } else {
        println!(
            "{} of {} connections open after {:.1} s",
            report.open,
            report.connections,
            hold.as_secs_f64()
        );
    }

    let mut closing = JoinSet::new();
    for mut ws in open {
        closing.spawn(async move {
            tokio::time::timeout(CLOSE_TIMEOUT, ws.close(CloseCode::NORMAL, "")).await
        });
    }
    while closing.join_next().await.is_some() {}
    failures.into_result(args.connections)
}

/// Polls `ws` until `deadline`: the socket if it is still open then, else why it closed.
async fn hold_open<S: Stream>(
    mut ws: WebSocket<S>,
    deadline: tokio::time::Instant,
) -> Result<WebSocket<S>, String> {
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return Ok(ws),
            item = ws.recv() => match item {
                Some(Ok(Message::Close(frame))) => {
                    return Err(format!("the server closed the connection: {}", frame.code));
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.to_string()),
                None => return Err("the connection was lost".into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_sizes_and_kinds() {
        for size in [0, 1, 16, 1000, 1 << 20] {
            for text in [false, true] {
                let payloads = payloads(size, text);
                assert!(!payloads.is_empty());
                assert!(payloads.len() <= PAYLOADS);
                for payload in &payloads {
                    assert_eq!(payload_len(payload), size);
                    assert_eq!(matches!(payload, Message::Text(_)), text);
                }
            }
        }
        assert_eq!(payloads(PAYLOAD_BYTES, false).len(), 1);
    }

    #[test]
    fn text_payloads_look_like_json_and_differ() {
        let payloads = payloads(1024, true);
        let first = payloads[0].as_text().unwrap();
        assert!(first.starts_with(r#"[{"id":"#), "{first}");
        assert!(first.is_ascii());
        assert_ne!(payloads[0], payloads[1]);
    }

    #[test]
    fn stop_rules() {
        let now = Instant::now();
        assert!(Stop::Count(2).more(1, now));
        assert!(!Stop::Count(2).more(2, now));
        assert!(Stop::At(now + Duration::from_secs(1)).more(u64::MAX, now));
        assert!(!Stop::At(now).more(0, now));
    }

    #[test]
    fn json_keys() {
        let report = Report {
            connections: 2,
            size: 16,
            depth: 64,
            messages: 10,
            seconds: 1.5,
            msgs_per_sec: 6.5,
            mb_per_sec: 0.1,
            p50_us: 1.0,
            p99_us: 2.0,
            p999_us: 3.0,
            errors: 0,
        };
        assert_eq!(
            json(&report),
            r#"{"connections":2,"size":16,"depth":64,"messages":10,"seconds":1.5,"msgs_per_sec":6.5,"mb_per_sec":0.1,"p50_us":1.0,"p99_us":2.0,"p999_us":3.0,"errors":0}"#
        );
        let idle = IdleReport {
            connections: 3,
            open: 2,
        };
        assert_eq!(json(&idle), r#"{"connections":3,"open":2}"#);
    }

    #[test]
    fn failures_keep_the_first_reason() {
        let mut failures = Failures::default();
        assert!(Failures::default().into_result(1).is_ok());
        failures.add("first".into());
        failures.add("second".into());
        let error = failures.into_result(5).unwrap_err();
        assert_eq!(
            error.to_string(),
            "2 of 5 connections failed; the first: first"
        );
    }
}
