//! The end-to-end benchmark's orchestrator, run by `cargo xtask bench e2e`.
//!
//! For every scenario it starts the four echo servers of this crate, then drives them in
//! turn with the same load (`ws bench` for the WebSocket servers, `tcp-bench` for the TCP
//! floor), round after round with the order rotated each round, and reports the median of
//! each figure. Server CPU time per message is the server process's `utime + stime`
//! (`/proc/PID/stat`) over a load run divided by the messages echoed in it. Then, per
//! WebSocket server, a fresh process is given `--idle` connections by `ws bench --idle`,
//! and its `VmRSS` (`/proc/PID/status`) before and with them gives bytes per connection.
//!
//! Servers and load generators are child processes killed when their handle drops, so an
//! error leaves none running. The report is printed and written as markdown.

#![forbid(unsafe_code)]

use std::{
    fmt::Write as _,
    fs::{self, File},
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use ws_benches::{DEFAULT_WORKERS, WORKERS_ENV};

const USAGE: &str = "\
usage: e2e --ws PATH [options]

  --ws PATH           the `ws` binary (crates/ws-cli) that generates the WebSocket load
  --rounds N          rounds per scenario, each server once per round (default 3)
  --seconds S         length of one load run (default 3)
  --workers N         worker threads of every server's runtime (default 1)
  --client-threads N  runtime threads of the load generators (default 1)
  --scenario TEXT     run only scenarios whose name contains TEXT (repeatable)
  --idle N            idle connections for the memory figure (default 10000)
  --idle-seconds S    how long `ws bench --idle` holds them (default 5)
  --source-ips LIST   source addresses for the idle connections
                      (default 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4)
  --no-throughput     skip the load scenarios
  --no-memory         skip the idle-memory measurement
  --pin               servers on CPU 1, load generators on CPU 0 (taskset)
  --out PATH          where the markdown report goes (default target/e2e-report.md)
";

/// Extra time a child gets beyond its nominal duration (connecting, handshakes, closing).
const GRACE: Duration = Duration::from_secs(60);

/// A server's first line must come within this time.
const START_TIMEOUT: Duration = Duration::from_secs(10);

type Result<T = ()> = std::result::Result<T, String>;

struct Options {
    ws: PathBuf,
    bin_dir: PathBuf,
    rounds: usize,
    seconds: u64,
    workers: usize,
    client_threads: usize,
    scenarios: Vec<String>,
    idle: usize,
    idle_seconds: u64,
    source_ips: String,
    throughput: bool,
    memory: bool,
    pin: bool,
    out: PathBuf,
    logs: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
struct Server {
    name: &'static str,
    bin: &'static str,
    /// Speaks WebSocket, so `ws bench` drives it; else `tcp-bench` does.
    websocket: bool,
}

impl Server {
    const fn websocket(name: &'static str, bin: &'static str) -> Server {
        Server {
            name,
            bin,
            websocket: true,
        }
    }
}

const OURS: Server = Server::websocket("ws-tokio", "echo-ws-tokio");
const TUNGSTENITE: Server = Server::websocket("tokio-tungstenite", "echo-tokio-tungstenite");
const FASTWEBSOCKETS: Server = Server::websocket("fastwebsockets", "echo-fastwebsockets");
const TCP: Server = Server {
    name: "TCP echo",
    bin: "echo-tcp",
    websocket: false,
};
const SERVERS: [Server; 4] = [OURS, TUNGSTENITE, FASTWEBSOCKETS, TCP];

struct Scenario {
    name: &'static str,
    connections: usize,
    size: usize,
    depth: usize,
    /// Text messages (`ws bench --text`, JSON-like) instead of binary.
    text: bool,
    /// permessage-deflate for ws-tokio (`ws bench --compression`); the others have none.
    deflate: bool,
}

impl Scenario {
    /// Binary messages, no compression.
    const fn binary(name: &'static str, connections: usize, size: usize, depth: usize) -> Scenario {
        Scenario {
            name,
            connections,
            size,
            depth,
            text: false,
            deflate: false,
        }
    }
}

const SCENARIOS: [Scenario; 6] = [
    Scenario::binary("1 × 16 B, depth 1", 1, 16, 1),
    Scenario::binary("1 × 16 B, depth 64", 1, 16, 64),
    Scenario::binary("100 × 1 KiB", 100, 1024, 1),
    Scenario::binary("10 × 64 KiB", 10, 64 * 1024, 1),
    Scenario::binary("500 × 16 KiB", 500, 16 * 1024, 1),
    Scenario {
        text: true,
        deflate: true,
        ..Scenario::binary("100 × 1 KiB text, deflate (ws-tokio only)", 100, 1024, 1)
    },
];

/// One load run's figures.
struct Sample {
    msgs_per_sec: f64,
    mb_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_msg: f64,
    /// Server CPU time over the generator's whole run, as a share of one core.
    server_cpu_percent: f64,
    /// The load generator's own CPU time likewise: near 100 (with one thread) means the
    /// generator, not the server, set the pace.
    generator_cpu_percent: f64,
    errors: f64,
}

/// The medians of one server's samples in one scenario.
struct Row {
    scenario: &'static str,
    server: Server,
    deflate: bool,
    median: Sample,
}

struct MemoryRow {
    server: Server,
    rss_before: u64,
    rss_with: u64,
    /// Connections the server held when `rss_with` was read (its new file descriptors).
    held: usize,
    /// What `ws bench --idle` reported open.
    reported_open: Option<u64>,
}

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == "-h" || arg == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = parse(std::env::args().skip(1)).and_then(|options| run(&options));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("e2e: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options> {
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .ok_or("cannot find the directory of this executable")?;
    let mut options = Options {
        ws: PathBuf::new(),
        rounds: 3,
        seconds: 3,
        workers: DEFAULT_WORKERS,
        client_threads: 1,
        scenarios: Vec::new(),
        idle: 10_000,
        idle_seconds: 5,
        source_ips: "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4".into(),
        throughput: true,
        memory: true,
        pin: false,
        out: bin_dir.join("../e2e-report.md"),
        logs: PathBuf::new(),
        bin_dir,
    };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--no-throughput" => options.throughput = false,
            "--no-memory" => options.memory = false,
            "--pin" => options.pin = true,
            _ => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
                let number = || {
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("{flag} {value:?}: expected a positive number"))
                };
                match flag.as_str() {
                    "--ws" => options.ws = PathBuf::from(&value),
                    "--rounds" => options.rounds = number()?,
                    "--seconds" => options.seconds = number()? as u64,
                    "--workers" => options.workers = number()?,
                    "--client-threads" => options.client_threads = number()?,
                    "--scenario" => options.scenarios.push(value),
                    "--idle" => options.idle = number()?,
                    "--idle-seconds" => options.idle_seconds = number()? as u64,
                    "--source-ips" => options.source_ips = value,
                    "--out" => options.out = PathBuf::from(&value),
                    _ => return Err(format!("unknown option {flag}\n{USAGE}")),
                }
            }
        }
    }
    if options.ws.as_os_str().is_empty() {
        return Err(format!("--ws is required\n{USAGE}"));
    }
    let report_dir = options
        .out
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    options.logs = report_dir.join("e2e-logs");
    Ok(options)
}

