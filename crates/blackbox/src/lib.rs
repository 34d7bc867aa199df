//! Drive the course programs from tests, as black boxes.
//!
//! Every integration test starts programs through this crate and nothing
//! else, so it talks to them only through the contract in README.md,
//! "Conventions": command-line arguments in, the `listening on ADDR` line and
//! log lines on stdout, `error: …` on stderr, the exit status.
//!
//! That is what lets the same tests grade another implementation. By default
//! a test runs the binary Cargo built; when the environment variable
//! `IMPL_<PROGRAM>` is set (`IMPL_TCP_ECHO` for `tcp-echo`), it runs that
//! command line instead, through `sh -c` in the workspace's top folder, with
//! the test's arguments appended:
//!
//! ```text
//! IMPL_TCP_ECHO='python3 lessons/01-tcp-transfer/tcp_echo.py' cargo test -p tcp-echo
//! ```
//!
//! Nothing here sleeps blindly: a server counts as started when its
//! `listening on` line arrives, and every wait has a deadline after which the
//! test fails with what the program printed so far.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print `listening on` (a Python interpreter
/// starting on a loaded 2-core machine is the slow case).
pub const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a one-shot command (a client) may run before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for one expected log line.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// `program!("tcp-echo")`: the program under test, from a test of the crate
/// that builds it (Cargo only tells a package's own tests where its binaries
/// are, through `CARGO_BIN_EXE_<name>`).
#[macro_export]
macro_rules! program {
    ($name:literal) => {
        $crate::Program::new($name, env!(concat!("CARGO_BIN_EXE_", $name)))
    };
}

/// A program under test: the built binary, or the command that replaces it.
#[derive(Clone, Debug)]
pub struct Program {
    name: String,
    built: OsString,
    replacement: Option<String>,
}

impl Program {
    /// The program `name`, built at `built`, unless `IMPL_<NAME>` names
    /// another command to run in its place.
    pub fn new(name: &str, built: impl AsRef<OsStr>) -> Program {
        let replacement = std::env::var(Self::override_variable(name))
            .ok()
            .filter(|command| !command.trim().is_empty());
        Program {
            name: name.to_string(),
            built: built.as_ref().to_os_string(),
            replacement,
        }
    }

    /// Another binary of the workspace, for a test in a different package
    /// (`Program::sibling("broadcast-send")` from broadcast-recv's tests).
    ///
    /// Cargo puts every binary in one directory (`target/debug`), the parent
    /// of the `deps/` folder the test executable runs from; `IMPL_<NAME>`
    /// still replaces it. Cargo builds it only when its own package is part
    /// of the build (`cargo test --workspace`, or `-p` naming both packages),
    /// so a missing binary fails the test with the command that builds it.
    /// (It may be stale if its package's sources changed since that build.)
    pub fn sibling(name: &str) -> Program {
        let exe = format!("{name}{}", std::env::consts::EXE_SUFFIX);
        let built = std::env::current_exe()
            .ok()
            .and_then(|test| Some(test.parent()?.parent()?.join(&exe)))
            .unwrap_or_else(|| exe.clone().into());
        let program = Program::new(name, &built);
        if program.replacement.is_none() && !built.is_file() {
            panic!(
                "this test also runs `{name}`, which is not built ({} does not exist): \
                 build it with `cargo build -p {name}`, or run `cargo test --workspace`, \
                 which builds every program first",
                built.display()
            );
        }
        program
    }

    /// The environment variable that replaces `name`: `IMPL_TCP_ECHO`.
    pub fn override_variable(name: &str) -> String {
        format!("IMPL_{}", name.to_uppercase().replace('-', "_"))
    }

