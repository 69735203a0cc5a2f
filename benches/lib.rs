//! Benchmarks for the workspace: criterion benches run with `cargo xtask bench`, and the
//! end-to-end benchmark run with `cargo xtask bench e2e`.
//!
//! Criterion benches:
//! - `mask`: the masking loop per backend against a byte loop, `copy_from_slice` (the
//!   memory-bandwidth reference) and `fastwebsockets::unmask`, at 16 B to 1 MiB.
//! - `decode`: decoding a buffer of 10,000 small masked frames with `ws-frame`,
//!   `tungstenite` and `fastwebsockets`.
//!
//! Benchmark ids are `<group>/<function>/<parameter>`; `cargo xtask bench` reads criterion's
//! estimates under `target/criterion/` by those ids to print its table.
//!
//! End-to-end binaries (see `docs/performance.md`, "End-to-end"):
//! - `echo-ws-tokio`, `echo-tokio-tungstenite`, `echo-fastwebsockets`, `echo-tcp`: echo
//!   servers taking `ADDR`, each written the way its library teaches, all run by [`serve`]
//!   so they share one runtime set-up;
//! - `tcp-bench`: the raw-TCP load generator for the plain TCP floor;
//! - `e2e`: the orchestrator that starts each server, drives it with `ws bench` (or
//!   `tcp-bench`), and prints the report.

#![forbid(unsafe_code)]

use std::{fmt::Display, future::Future, io, time::Duration};

use tokio::net::{TcpListener, TcpStream};

/// Environment variable with the worker-thread count of every echo server's runtime.
pub const WORKERS_ENV: &str = "WS_E2E_WORKERS";

/// Worker threads when [`WORKERS_ENV`] is unset: the load generator needs the other core
/// of the 2-core machine the benchmark was written on.
pub const DEFAULT_WORKERS: usize = 1;

/// Runs an echo server: binds the address given as the first argument, prints
/// `listening on ADDR` (the bound address, so port 0 works) and hands every accepted
/// connection to `handle` in its own task, on a multi-thread tokio runtime with
/// [`WORKERS_ENV`] workers. A connection's error is printed to stderr; the server goes on.
pub fn serve<F, Fut, E>(handle: F) -> io::Result<()>
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display,
{
    let addr = std::env::args()
        .nth(1)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "usage: ADDR"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers()?)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((tcp, _)) => {
                    let connection = handle(tcp);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            eprintln!("connection: {error}");
                        }
                    });
                }
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some to close rather
                    // than spin on the error.
                    eprintln!("accept: {error}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

/// The worker count from [`WORKERS_ENV`], or [`DEFAULT_WORKERS`].
fn workers() -> io::Result<usize> {
    match std::env::var(WORKERS_ENV) {
        Err(_) => Ok(DEFAULT_WORKERS),
        Ok(text) => text.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{WORKERS_ENV}={text:?}: expected a positive number"),
            )
        }),
    }
}