fn run(options: &Options) -> Result {
    fs::create_dir_all(&options.logs)
        .map_err(|e| format!("cannot create {}: {e}", options.logs.display()))?;
    let tick_us = 1e6 / clock_ticks_per_second();
    let load_before = load_average();
    let mut rows = Vec::new();
    if options.throughput {
        for scenario in SCENARIOS.iter().filter(|s| selected(options, s)) {
            rows.extend(scenario_rows(options, scenario, tick_us)?);
        }
    }
    let mut memory = Vec::new();
    if options.memory {
        for server in SERVERS.iter().filter(|s| s.websocket) {
            memory.push(idle_memory(options, *server)?);
        }
    }
    let text = report(options, &rows, &memory, &load_before);
    print!("{text}");
    fs::write(&options.out, &text)
        .map_err(|e| format!("cannot write {}: {e}", options.out.display()))?;
    eprintln!("e2e: report written to {}", options.out.display());
    Ok(())
}

fn selected(options: &Options, scenario: &Scenario) -> bool {
    options.scenarios.is_empty() || options.scenarios.iter().any(|s| scenario.name.contains(s))
}

/// Runs one scenario: every server once per round, the order rotated each round so none
/// always runs first (or right after the same neighbour); medians per server.
fn scenario_rows(options: &Options, scenario: &Scenario, tick_us: f64) -> Result<Vec<Row>> {
    let mut servers = SERVERS
        .iter()
        .map(|&server| start_server(options, server))
        .collect::<Result<Vec<_>>>()?;
    let mut samples: Vec<Vec<Sample>> = SERVERS.iter().map(|_| Vec::new()).collect();
    for round in 0..options.rounds {
        for turn in 0..SERVERS.len() {
            let index = (round + turn) % SERVERS.len();
            let server = &mut servers[index];
            let cpu_before = cpu_ticks(server.process.pid())?;
            let generator_before = waited_children_ticks()?;
            let started = Instant::now();
            let load = load_run(options, scenario, server)?;
            let wall_us = started.elapsed().as_secs_f64() * 1e6;
            let cpu_us = (cpu_ticks(server.process.pid())? - cpu_before) as f64 * tick_us;
            let generator_us = (waited_children_ticks()? - generator_before) as f64 * tick_us;
            server.check_alive()?;
            let messages = number(&load, "messages")?;
            let sample = Sample {
                msgs_per_sec: number(&load, "msgs_per_sec")?,
                mb_per_sec: number(&load, "mb_per_sec")?,
                p50_us: number(&load, "p50_us")?,
                p99_us: number(&load, "p99_us")?,
                cpu_us_per_msg: cpu_us / messages.max(1.0),
                server_cpu_percent: 100.0 * cpu_us / wall_us,
                generator_cpu_percent: 100.0 * generator_us / wall_us,
                errors: number(&load, "errors")?,
            };
            eprintln!(
                "e2e: {} | {} | round {}: {:.0} msgs/s, p50 {:.1} µs, p99 {:.1} µs, {:.2} CPU µs/msg, \
                 CPU {:.0}% server, {:.0}% generator",
                scenario.name,
                server.server.name,
                round + 1,
                sample.msgs_per_sec,
                sample.p50_us,
                sample.p99_us,
                sample.cpu_us_per_msg,
                sample.server_cpu_percent,
                sample.generator_cpu_percent,
            );
            samples[index].push(sample);
        }
    }
    Ok(SERVERS
        .iter()
        .zip(samples)
        .map(|(&server, samples)| Row {
            scenario: scenario.name,
            server,
            deflate: scenario.deflate && server == OURS,
            median: Sample {
                msgs_per_sec: median(samples.iter().map(|s| s.msgs_per_sec)),
                mb_per_sec: median(samples.iter().map(|s| s.mb_per_sec)),
                p50_us: median(samples.iter().map(|s| s.p50_us)),
                p99_us: median(samples.iter().map(|s| s.p99_us)),
                cpu_us_per_msg: median(samples.iter().map(|s| s.cpu_us_per_msg)),
                server_cpu_percent: median(samples.iter().map(|s| s.server_cpu_percent)),
                generator_cpu_percent: median(samples.iter().map(|s| s.generator_cpu_percent)),
                // Not a median: any error in any round shows.
                errors: samples.iter().map(|s| s.errors).sum(),
            },
        })
        .collect())
}

