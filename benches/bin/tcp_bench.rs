//! The load generator for the plain TCP floor, where `ws bench` cannot go: a TCP echo
//! answers a WebSocket handshake with the request itself.
//!
//! `tcp-bench ADDR --connections N --size B --depth D --duration SECS [--threads N] [--json]`
//!
//! It runs `ws bench`'s loop over raw TCP, so the floor sees the same traffic: each
//! message is the bytes a WebSocket client puts on the wire for a `size`-byte message
//! (header, mask key and payload), and counts as echoed once that many bytes have come
//! back. Every connection opens before the clock starts, writes `depth` messages at once,
//! then on every read sends one new message per echo, all in one write (as `ws bench`'s
//! `recv` writes everything fed since it last waited), until `duration` has passed; then
//! it stops sending and waits for the echoes still in flight. Latency is the time from a
//! message's send to its echo; `seconds` runs from the start to the last echo. One
//! runtime thread by default (a current-thread runtime), as `ws bench`. It prints the same
//! JSON line as `ws bench --json`.

#![forbid(unsafe_code)]

use std::{
    collections::VecDeque,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Barrier,
};

const USAGE: &str =
    "usage: tcp-bench ADDR --connections N --size B --depth D --duration SECS [--json]";

/// One read at most: several echoed messages, or a good part of a 64 KiB one.
const READ_BUFFER: usize = 64 * 1024;

struct Options {
    addr: String,
    connections: usize,
    size: usize,
    depth: usize,
    duration: Duration,
    threads: usize,
}

