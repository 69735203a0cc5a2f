//! The `ws` binary, run as a user runs it: argument handling, error messages and exit
//! statuses, `serve` and `connect` against each other through pipes, the chat room,
//! `bench` and its JSON, TLS, and (ignored unless `cargo xtask interop` runs it) both
//! commands against Python `websockets` with permessage-deflate.

mod args;
mod bench;
mod errors;
mod interop;
mod session;
mod support;