/// One run of the load generator against `server`: its JSON line.
fn load_run(options: &Options, scenario: &Scenario, server: &RunningServer) -> Result<Value> {
    let mut command;
    if server.server.websocket {
        command = generator(options, &options.ws);
        command.args(["bench", &format!("ws://{}/", server.addr)]);
        if scenario.text {
            command.arg("--text");
        }
        if scenario.deflate && server.server == OURS {
            command.arg("--compression");
        }
    } else {
        command = generator(options, &options.bin_dir.join("tcp-bench"));
        command.arg(&server.addr);
    }
    command.args([
        "--connections",
        &scenario.connections.to_string(),
        "--size",
        &scenario.size.to_string(),
        "--depth",
        &scenario.depth.to_string(),
        "--duration",
        &options.seconds.to_string(),
        "--threads",
        &options.client_threads.to_string(),
        "--json",
    ]);
    run_generator(
        options,
        command,
        Duration::from_secs(options.seconds) + GRACE,
    )
}

/// A load generator's command, pinned to CPU 0 with `--pin`.
fn generator(options: &Options, program: &Path) -> Command {
    pinned(options, program, "0")
}

/// `program`, under `taskset -c CPU` with `--pin`.
fn pinned(options: &Options, program: &Path, cpu: &str) -> Command {
    if options.pin {
        // taskset execs the program, so the child's pid is the program's.
        let mut command = Command::new("taskset");
        command.args(["-c", cpu]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Runs a load generator to its end (at most `timeout`) and parses the last line it
/// printed as JSON. Its output goes through files in the log directory, so a long run
/// cannot fill a pipe, and a failure's stderr can be shown. A generator that reports and
/// then exits with an error (some connections failed: the `errors` figure) only warns.
fn run_generator(options: &Options, mut command: Command, timeout: Duration) -> Result<Value> {
    let stdout_path = options.logs.join("generator.out");
    let stderr_path = options.logs.join("generator.err");
    let create = |path: &Path| {
        File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
    };
    command
        .stdin(Stdio::null())
        .stdout(create(&stdout_path)?)
        .stderr(create(&stderr_path)?);
    let what = format!("{command:?}");
    let mut process = Process::spawn(command)?;
    let status = process.wait(timeout)?;
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = || fs::read_to_string(&stderr_path).unwrap_or_default();
    let line = stdout.lines().rev().find(|line| !line.trim().is_empty());
    match (line, status.success()) {
        (None, true) => Err(format!("`{what}` printed nothing")),
        (None, false) => Err(format!("`{what}` failed ({status}):\n{}", stderr())),
        (Some(line), success) => {
            if !success {
                eprintln!("e2e: `{what}` ended with {status}:\n{}", stderr());
            }
            serde_json::from_str(line).map_err(|e| format!("`{what}` printed {line:?}: {e}"))
        }
    }
}

fn number(json: &Value, key: &str) -> Result<f64> {
    json.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("the load generator's JSON has no number {key:?}: {json}"))
}

/// Idle memory of one WebSocket server: a fresh process's RSS, then its RSS while
/// `ws bench --idle` holds `options.idle` connections to it.
fn idle_memory(options: &Options, server: Server) -> Result<MemoryRow> {
    let mut running = start_server(options, server)?;
    let pid = running.process.pid();
    // Let the runtime finish starting its threads before the baseline.
    thread::sleep(Duration::from_millis(300));
    let rss_before = rss_bytes(pid)?;
    let fds_before = fd_count(pid)?;
    let mut command = generator(options, &options.ws);
    command.args([
        "bench",
        &format!("ws://{}/", running.addr),
        "--idle",
        "--connections",
        &options.idle.to_string(),
        "--duration",
        &options.idle_seconds.to_string(),
        "--source-ips",
        &options.source_ips,
        "--json",
    ]);
    let stdout_path = options.logs.join("idle.out");
    let stdout = File::create(&stdout_path)
        .map_err(|e| format!("cannot create {}: {e}", stdout_path.display()))?;
    command.stdin(Stdio::null()).stdout(stdout);
    let what = format!("{command:?}");
    let mut idle = Process::spawn(command)?;
    // Wait until the server holds every connection, the count stops growing for a few
    // seconds (some failed to open), or the generator is gone.
    let mut last = fds_before;
    let mut last_change = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(200));
        let fds = fd_count(pid)?;
        if fds >= fds_before + options.idle || idle.exited()?.is_some() {
            break;
        }
        if fds != last {
            last = fds;
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    // Handshakes of the last connections may still be in flight.
    thread::sleep(Duration::from_secs(1));
    running.check_alive()?;
    let held = fd_count(pid)?.saturating_sub(fds_before);
    let rss_with = rss_bytes(pid)?;
    let status = idle.wait(Duration::from_secs(options.idle_seconds) + GRACE)?;
    let output = fs::read_to_string(&stdout_path).unwrap_or_default();
    let reported_open = output
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line).ok())
        .and_then(|json| json.get("open").and_then(Value::as_u64));
    if !status.success() {
        eprintln!(
            "e2e: `{what}` failed ({status}); see {}",
            options.logs.display()
        );
    }
    eprintln!(
        "e2e: {} idle: {held} connections held, RSS {} KiB -> {} KiB",
        server.name,
        rss_before / 1024,
        rss_with / 1024
    );
    Ok(MemoryRow {
        server,
        rss_before,
        rss_with,
        held,
        reported_open,
    })
}

