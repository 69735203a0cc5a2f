//! `cargo xtask browser`: a real browser against `ws serve`. Headless Chromium opens
//! a WebSocket with its own client (permessage-deflate offered, as every browser does),
//! and a Python script drives the page over the DevTools protocol and checks the echoes,
//! the negotiated extension and the close.
//!
//! Chromium comes from Debian's `chromium` package, installed with apt-get when it is not
//! on the PATH (or set `CHROMIUM` to a browser binary).

use std::path::PathBuf;
use std::process::Command;

use crate::python::python_venv;
use crate::server::{self, free_port};
use crate::{Result, cargo, project_root, run_step};

pub(crate) fn run() -> Result {
    let chromium = chromium()?;
    let python = python_venv(&[("websockets", "websockets")])?;
    let addr = format!("127.0.0.1:{}", free_port()?);
    // The README's main job: `ws serve`, default settings (permessage-deflate on).
    let mut server = cargo();
    server
        .args(["run", "--quiet", "--release", "-p", "ws-cli", "--"])
        .args(["serve", &addr]);
    let _server = server::start(server, "ws serve")?;
    let mut test = Command::new(python);
    test.arg(project_root().join("xtask/browser/echo_test.py"))
        .arg(&chromium)
        .arg(format!("ws://{addr}/"));
    run_step(test)
}

/// The browser: `CHROMIUM`, or Chromium on the PATH, or Debian's package installed now.
fn chromium() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    if let Some(path) = on_path("chromium") {
        return Ok(path);
    }
    eprintln!("browser: chromium not found; installing Debian's package");
    let install = || {
        let mut apt = Command::new("apt-get");
        apt.args(["install", "--yes", "--quiet", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_step(apt)
    };
    if install().is_err() {
        // A fresh machine's package lists may be missing or stale.
        let mut update = Command::new("apt-get");
        update.args(["update", "--quiet"]);
        run_step(update)?;
        install()?;
    }
    on_path("chromium").ok_or_else(|| "chromium is still not on the PATH".into())
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
