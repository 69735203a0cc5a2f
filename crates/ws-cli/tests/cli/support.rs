//! Running `ws` (and other programs) as child processes: bounded waits, output collected
//! by threads so no pipe fills up, every child killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Every wait in these tests is bounded by this.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// The `ws` binary with `args`.
pub(crate) fn ws(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ws"));
    command.args(args);
    command
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A running child: stdin kept open until closed, stdout as lines, stderr collected.
/// Killed on drop.
pub(crate) struct Spawned {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
}

/// How a child ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    /// The stdout lines not taken with `next_line`, each ending in a newline.
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Finished {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

impl Spawned {
    pub(crate) fn start(mut command: Command) -> Spawned {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let stderr_thread = std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buf) {
                lock(&sink).push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Spawned {
            child,
            stdin,
            lines,
            stderr,
            stderr_thread: Some(stderr_thread),
        }
    }

    /// Writes `text` to the child's stdin.
    pub(crate) fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    pub(crate) fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line on stdout (without its newline); panics after `TIMEOUT`.
    pub(crate) fn next_line(&self) -> String {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(error) => panic!("no line on stdout ({error}); stderr: {}", self.stderr()),
        }
    }

    /// What the child wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Waits until stderr contains `needle`; panics after `TIMEOUT`.
    pub(crate) fn wait_stderr(&self, needle: &str) {
        self.wait_stderr_count(needle, 1);
    }

    /// Waits until stderr contains `needle` at least `count` times.
    pub(crate) fn wait_stderr_count(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + TIMEOUT;
        while self.stderr().matches(needle).count() < count {
            assert!(
                Instant::now() < deadline,
                "{needle:?} not {count} times in stderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes stdin and waits for the child to exit; panics (killing it) after `TIMEOUT`.
    pub(crate) fn wait(mut self) -> Finished {
        self.close_stdin();
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running after {TIMEOUT:?}; stderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stdout = String::new();
        loop {
            match self.lines.recv_timeout(TIMEOUT) {
                Ok(line) => {
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stdout not closed after exit"),
            }
        }
        if let Some(thread) = self.stderr_thread.take() {
            let _ = thread.join();
        }
        Finished {
            status,
            stdout,
            stderr: self.stderr(),
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lock(text: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    text.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `ws args` with `stdin` as its whole input, to the end.
pub(crate) fn run(args: &[&str], stdin: &str) -> Finished {
    let mut child = Spawned::start(ws(args));
    // A child that exits early (a usage error) closes its stdin: ignore the broken pipe.
    if let Some(pipe) = child.stdin.as_mut() {
        let _ = pipe.write_all(stdin.as_bytes());
    }
    child.wait()
}

/// A `ws serve` on 127.0.0.1, ready for connections.
pub(crate) struct Server {
    pub(crate) process: Spawned,
    pub(crate) addr: SocketAddr,
}

impl Server {
    pub(crate) fn start(extra: &[&str]) -> Server {
        let mut args = vec!["serve", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let process = Spawned::start(ws(&args));
        let line = process.next_line();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Server { process, addr }
    }

    /// `ws://ADDR/` (or `wss://`).
    pub(crate) fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/", self.addr)
    }

    /// The server's log so far.
    pub(crate) fn log(&self) -> String {
        self.process.stderr()
    }

    /// Waits until the log contains `needle`.
    pub(crate) fn wait_log(&self, needle: &str) {
        self.process.wait_stderr(needle);
    }

    /// Waits until the log contains `needle` at least `count` times.
    pub(crate) fn wait_log_count(&self, needle: &str, count: usize) {
        self.process.wait_stderr_count(needle, count);
    }
}

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files in a directory
/// removed on drop.
pub(crate) struct Certificate {
    dir: std::path::PathBuf,
    pub(crate) cert: String,
    pub(crate) key: String,
}

impl Certificate {
    pub(crate) fn generate(name: &str) -> Certificate {
        let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let dir = std::env::temp_dir().join(format!("ws-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        Certificate {
            dir,
            cert: cert.to_str().unwrap().to_owned(),
            key: key.to_str().unwrap().to_owned(),
        }
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
