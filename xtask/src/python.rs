//! The Python venv the interop and Autobahn steps share, kept in the target directory.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{Result, run_step, target_dir};

/// Creates the venv (`<target dir>/py-venv`) if needed and installs each of `packages` (pip name, import name)
/// that cannot be imported yet; returns the venv's `python`.
pub(crate) fn python_venv(packages: &[(&str, &str)]) -> Result<PathBuf> {
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
    for &(package, module) in packages {
        let importable = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !importable {
            let mut install = Command::new(&python);
            install.args(["-m", "pip", "install", "--quiet", package]);
            run_step(install)?;
        }
    }
    Ok(python)
}