    /// The program's name, as in `cargo run -p NAME`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A `Command` for this program with `args`; stdin is empty and stdout
    /// and stderr are captured unless the caller changes them.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = match &self.replacement {
            None => Command::new(&self.built),
            Some(line) => {
                let mut command = shell_command(&self.name, line);
                // Cargo runs each test in its package's folder; a replacement
                // names its files relative to the workspace root instead.
                command.current_dir(workspace_root());
                command
            }
        };
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Run to completion with `stdin` as input; killed after [`RUN_TIMEOUT`].
    pub fn run<I, S>(&self, args: I, stdin: &[u8]) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_with_timeout(args, stdin, RUN_TIMEOUT)
    }

    /// Run to completion with `stdin` as input; killed after `timeout`.
    pub fn run_with_timeout<I, S>(&self, args: I, stdin: &[u8], timeout: Duration) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let shown = self.show_command(&args);
        let mut command = self.command(&args);
        command.stdin(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => panic!("cannot start `{shown}`: {err}"),
        };
        // Feed stdin and drain stdout/stderr on their own threads, so neither
        // side can block the other on a full pipe.
        let feeder = child.stdin.take().map(|mut pipe| {
            let input = stdin.to_vec();
            thread::spawn(move || {
                let _ = pipe.write_all(&input);
            })
        });
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait_until(&mut child, Instant::now() + timeout);
        let timed_out = status.is_none();
        if timed_out {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(feeder) = feeder {
            let _ = feeder.join();
        }
        Outcome {
            command: shown,
            status,
            timed_out,
            stdout: stdout.join().unwrap_or_default(),
            stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
        }
    }

    /// Start the program and return at once; read its output with the
    /// methods of [`Running`].
    pub fn start<I, S>(&self, args: I) -> Running
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let shown = self.show_command(&args);
        let mut command = self.command(&args);
        command.stdin(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => panic!("cannot start `{shown}`: {err}"),
        };
        let (sender, lines) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            thread::spawn(move || {
                for line in BufReader::new(stdout).split(b'\n') {
                    let Ok(mut line) = line else { break };
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if sender
                        .send(String::from_utf8_lossy(&line).into_owned())
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let stderr = Arc::clone(&stderr);
            thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut all) = stderr.lock() {
                        all.extend_from_slice(&chunk[..n]);
                    }
                }
            });
        }
        Running {
            command: shown,
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
            stderr,
            status: None,
        }
    }

    /// Start a server and wait until it prints `listening on ADDR`; the
    /// returned [`Server`] knows the address it really bound.
    ///
    /// Panics (failing the test) with everything the program printed if the
    /// line does not come within [`START_TIMEOUT`] or is not an address.
    pub fn start_server<I, S>(&self, args: I) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut running = self.start(args);
        let first = running.next_line(START_TIMEOUT);
        let Some(first) = first else {
            let status = running.wait_exit(Duration::from_millis(500));
            panic!(
                "started `{}` and waited {:?} for its first stdout line `listening on ADDR`; got nothing{}.\nstderr: {}",
                running.command,
                START_TIMEOUT,
                match status {
                    Some(status) => format!(" (it exited: {status})"),
                    None => String::new(),
                },
                running.stderr_text().trim_end(),
            );
        };
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|rest| rest.trim().parse::<SocketAddr>().ok());
        let Some(addr) = addr else {
            panic!(
                "started `{}`: its first stdout line must be exactly `listening on ADDR` (README, Conventions, rule 2); got {first:?}",
                running.command
            );
        };
        Server { addr, running }
    }

    fn show_command(&self, args: &[OsString]) -> String {
        let mut shown = match &self.replacement {
            None => self.name.clone(),
            Some(line) => line.clone(),
        };
        for arg in args {
            shown.push(' ');
            let arg = arg.to_string_lossy();
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                shown.push_str(&format!("'{arg}'"));
            } else {
                shown.push_str(&arg);
            }
        }
        shown
    }
}

/// The workspace's top folder (where README.md and `lessons/` are).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

#[cfg(unix)]
fn shell_command(name: &str, line: &str) -> Command {
    // `exec` so that the pid we hold is the program's own and a kill reaches
    // it; "$@" passes the test's arguments through untouched.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("exec {line} \"$@\""))
        .arg(name);
    command
}

#[cfg(not(unix))]
fn shell_command(_name: &str, line: &str) -> Command {
    let mut words = line.split_whitespace();
    let mut command = Command::new(words.next().unwrap_or_default());
    command.args(words);
    command
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut all = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut all);
        }
        all
    })
}

fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => return None,
        }
    }
}

/// What a finished run printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// The exit status; `None` if it was killed for taking too long.
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Outcome {
    /// The exit code, if it exited (rather than being killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Everything about the run, for a failure message.
    pub fn describe(&self) -> String {
        let end = if self.timed_out {
            "was killed after the time limit".to_string()
        } else {
            match self.status {
                Some(status) => format!("exited with {status}"),
                None => "did not finish".to_string(),
            }
        };
        let mut stdout = match std::str::from_utf8(&self.stdout) {
            Ok(text) => text.to_string(),
            Err(_) => format!("({} bytes, not UTF-8 text)", self.stdout.len()),
        };
        if stdout.len() > 2000 {
            stdout.truncate(stdout.floor_char_boundary_compat(2000));
            stdout.push('…');
        }
        format!(
            "`{}` {end}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            stdout.trim_end(),
            self.stderr.trim_end()
        )
    }

    /// Assert the run failed the README way: exit status `code` and a first
    /// stderr line that starts with `error: `.
    pub fn assert_error(&self, code: i32) -> &str {
        assert_eq!(
            self.code(),
            Some(code),
            "expected exit status {code} and an `error: …` line\n{}",
            self.describe()
        );
        let line = self.stderr.lines().next().unwrap_or("");
        assert!(
            line.starts_with("error: "),
            "expected stderr to start with `error: <what> <address>: <reason>`\n{}",
            self.describe()
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "a failure must be one `error:` line, never a panic\n{}",
            self.describe()
        );
        line
    }
}

