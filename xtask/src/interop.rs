//! `cargo xtask interop`: ws-extensions against the Python `websockets` package as a real
//! peer, permessage-deflate negotiated.
//!
//! Keeps a venv in the target directory, installs websockets there when it is missing, and
//! runs the ignored interop test with `WS_INTEROP_PYTHON` pointing at the venv.

use std::process::{Command, Stdio};

use crate::{Result, cargo, run_step, target_dir};

pub(crate) fn run() -> Result {
    let venv = target_dir().join("py-venv");
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    if !python.exists() {
        let mut create = Command::new(if cfg!(windows) { "python" } else { "python3" });
        create.arg("-m").arg("venv").arg(&venv);
        run_step(create)?;
    }
    let importable = Command::new(&python)
        .args(["-c", "import websockets"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !importable {
        let mut install = Command::new(&python);
        install.args(["-m", "pip", "install", "--quiet", "websockets"]);
        run_step(install)?;
    }

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
