//! `cargo xtask browser`: a real browser against `ws serve`. Headless Chromium opens
//! a WebSocket with its own client (permessage-deflate offered, as every browser does),
//! and a Python script drives the page over the DevTools protocol and checks the echoes,
//! the negotiated extension and the close: once over HTTP/1.1 (`ws://`), once on an
//! HTTP/2 stream (`wss://` from a page the server sent over HTTP/2, RFC 8441).
//!
//! Chromium comes from Debian's `chromium` package, installed with apt-get when it is not
//! on the PATH (or set `CHROMIUM` to a browser binary).

use std::path::PathBuf;
use std::process::Command;

use crate::python::python_venv;
use crate::server::{self, free_port};
use crate::system;
use crate::{Result, cargo, project_root, run_step, target_dir};

pub(crate) fn run() -> Result {
    let chromium = chromium()?;
    let python = python_venv(&[
        ("websockets", "websockets"),
        ("cryptography", "cryptography"),
    ])?;
    let script = project_root().join("xtask/browser/echo_test.py");

    // The README's main job: `ws serve`, default settings (permessage-deflate on); the
    // page script opens `ws://` on about:blank, an HTTP/1.1 upgrade.
    let addr = format!("127.0.0.1:{}", free_port()?);
    let _server = server::start(ws_serve(&addr, &[]), "ws serve")?;
    let mut test = Command::new(&python);
    test.arg(&script)
        .arg(&chromium)
        .arg(format!("ws://{addr}/"));
    run_step(test)?;

    // Over TLS the browser loads a page from `ws serve` over HTTP/2 first, then opens
    // `wss://` to it: on a stream of that connection (RFC 8441).
    let dir = target_dir().join("browser-tls");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut make_cert = Command::new(&python);
    make_cert
        .arg(project_root().join("xtask/browser/make_cert.py"))
        .args([&cert, &key]);
    run_step(make_cert)?;
    let addr = format!("127.0.0.1:{}", free_port()?);
    let tls = [cert.as_os_str(), "--key".as_ref(), key.as_os_str()];
    let _tls_server = server::start(ws_serve(&addr, &tls), "ws serve (TLS)")?;
    let mut test = Command::new(&python);
    test.arg(&script)
        .arg(&chromium)
        .arg(format!("wss://{addr}/"))
        .arg(format!("https://{addr}/"));
    run_step(test)
}

/// `ws serve ADDR`, with `--cert` and the `tls` arguments after it when there are any.
fn ws_serve(addr: &str, tls: &[&std::ffi::OsStr]) -> Command {
    let mut server = cargo();
    server
        .args(["run", "--quiet", "--release", "-p", "ws-cli", "--"])
        .args(["serve", addr]);
    if !tls.is_empty() {
        server.arg("--cert").args(tls);
    }
    server
}

/// The browser: `CHROMIUM`, or Chromium on the PATH, or Debian's package installed now.
fn chromium() -> Result<PathBuf> {
    match std::env::var_os("CHROMIUM") {
        Some(path) => Ok(PathBuf::from(path)),
        None => system::program("chromium", "chromium"),
    }
}
