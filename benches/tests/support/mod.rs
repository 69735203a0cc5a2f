//! Starting the benchmark's server binaries from tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A server process, killed when the test ends, however it ends.
pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `bin` on a free port: the process and the address from its first line.
pub(crate) fn start(bin: &str) -> (Server, String) {
    let mut child = Command::new(bin)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Server(child);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{bin} printed {line:?}"))
        .to_owned();
    (server, addr)
}
