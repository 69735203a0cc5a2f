//! `cargo xtask interop`: ws-extensions against the Python `websockets` package as a real
//! peer, permessage-deflate negotiated.
//!
//! Keeps a venv in the target directory, installs websockets there when it is missing, and
//! runs the ignored interop test with `WS_INTEROP_PYTHON` pointing at the venv.

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
    run_step(test)
}
