//! Programs the steps run that are not the project's: found on the PATH, or installed
//! from Debian's packages on first use (CI machines start with the toolchain only).

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, run_step};

/// `name` on the PATH, or found there after installing Debian's `package`.
pub(crate) fn program(name: &str, package: &str) -> Result<PathBuf> {
    if let Some(path) = on_path(name) {
        return Ok(path);
    }
    eprintln!("{name} not found; installing Debian's {package} package");
    let install = || {
        let mut apt = Command::new("apt-get");
        apt.args(["install", "--yes", "--quiet", package])
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
    on_path(name).ok_or_else(|| format!("{name} is still not on the PATH"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
