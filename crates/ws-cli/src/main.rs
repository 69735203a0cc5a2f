//! `ws`: a WebSocket echo or chat server, an interactive client and a load generator, on
//! `ws-tokio`.
//!
//! ```text
//! ws serve [ADDR]          echo server (default 127.0.0.1:9001); --broadcast for a chat room
//! ws connect URL           stdin lines out as text messages, messages in on stdout
//! ws bench URL             echo load: --connections, --size, --depth, --duration/--count
//! ```
//!
//! Exit status: 0 on success, 1 when the command fails (connection refused, handshake
//! rejected, TLS failure, abnormal close), 2 for a usage error.

#![forbid(unsafe_code)]

mod bench;
mod cli;
mod connect;
mod error;
mod net;
mod serve;
mod tls;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ws_tokio::Config;

use crate::cli::{Cli, Command, LimitArgs};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ws: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The endpoint configuration from the shared flags.
fn endpoint_config(limits: &LimitArgs, compression: bool) -> Config {
    let mut config = Config::default();
    config.max_message_size = limits.max_message_size;
    config.max_frame_payload = limits.max_frame_size;
    config.handshake_timeout = Some(Duration::from_secs_f64(limits.handshake_timeout));
    if !compression {
        config.extensions = ws_extensions::Extensions::new();
    }
    config
}

/// A tokio runtime with `threads` workers: a single-threaded one for 1 (no work
/// stealing, no cross-thread wake-ups), the default (a worker per CPU) for `None`.
fn runtime(threads: Option<u16>) -> Result<tokio::runtime::Runtime, CliError> {
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n.into());
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(CliError::Runtime)
}
