//! `cargo xtask interop`: ws-extensions, then the `ws` CLI's `serve` and `connect`,
//! against the Python `websockets` package as a real peer, permessage-deflate negotiated.
//!
//! Keeps a venv in the target directory, installs websockets there when it is missing, and
//! runs the ignored interop tests with `WS_INTEROP_PYTHON` pointing at the venv.

use crate::{Result, cargo, python::python_venv, run_step};

pub(crate) fn run() -> Result {
    let python = python_venv(&[("websockets", "websockets")])?;

    let mut test = cargo();
    test.args([
        "test",
        "-p",
        "ws-extensions",
        "--test",
        "interop_python",
        "--",
        "--ignored",
    ])
    .env("WS_INTEROP_PYTHON", &python);
    run_step(test)?;

    // The `ws` binary both ways: `ws connect` to a websockets server, a websockets client
    // to `ws serve`.
    let mut cli = cargo();
    cli.args([
        "test",
        "-p",
        "ws-cli",
        "--test",
        "cli",
        "--",
        "--ignored",
        "interop::",
    ])
    .env("WS_INTEROP_PYTHON", &python);
    run_step(cli)
}
