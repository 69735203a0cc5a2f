//! `cargo xtask interop`: ws-extensions, then the `ws` CLI's `serve` and `connect`,
//! against real peers, permessage-deflate negotiated: the Python `websockets` package, and
//! (the CLI) Node's `ws` package.
//!
//! Keeps a venv and an npm prefix in the target directory, installs websockets and ws
//! there when they are missing, and runs the ignored interop tests with
//! `WS_INTEROP_PYTHON`, `WS_INTEROP_NODE` and `NODE_PATH` pointing at them.

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, cargo, python::python_venv, run_step, system, target_dir};

/// The version of Node's `ws` package the interop tests install.
const NODE_WS: &str = "ws@8";

pub(crate) fn run() -> Result {
    let python = python_venv(&[("websockets", "websockets")])?;
    let (node, node_modules) = node_ws()?;

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
    .env("WS_INTEROP_PYTHON", &python)
    .env("WS_INTEROP_NODE", &node)
    .env("NODE_PATH", &node_modules);
    run_step(cli)
}

/// Node, and the `node_modules` directory holding its `ws` package, installed under the
/// target directory on first use.
fn node_ws() -> Result<(PathBuf, PathBuf)> {
    let node = system::program("node", "nodejs")?;
    let prefix = target_dir().join("node-peer");
    let modules = prefix.join("node_modules");
    if !modules.join("ws").join("package.json").is_file() {
        let mut install = Command::new(system::program("npm", "npm")?);
        install
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&prefix)
            .arg(NODE_WS);
        run_step(install)?;
    }
    Ok((node, modules))
}