impl Outcome {
    /// Assert bad usage (README, Conventions, rule 4): exit status 2, an
    /// error message on stderr, no panic or traceback, nothing on stdout.
    /// Judged by the status and not by the first line, so that Python's
    /// argparse (`usage: …` then `prog: error: …`) passes as well as clap's
    /// `error: …`. Returns stderr.
    pub fn assert_usage_error(&self, what: &str) -> String {
        assert_eq!(
            self.code(),
            Some(2),
            "{what}: bad usage must exit with status 2 (README, Conventions, rule 4)\n{}",
            self.describe()
        );
        assert!(
            self.stderr.to_lowercase().contains("error")
                && !self.stderr.contains("panicked")
                && !self.stderr.contains("Traceback"),
            "{what}: expected an error message on stderr, and no panic or traceback\n{}",
            self.describe()
        );
        assert!(
            self.stdout.is_empty(),
            "{what}: a refused command must do nothing, and print nothing on stdout\n{}",
            self.describe()
        );
        self.stderr.clone()
    }
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorCharBoundary for String {
    fn floor_char_boundary_compat(&self, mut index: usize) -> usize {
        while index > 0 && !self.is_char_boundary(index) {
            index -= 1;
        }
        index
    }
}

/// A program that is running; killed when dropped.
pub struct Running {
    command: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    status: Option<ExitStatus>,
}

impl Running {
    /// The next stdout line, or `None` if none comes within `timeout` (or the
    /// program closed its stdout).
    pub fn next_line(&mut self, timeout: Duration) -> Option<String> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => {
                self.seen.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Read stdout lines until one satisfies `wanted`; return them all, the
    /// matching one last. Panics with `what` and the output so far if no such
    /// line comes within [`LINE_TIMEOUT`].
    pub fn lines_until(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + LINE_TIMEOUT;
        let mut taken = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Some(line) => {
                    let done = wanted(&line);
                    taken.push(line);
                    if done {
                        return taken;
                    }
                }
                None => panic!(
                    "waited {:?} for {what} from `{}`; it did not come.\n{}",
                    LINE_TIMEOUT,
                    self.command,
                    self.describe()
                ),
            }
        }
    }

    /// Wait for the first stdout line that satisfies `wanted` and return it.
    pub fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        self.lines_until(what, wanted).pop().unwrap_or_default()
    }

    /// Every stdout line read so far, in order.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Everything on stderr so far.
    pub fn stderr_text(&self) -> String {
        let bytes = self.stderr.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Wait for stderr to contain `needle`, up to [`LINE_TIMEOUT`].
    pub fn wait_for_stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            let text = self.stderr_text();
            if text.contains(needle) {
                return text;
            }
            if Instant::now() >= deadline {
                panic!(
                    "waited {:?} for {needle:?} on the stderr of `{}`; it did not come.\n{}",
                    LINE_TIMEOUT,
                    self.command,
                    self.describe()
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// The program's stdin (its pipe closes when this `Running` is dropped,
    /// or with [`Running::close_stdin`]).
    pub fn stdin(&mut self) -> Option<&mut ChildStdin> {
        self.stdin.as_mut()
    }

    /// Close the program's stdin: it reads end of file.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Wait up to `timeout` for the program to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = wait_until(&mut self.child, Instant::now() + timeout);
        }
        self.status
    }

    /// Wait for the program to exit by itself and return its exit code;
    /// panics if it is still running after [`LINE_TIMEOUT`].
    pub fn expect_exit(&mut self) -> Option<i32> {
        match self.wait_exit(LINE_TIMEOUT) {
            Some(status) => status.code(),
            None => panic!(
                "expected `{}` to exit by itself within {:?}; it is still running.\n{}",
                self.command,
                LINE_TIMEOUT,
                self.describe()
            ),
        }
    }

    /// Is it still running?
    pub fn is_running(&mut self) -> bool {
        self.status.is_none() && matches!(self.child.try_wait(), Ok(None))
    }

    /// Stop it now (SIGKILL).
    pub fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// The operating system's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The command line and the output so far, for failure messages.
    pub fn describe(&self) -> String {
        let mut recent: Vec<&str> = self
            .seen
            .iter()
            .rev()
            .take(30)
            .map(String::as_str)
            .collect();
        recent.reverse();
        format!(
            "--- last stdout lines of `{}` ---\n{}\n--- stderr ---\n{}",
            self.command,
            recent.join("\n"),
            self.stderr_text().trim_end()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server that announced `listening on ADDR`.
pub struct Server {
    /// The address from its `listening on` line.
    pub addr: SocketAddr,
    running: Running,
}

impl std::ops::Deref for Server {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.running
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.running
    }
}

/// A loopback address where nothing listens right now: a port the OS just
/// handed out and took back. (Good for "connection refused" tests; another
/// process could take it in between, which on a test machine it does not.)
pub fn closed_port_addr() -> SocketAddr {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr,
        Err(err) => panic!("cannot bind 127.0.0.1:0 to find a free port: {err}"),
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), so tests can send binary
/// data — every byte value, in no pattern — without a dependency.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        bytes.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_variable_names_follow_the_program() {
        assert_eq!(Program::override_variable("tcp-echo"), "IMPL_TCP_ECHO");
        assert_eq!(Program::override_variable("mini-http"), "IMPL_MINI_HTTP");
    }

    #[test]
    fn random_bytes_cover_every_value_and_repeat_per_seed() {
        let bytes = random_bytes(1 << 16, 7);
        let mut seen = [false; 256];
        for b in &bytes {
            seen[*b as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(bytes, random_bytes(1 << 16, 7));
        assert_ne!(bytes, random_bytes(1 << 16, 8));
    }
}