/// A child process that is killed and reaped when dropped, so no error path leaves one
/// running.
struct Process(Child);

impl Process {
    fn spawn(mut command: Command) -> Result<Process> {
        command
            .spawn()
            .map(Process)
            .map_err(|e| format!("cannot start `{command:?}`: {e}"))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn exited(&mut self) -> Result<Option<ExitStatus>> {
        self.0
            .try_wait()
            .map_err(|e| format!("cannot check process {}: {e}", self.pid()))
    }

    /// Waits for the process to end, at most `timeout`; past it, kills it and fails.
    fn wait(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "process {} still running after {timeout:?}; killed",
                    self.pid()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Already ended is fine: kill fails and wait reaps.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct RunningServer {
    server: Server,
    process: Process,
    /// The address it bound, from its `listening on ADDR` line.
    addr: String,
}

impl RunningServer {
    /// Fails if the server has exited (it should run until dropped).
    fn check_alive(&mut self) -> Result {
        match self.process.exited()? {
            None => Ok(()),
            Some(status) => Err(format!(
                "{} exited ({status}) during the run",
                self.server.name
            )),
        }
    }
}

/// Starts `server` on a free loopback port (pinned to CPU 1 with `--pin`), its stderr
/// appended to a log file, and waits for its `listening on ADDR` line.
fn start_server(options: &Options, server: Server) -> Result<RunningServer> {
    let log_path = options.logs.join(format!("{}.log", server.bin));
    let log = File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let mut command = pinned(options, &options.bin_dir.join(server.bin), "1");
    command
        .arg("127.0.0.1:0")
        .env(WORKERS_ENV, options.workers.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    let what = format!("{command:?}");
    let mut process = Process::spawn(command)?;
    let stdout = process.0.stdout.take().ok_or("no stdout pipe")?;
    // A thread reads the first line, so a server that never prints cannot hang us.
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(START_TIMEOUT)
        .map_err(|_| format!("`{what}` did not say where it listens within {START_TIMEOUT:?}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| {
            format!(
                "`{what}` printed {line:?}, not `listening on ADDR` (log: {})",
                log_path.display()
            )
        })?
        .to_owned();
    Ok(RunningServer {
        server,
        process,
        addr,
    })
}

/// User plus system CPU time of a process, all threads, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
    stat_ticks(&pid.to_string(), [14, 15])
}

/// User plus system CPU time of this process's children that have been waited for, in
/// clock ticks: its growth over a load run is the load generator's CPU time (the
/// servers are waited for only when they are dropped).
fn waited_children_ticks() -> Result<u64> {
    stat_ticks("self", [16, 17])
}

/// The sum of two time fields (numbered as in proc(5)) of `/proc/<who>/stat`.
fn stat_ticks(who: &str, fields: [usize; 2]) -> Result<u64> {
    let path = format!("/proc/{who}/stat");
    let stat = fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    sum_fields(&stat, fields).ok_or_else(|| format!("{path}: no fields {fields:?} in {stat:?}"))
}

/// The sum of two numeric fields of a `/proc/PID/stat` line, numbered from 1.
fn sum_fields(stat: &str, fields: [usize; 2]) -> Option<u64> {
    // Fields after the command name, which is in parentheses and may hold spaces and
    // parentheses itself; the first of them, the state, is field 3.
    let (_, after_name) = stat.rsplit_once(')')?;
    let values: Vec<&str> = after_name.split_whitespace().collect();
    fields.iter().try_fold(0, |sum, &n| {
        let value: u64 = values.get(n.checked_sub(3)?)?.parse().ok()?;
        Some(sum + value)
    })
}

/// Resident set size of a process, in bytes (`VmRSS`).
fn rss_bytes(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    vm_rss(&status).ok_or_else(|| format!("{path}: no VmRSS line"))
}

/// `VmRSS` of a `/proc/PID/status` text, in bytes.
fn vm_rss(status: &str) -> Option<u64> {
    let value = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?;
    let kb: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kb * 1024)
}

/// Open file descriptors of a process: its listener and runtime's few, plus one per
/// connection.
fn fd_count(pid: u32) -> Result<usize> {
    let path = format!("/proc/{pid}/fd");
    fs::read_dir(&path)
        .map(Iterator::count)
        .map_err(|e| format!("cannot read {path}: {e}"))
}

/// `CLK_TCK`, the unit of `/proc/PID/stat` times (100 on every common Linux).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The 1, 5 and 15 minute load averages, to show how busy the machine was.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn report(options: &Options, rows: &[Row], memory: &[MemoryRow], load_before: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# End-to-end echo benchmark\n");
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|name| name.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = thread::available_parallelism().map_or(0, usize::from);
    let _ = writeln!(
        out,
        "- Machine: {cpu}, {cores} CPUs; load average {load_before} at the start, {} at the end.",
        load_average()
    );
    let _ = writeln!(
        out,
        "- {} rounds of {} s per scenario, servers in rotated order; medians. Server runtime: \
         tokio multi-thread, {} worker(s).{}",
        options.rounds,
        options.seconds,
        options.workers,
        if options.pin {
            " Servers pinned to CPU 1, load generators to CPU 0."
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "- Load: `ws bench` for the WebSocket servers, `tcp-bench` (same loop, same bytes) for \
         the TCP echo. CPU µs/msg: server utime+stime per echoed message.\n"
    );
    if !rows.is_empty() {
        let columns = [
            "scenario",
            "server",
            "msgs/s",
            "MB/s",
            "p50 µs",
            "p99 µs",
            "CPU µs/msg",
            "CPU % server / generator",
            "msgs/s ÷ TCP",
            "CPU ÷ TCP",
            "msgs/s ÷ tokio-tungstenite",
            "msgs/s ÷ fastwebsockets",
            "errors",
        ];
        let _ = writeln!(out, "| {} |", columns.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(columns.len()));
        for row in rows {
            let other = |server: Server| {
                rows.iter()
                    .find(|r| r.scenario == row.scenario && r.server == server)
                    .map(|r| &r.median)
            };
            let ratio = |server: Server, value: fn(&Sample) -> f64| {
                other(server).map_or_else(
                    || "-".into(),
                    |o| format!("{:.2}x", value(&row.median) / value(o)),
                )
            };
            let m = &row.median;
            let _ = writeln!(
                out,
                "| {} | {}{} | {:.0} | {:.1} | {:.1} | {:.1} | {:.2} | {:.0} / {:.0} | {} | {} | {} | {} | {} |",
                row.scenario,
                row.server.name,
                if row.deflate { " (deflate)" } else { "" },
                m.msgs_per_sec,
                m.mb_per_sec,
                m.p50_us,
                m.p99_us,
                m.cpu_us_per_msg,
                m.server_cpu_percent,
                m.generator_cpu_percent,
                ratio(TCP, |s| s.msgs_per_sec),
                ratio(TCP, |s| s.cpu_us_per_msg),
                ratio(TUNGSTENITE, |s| s.msgs_per_sec),
                ratio(FASTWEBSOCKETS, |s| s.msgs_per_sec),
                m.errors,
            );
        }
    }
    if !memory.is_empty() {
        let _ = writeln!(
            out,
            "\n## Idle memory: {} connections (`ws bench --idle`), default settings\n",
            options.idle
        );
        let _ = writeln!(
            out,
            "| server | RSS before (KiB) | RSS with them (KiB) | held by the server | reported open | bytes per connection |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for row in memory {
            let per_connection = if row.held == 0 {
                "-".into()
            } else {
                format!(
                    "{:.0}",
                    row.rss_with.saturating_sub(row.rss_before) as f64 / row.held as f64
                )
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.server.name,
                row.rss_before / 1024,
                row.rss_with / 1024,
                row.held,
                row.reported_open
                    .map_or_else(|| "-".into(), |n| n.to_string()),
                per_connection,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
        // cmajflt utime stime cutime cstime ...
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 7 5 20 0 2";
        assert_eq!(sum_fields(stat, [14, 15]), Some(280));
        assert_eq!(sum_fields(stat, [16, 17]), Some(12));
        assert_eq!(sum_fields(stat, [14, 40]), None);
        assert_eq!(sum_fields(stat, [2, 14]), None);
        assert_eq!(sum_fields("no parenthesis 1 2 3", [3, 4]), None);
    }

    #[test]
    fn cpu_time_of_this_process_is_readable() {
        assert!(cpu_ticks(std::process::id()).is_ok());
        assert!(waited_children_ticks().is_ok());
    }

    #[test]
    fn rss_from_status() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    5188 kB\nThreads:\t2\n";
        assert_eq!(vm_rss(status), Some(5188 * 1024));
        assert_eq!(vm_rss("Name:\tx\n"), None);
        assert_eq!(vm_rss("VmRSS:\t12 pages\n"), None);
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }

    #[test]
    fn options() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = parse(
            args(&[
                "--ws",
                "/x/ws",
                "--rounds",
                "5",
                "--scenario",
                "64 KiB",
                "--no-memory",
            ])
            .into_iter(),
        )
        .unwrap();
        assert_eq!(options.ws, PathBuf::from("/x/ws"));
        assert_eq!(
            (options.rounds, options.seconds, options.workers),
            (5, 3, DEFAULT_WORKERS)
        );
        assert!(options.throughput && !options.memory);
        assert_eq!(
            SCENARIOS.iter().filter(|s| selected(&options, s)).count(),
            1
        );
        for (list, error) in [
            (&["--rounds", "3"][..], "--ws is required"),
            (&["--ws", "w", "--rounds"], "--rounds needs a value"),
            (
                &["--ws", "w", "--rounds", "0"],
                "expected a positive number",
            ),
            (
                &["--ws", "w", "--frobnicate", "1"],
                "unknown option --frobnicate",
            ),
        ] {
            let message = parse(args(list).into_iter()).err().unwrap();
            assert!(message.contains(error), "{list:?}: {message}");
        }
    }
}
