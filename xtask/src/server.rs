//! Starting the project's servers for the steps that test them from outside (Autobahn,
//! the browser): a free port, the process killed on drop, and the `listening on` line.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use crate::{Result, describe};

/// A port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A child process killed when dropped: a server runs until killed, and an error path
/// must not leave one behind.
pub(crate) struct Guard(pub(crate) Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // It may have exited already; either way it is gone afterwards.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `command`, a server that prints `listening on ADDR` first, and waits for that
/// line. `name` says which server in errors.
pub(crate) fn start(mut command: Command, name: &str) -> Result<Guard> {
    command.stdout(Stdio::piped());
    eprintln!("$ {}", describe(&command));
    let mut server = Guard(
        command
            .spawn()
            .map_err(|e| format!("cannot start the {name}: {e}"))?,
    );
    let stdout = server.0.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("{name}: reading its first line: {e}"))?;
    if line.starts_with("listening on") {
        Ok(server)
    } else {
        Err(format!(
            "{name}: expected `listening on ADDR`, got {line:?}"
        ))
    }
}