/// What one connection measured.
struct Tally {
    messages: u64,
    latencies_ns: Histogram<u64>,
    /// When its last echo arrived.
    finished: Instant,
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tcp-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        addr: args.next().ok_or(USAGE)?,
        connections: 1,
        size: 16,
        depth: 1,
        duration: Duration::from_secs(5),
        threads: 1,
    };
    while let Some(flag) = args.next() {
        if flag == "--json" {
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag} {value:?}: expected a number"))?;
        let count = usize::try_from(number).map_err(|_| format!("{flag} {value}: too large"))?;
        match flag.as_str() {
            "--connections" => options.connections = count,
            "--size" => options.size = count,
            "--depth" => options.depth = count,
            "--duration" => options.duration = Duration::from_secs(number),
            "--threads" => options.threads = count,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    if options.connections == 0 || options.depth == 0 || options.threads == 0 {
        return Err("--connections, --depth and --threads must be at least 1".into());
    }
    Ok(options)
}

/// The bytes a client sends for a `size`-byte message: header with its extended length,
/// the mask key, the payload.
fn wire_len(size: usize) -> usize {
    let length_field = match size {
        0..=125 => 0,
        126..=0xffff => 2,
        _ => 8,
    };
    2 + length_field + 4 + size
}

fn run(options: Options) -> Result<(), String> {
    // As `ws bench`: no work stealing or cross-thread wake-ups with one thread.
    let mut builder = if options.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(options.threads);
        builder
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    runtime.block_on(measure(options))
}

async fn measure(options: Options) -> Result<(), String> {
    let unit = wire_len(options.size);
    // Every connection plus this task, so the clock starts once all are open.
    let ready = Arc::new(Barrier::new(options.connections + 1));
    let mut tasks = Vec::with_capacity(options.connections);
    for _ in 0..options.connections {
        let tcp = TcpStream::connect(&options.addr)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", options.addr))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
        let ready = ready.clone();
        let (depth, duration) = (options.depth, options.duration);
        tasks.push(tokio::spawn(async move {
            ready.wait().await;
            drive(tcp, unit, depth, Instant::now() + duration).await
        }));
    }
    ready.wait().await;
    let start = Instant::now();
    let mut finished = start;
    let mut messages = 0;
    let mut errors = 0u64;
    let mut latencies_ns = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for task in tasks {
        match task.await {
            Ok(Ok(tally)) => {
                messages += tally.messages;
                finished = finished.max(tally.finished);
                latencies_ns
                    .add(&tally.latencies_ns)
                    .map_err(|e| e.to_string())?;
            }
            Ok(Err(error)) => {
                eprintln!("tcp-bench: connection: {error}");
                errors += 1;
            }
            Err(error) => return Err(format!("connection task failed: {error}")),
        }
    }
    let seconds = start
        .elapsed()
        .as_secs_f64()
        .min(options.duration.as_secs_f64());
    let percentile_us = |q: f64| latencies_ns.value_at_quantile(q) as f64 / 1e3;
    println!(
        "{}",
        serde_json::json!({
            "connections": options.connections,
            "size": options.size,
            "depth": options.depth,
            "messages": messages,
            "seconds": seconds,
            "msgs_per_sec": messages as f64 / seconds,
            "mb_per_sec": (messages as f64 * options.size as f64) / seconds / 1e6,
            "p50_us": percentile_us(0.5),
            "p99_us": percentile_us(0.99),
            "p999_us": percentile_us(0.999),
            "errors": errors,
        })
    );
    Ok(())
}

/// One connection's loop: keep `depth` messages of `unit` bytes in flight until
/// `deadline`, then drain; count the echoes, time each one.
async fn drive(
    mut tcp: TcpStream,
    unit: usize,
    depth: usize,
    deadline: Instant,
) -> std::io::Result<Tally> {
    // Every write is a prefix of this: at most `depth` messages are ever sent at once.
    let outgoing = vec![0x5a; unit * depth];
    let mut input = vec![0; READ_BUFFER];
    let mut in_flight = VecDeque::with_capacity(depth);
    let mut tally = Tally {
        messages: 0,
        latencies_ns: Histogram::new(3).map_err(std::io::Error::other)?,
        finished: Instant::now(),
    };
    tcp.write_all(&outgoing).await?;
    in_flight.extend(std::iter::repeat_n(Instant::now(), depth));
    // Bytes of the message being echoed that arrived so far.
    let mut partial = 0;
    while !in_flight.is_empty() {
        let n = tcp.read(&mut input).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let now = Instant::now();
        let echoed = (partial + n) / unit;
        partial = (partial + n) % unit;
        if echoed > in_flight.len() {
            return Err(std::io::Error::other(
                "the server sent more than it was sent",
            ));
        }
        for sent in in_flight.drain(..echoed) {
            // `record`, not `saturating_record`: only `record` grows the histogram.
            let nanos = u64::try_from((now - sent).as_nanos()).unwrap_or(u64::MAX);
            tally
                .latencies_ns
                .record(nanos)
                .map_err(std::io::Error::other)?;
        }
        tally.messages += echoed as u64;
        tally.finished = now;
        if now < deadline {
            tcp.write_all(&outgoing[..echoed * unit]).await?;
            in_flight.extend(std::iter::repeat_n(now, echoed));
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_length_of_a_masked_client_frame() {
        assert_eq!(wire_len(0), 6);
        assert_eq!(wire_len(16), 22);
        assert_eq!(wire_len(125), 131);
        assert_eq!(wire_len(126), 134);
        assert_eq!(wire_len(1024), 1032);
        assert_eq!(wire_len(0xffff), 0xffff + 8);
        assert_eq!(wire_len(0x10000), 0x10000 + 14);
    }

    #[test]
    fn options() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = parse(
            args(&[
                "127.0.0.1:1",
                "--connections",
                "3",
                "--depth",
                "64",
                "--json",
                "--threads",
                "2",
            ])
            .into_iter(),
        )
        .unwrap();
        assert_eq!(
            (options.connections, options.depth, options.threads),
            (3, 64, 2)
        );
        assert_eq!(
            (options.size, options.duration),
            (16, Duration::from_secs(5))
        );
        for (list, error) in [
            (&[][..], "usage"),
            (&["a", "--size"], "--size needs a value"),
            (&["a", "--size", "x"], "expected a number"),
            (&["a", "--depth", "0"], "at least 1"),
            (&["a", "--frobnicate", "1"], "unknown option"),
        ] {
            let message = parse(args(list).into_iter()).err().unwrap();
            assert!(message.contains(error), "{list:?}: {message}");
        }
    }
}
