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

//!
//! Nothing a test starts outlives it: every program runs in a process group
//! of its own, which is killed when the test is done with it, fails, panics,
//! or dies (see [`process`](crate::process) for how). And when a test fails,
//! it says what it did step by step, everything each program printed on both
//! streams, how to try it by hand, and where the lesson explains it (see
//! [`step`], [`repro`], [`see`]).

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

mod capture;
mod conn;
mod process;
mod report;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod stopped;
mod udp;
mod wire_view;

pub use conn::Conn;
pub use report::{diff_bytes, diff_bytes_ending, printf_arg, quietly, repro, see, step, text};
pub use udp::Udp;

use process::Group;
use report::SharedTranscript;

// The deadlines of the tests' waits. Each is shorter than the time limit
// scripts/grade gives a whole test (15 s, .config/nextest.toml), so a program
// that hangs fails the test with what it was waiting for, not a bare
// "stopped after 15 s".

/// How long a server may take to print `listening on` (a Python interpreter
/// starting on a loaded 2-core machine is the slow case).
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a one-shot command (a client) may run before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(8);
/// How long to wait for one expected log line.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// Stdout lines of a running program queued for the test to read.
const LINES_QUEUED: usize = 100_000;
/// Bytes of a one-shot run's stdout or stderr kept (more is read and
/// dropped, so the program never blocks on a full pipe).
const RUN_OUTPUT_KEPT: usize = 64 << 20;

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
        process::isolate(&mut command);
        command
    }

    /// Run the program with `args` (IMPL_<NAME> honoured) and check the
    /// result with assert_cmd and predicates:
    /// `tcp_echo().assert(["--help"]).success().stdout(mentions_all(&[…]))`.
    ///
    /// The run itself is blackbox's (see [`Program::run`]): its whole process
    /// group is killed at [`RUN_TIMEOUT`], which `assert_cmd::Command`'s own
    /// timeout cannot do (it kills the program only, and then waits for the
    /// pipes a forked helper still holds). A run that had to be killed fails
    /// here, saying so, before any predicate.
    #[track_caller]
    pub fn assert<I, S>(&self, args: I) -> assert_cmd::assert::Assert
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use assert_cmd::assert::OutputAssertExt;
        let outcome = self.run(args, b"");
        let Some(status) = outcome.status.filter(|_| !outcome.timed_out) else {
            panic!(
                "`{}` was still running after {RUN_TIMEOUT:?}, so it was killed; it should have finished long before (README, Conventions, rule 7).",
                outcome.command
            );
        };
        std::process::Output {
            status,
            stdout: outcome.stdout,
            stderr: outcome.stderr.into_bytes(),
        }
        .assert()
    }

    /// Run to completion with `stdin` as input; killed after [`RUN_TIMEOUT`].
    #[track_caller]
    pub fn run<I, S>(&self, args: I, stdin: &[u8]) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_with_timeout(args, stdin, RUN_TIMEOUT)
    }

    /// Run to completion with `stdin` as input; killed after `timeout`.
    #[track_caller]
    pub fn run_with_timeout<I, S>(&self, args: I, stdin: &[u8], timeout: Duration) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let shown = self.show_command(&args);
        step(if stdin.is_empty() {
            format!("run `{shown}`")
        } else {
            format!(
                "run `{shown}` with {} bytes on stdin: {}",
                stdin.len(),
                short_text(stdin)
            )
        });
        repro(if stdin.is_empty() || stdin.len() > 200 {
            self.repro_command(&args)
        } else {
            format!(
                "printf {} | {}",
                printf_arg(stdin),
                self.repro_command(&args)
            )
        });
        let mut command = self.command(&args);
        command.stdin(Stdio::piped());
        let mut group = match Group::spawn(command) {
            Ok(group) => group,
            Err(err) => panic!("cannot start `{shown}`: {err}"),
        };
        let transcript: SharedTranscript = Arc::default();
        report::program_started(&shown, &transcript);
        // Feed stdin and drain stdout/stderr on their own threads, so neither
        // side can block the other on a full pipe.
        let feeder = group.child.stdin.take().map(|mut pipe| {
            let input = stdin.to_vec();
            thread::spawn(move || {
                let _ = pipe.write_all(&input);
            })
        });
        let stdout = drain(group.child.stdout.take());
        let stderr = drain(group.child.stderr.take());
        let status = group.wait_until(Instant::now() + timeout);
        let timed_out = status.is_none();
        // Whatever it leaves behind in its process group goes with it.
        group.end();
        if let Some(feeder) = feeder {
            let _ = feeder.join();
        }
        let outcome = Outcome {
            command: shown,
            status,
            timed_out,
            stdout: stdout.join().unwrap_or_default(),
            stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
        };
        if let Ok(mut t) = transcript.lock() {
            t.stdout.push(&outcome.stdout);
            t.stderr.push(outcome.stderr.as_bytes());
            t.ended = Some(outcome.ending(timeout));
        }
        outcome
    }

    /// Start the program and return at once; read its output with the
    /// methods of [`Running`].
    #[track_caller]
    pub fn start<I, S>(&self, args: I) -> Running
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let shown = self.show_command(&args);
        step(format!("start `{shown}`"));
        repro(self.repro_command(&args));
        let mut command = self.command(&args);
        command.stdin(Stdio::piped());
        let mut group = match Group::spawn(command) {
            Ok(group) => group,
            Err(err) => panic!("cannot start `{shown}`: {err}"),
        };
        let transcript: SharedTranscript = Arc::default();
        report::program_started(&shown, &transcript);
        // Everything it prints is kept (the transcript); stdout lines are
        // also handed to the test one by one.
        // A bounded queue: a program that prints without end must not fill
        // the test's memory with lines the test never reads (the transcript
        // keeps the first and last of them; lines past the bound are not
        // handed to the test).
        let (sender, lines) = mpsc::sync_channel(LINES_QUEUED);
        let mut readers = Vec::new();
        if let Some(stdout) = group.child.stdout.take() {
            let transcript = Arc::clone(&transcript);
            readers.push(thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut test_listens = true;
                loop {
                    let mut line = Vec::new();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    if let Ok(mut t) = transcript.lock() {
                        t.stdout.push(&line);
                    }
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if test_listens {
                        match sender.try_send(String::from_utf8_lossy(&line).into_owned()) {
                            Ok(()) | Err(mpsc::TrySendError::Full(_)) => {}
                            Err(mpsc::TrySendError::Disconnected(_)) => test_listens = false,
                        }
                    }
                }
            }));
        }
        if let Some(mut pipe) = group.child.stderr.take() {
            let transcript = Arc::clone(&transcript);
            readers.push(thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut t) = transcript.lock() {
                        t.stderr.push(&chunk[..n]);
                    }
                }
            }));
        }
        Running {
            command: shown,
            stdin: group.child.stdin.take(),
            group,
            lines,
            seen: Vec::new(),
            transcript,
            readers,
        }
    }

    /// Start a server and wait until it prints `listening on ADDR`; the
    /// returned [`Server`] knows the address it really bound.
    ///
    /// Panics (failing the test) with everything the program printed if the
    /// line does not come within [`START_TIMEOUT`] or is not an address.
    #[track_caller]
    pub fn start_server<I, S>(&self, args: I) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut running = self.start(&args);
        let first = running.next_line(START_TIMEOUT);
        let Some(first) = first else {
            let status = running.wait_exit(Duration::from_millis(500));
            panic!(
                "started `{}` and waited {:?} for its first stdout line `listening on ADDR`; got nothing{}.\nHint: print it as soon as the socket is bound, and flush stdout (README, Conventions, rules 2 and 3).\n{}",
                running.command,
                START_TIMEOUT,
                match status {
                    Some(status) => format!(" (it exited: {status})"),
                    None => String::new(),
                },
                running.describe(),
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
        step(format!("it announced `{first}`"));
        // By hand, the server is started on the port it took here, so that
        // the commands after it can name that port.
        let on_that_port: Vec<OsString> = args
            .iter()
            .map(|arg| match arg.to_str() {
                Some("127.0.0.1:0" | "[::1]:0" | "0.0.0.0:0" | "[::]:0") => addr.to_string().into(),
                _ => arg.clone(),
            })
            .collect();
        report::replace_repro(
            &self.repro_command(&args),
            self.repro_command(&on_that_port),
        );
        Server { addr, running }
    }

    fn show_command(&self, args: &[OsString]) -> String {
        let shown = match &self.replacement {
            None => self.name.clone(),
            Some(line) => line.clone(),
        };
        with_args(shown, args)
    }

    /// The command a student types, in the workspace's top folder, to run
    /// the same thing by hand.
    fn repro_command(&self, args: &[OsString]) -> String {
        let program = match &self.replacement {
            None => format!("cargo run -q -p {} --", self.name),
            Some(line) => line.clone(),
        };
        with_args(program, args)
    }
}

/// `command` followed by `args`, quoted where a shell needs it.
fn with_args(command: String, args: &[OsString]) -> String {
    let mut shown = command;
    {
        for arg in args {
            shown.push(' ');
            let arg = arg.to_string_lossy();
            if arg.is_empty()
                || arg
                    .chars()
                    .any(|c| c.is_whitespace() || "'\"\\$`!*?;&|<>()[]{}#~".contains(c))
            {
                shown.push_str(&format!("'{}'", arg.replace('\'', "'\\''")));
            } else {
                shown.push_str(&arg);
            }
        }
    }
    shown
}

/// Up to 200 bytes by the TEXT rule, in quotes, for a step.
fn short_text(bytes: &[u8]) -> String {
    let controls = bytes
        .iter()
        .take(200)
        .filter(|b| **b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    if controls * 20 > bytes.len().min(200) {
        return format!(
            "{} bytes of binary data, starting \"{}\"…",
            bytes.len(),
            text(&bytes[..bytes.len().min(16)])
        );
    }
    if bytes.len() <= 200 {
        format!("\"{}\"", text(bytes))
    } else {
        format!("\"{}\"… ({} bytes)", text(&bytes[..200]), bytes.len())
    }
}

/// For a helper a test runs itself rather than through [`Program`] (a
/// script such as `scripts/lan-lab.sh`): on Linux, the kernel sends it
/// `SIGTERM` when the thread that starts it ends (the test's own thread, or
/// the whole test process, killed by a time limit or by `SIGKILL`), so a
/// script that cleans up on SIGTERM still does. A no-op elsewhere.
pub fn terminate_with_test(command: &mut Command) {
    process::terminate_with_spawning_thread(command);
}

/// Assert `got` is exactly `expected`; on failure show both by the TEXT
/// rule (README, Conventions, rule 6) with a marker at the first byte that
/// differs. `what` says what the test did, `hint` what usually causes it.
#[track_caller]
pub fn assert_bytes(what: &str, expected: &[u8], got: &[u8], hint: &str) {
    if expected != got {
        panic!(
            "{what}: the bytes differ:\n{}{}",
            diff_bytes(expected, got),
            if hint.is_empty() {
                String::new()
            } else {
                format!("\nHint: {hint}")
            }
        );
    }
}

/// A predicate for assert_cmd: the text contains every one of `words`
/// (`--help` output that must name each flag and default). On failure
/// assert_cmd shows the words that are missing, and the whole output.
pub fn mentions_all(words: &[&str]) -> MentionsAll {
    MentionsAll(words.iter().map(|w| w.to_string()).collect())
}

/// See [`mentions_all`].
#[derive(Debug)]
pub struct MentionsAll(Vec<String>);

impl std::fmt::Display for MentionsAll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mentions each of {}", self.0.join(", "))
    }
}

impl predicates::reflection::PredicateReflection for MentionsAll {}

impl predicates::Predicate<str> for MentionsAll {
    fn eval(&self, text: &str) -> bool {
        self.0.iter().all(|word| text.contains(word.as_str()))
    }

    fn find_case<'a>(
        &'a self,
        expected: bool,
        text: &str,
    ) -> Option<predicates::reflection::Case<'a>> {
        use predicates::reflection::{Case, Product};
        let result = self.eval(text);
        if result != expected {
            return None;
        }
        let missing: Vec<&str> = self
            .0
            .iter()
            .map(String::as_str)
            .filter(|word| !text.contains(word))
            .collect();
        Some(Case::new(Some(self), result).add_product(Product::new(
            "missing",
            if missing.is_empty() {
                "nothing".to_string()
            } else {
                missing.join(", ")
            },
        )))
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
            let mut chunk = vec![0u8; 64 << 10];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let room = RUN_OUTPUT_KEPT.saturating_sub(all.len());
                all.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
        all
    })
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

    /// How it ended, in words.
    fn ending(&self, limit: Duration) -> String {
        if self.timed_out {
            format!("still running after {limit:?}, so it was killed")
        } else {
            match self.status {
                Some(status) => format!("exited with {status}"),
                None => "did not finish".to_string(),
            }
        }
    }

    /// The command and how it ended, for a failure message. (Everything it
    /// printed follows the message: the failure report shows the whole
    /// transcript of every program the test ran.)
    pub fn describe(&self) -> String {
        let end = if self.timed_out {
            "was still running at its time limit, so it was killed".to_string()
        } else {
            match self.status {
                Some(status) => format!("exited with {status}"),
                None => "did not finish".to_string(),
            }
        };
        format!(
            "`{}` {end} (everything it printed is shown below)",
            self.command
        )
    }

    /// Everything it printed, by the TEXT rule (for a test's own report,
    /// where the failure report is not printed: a helper thread).
    pub fn transcript(&self) -> String {
        format!(
            "--- stdout of `{}` ---\n{}\n--- its stderr ---\n{}",
            self.command,
            report::show_output(&self.stdout),
            report::show_output(self.stderr.as_bytes())
        )
    }

    /// Assert it exited 0 with exactly `expected` on stdout; on failure show
    /// both by the TEXT rule with a marker at the first byte that differs.
    /// `what` says what the test did, `hint` what usually causes a mismatch.
    #[track_caller]
    pub fn assert_stdout(&self, expected: &[u8], what: &str, hint: &str) {
        if self.code() != Some(0) {
            let ends = if self.timed_out {
                "stdout ends there, and the program was still running when it was killed: it was still waiting — for more bytes, or for a close that never came"
            } else {
                "got ends there"
            };
            panic!(
                "{what}: expected exit status 0 and exactly these bytes on stdout; {}, and stdout differs:\n{}",
                self.describe(),
                diff_bytes_ending(expected, &self.stdout, ends),
            );
        }
        if self.stdout != expected {
            let hint = if hint.is_empty() {
                String::new()
            } else {
                format!("\nHint: {hint}")
            };
            panic!(
                "{what}: it exited 0, but stdout is not exactly the expected bytes:\n{}{hint}\n{}",
                diff_bytes(expected, &self.stdout),
                self.describe()
            );
        }
    }

    /// Assert the run failed the README way: exit status `code` and a first
    /// stderr line that starts with `error: `.
    #[track_caller]
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
    #[track_caller]
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

/// A program that is running; it and its whole process group are killed
/// when it is dropped.
pub struct Running {
    command: String,
    group: Group,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    transcript: SharedTranscript,
    readers: Vec<thread::JoinHandle<()>>,
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
    #[track_caller]
    pub fn lines_until(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + LINE_TIMEOUT;
        let mut taken = Vec::new();
        let mut skipped = 0usize;
        let mut last = std::collections::VecDeque::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Checked on every line: a program that prints without end must
            // not keep the test waiting past its deadline.
            let line = if left.is_zero() {
                None
            } else {
                self.next_line(left)
            };
            match line {
                Some(line) => {
                    let done = wanted(&line);
                    if taken.len() < LINES_QUEUED || done {
                        taken.push(line);
                    } else {
                        // A program printing without end: keep the first
                        // lines, and the last few for the message.
                        skipped += 1;
                        last.push_back(line);
                        if last.len() > 10 {
                            last.pop_front();
                        }
                    }
                    if done {
                        return taken;
                    }
                }
                None => {
                    let ended = match self.wait_exit(Duration::ZERO) {
                        Some(status) => format!(" (it exited: {status})"),
                        None => String::new(),
                    };
                    let got = if taken.is_empty() {
                        "no stdout line at all came in that time".to_string()
                    } else {
                        let mut shown = report::first_and_last(&taken, 10, 10);
                        if skipped > 0 {
                            // taken is long: its first 10, then the very last 10.
                            shown.truncate(10);
                            shown.push(format!(
                                "… ({} lines left out) …",
                                taken.len() + skipped - 10 - last.len()
                            ));
                            shown.extend(last.drain(..));
                        }
                        format!(
                            "these {} stdout lines came, and none of them is it:\n{}",
                            taken.len() + skipped,
                            shown
                                .iter()
                                .map(|l| format!("  | {l}"))
                                .collect::<Vec<_>>()
                                .join("\n")
                        )
                    };
                    panic!(
                        "waited {:?} for {what} on the stdout of `{}`{ended}; {got}\n{}",
                        LINE_TIMEOUT,
                        self.command,
                        self.describe()
                    )
                }
            }
        }
    }

    /// Wait for the first stdout line that satisfies `wanted` and return it.
    #[track_caller]
    pub fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let line = self.lines_until(what, wanted).pop().unwrap_or_default();
        step(format!("read {what}: `{line}`"));
        line
    }

    /// Every stdout line the test has read so far, in order.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Everything on stdout so far, whether the test read it or not.
    pub fn stdout_text(&self) -> String {
        let bytes = self
            .transcript
            .lock()
            .map(|t| t.stdout.bytes())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Everything on stderr so far.
    pub fn stderr_text(&self) -> String {
        let bytes = self
            .transcript
            .lock()
            .map(|t| t.stderr.bytes())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Wait for stderr to contain `needle`, up to [`LINE_TIMEOUT`].
    #[track_caller]
    pub fn wait_for_stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            let text = self.stderr_text();
            if text.contains(needle) {
                return text;
            }
            if Instant::now() >= deadline {
                panic!(
                    "waited {:?} for a line containing {needle:?} on the stderr of `{}`; none came.\n{}",
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
        let status = self.group.wait_until(Instant::now() + timeout);
        if let Some(status) = status {
            self.finished(format!("exited with {status}"));
        }
        status
    }

    /// Wait for the program to exit by itself and return its exit code;
    /// panics if it is still running after [`LINE_TIMEOUT`].
    #[track_caller]
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
        self.group.poll().is_none()
    }

    /// Stop it now: `SIGKILL` to its whole process group, then reap it.
    pub fn kill(&mut self) {
        let by_itself = self.group.end();
        if by_itself.is_none() {
            self.finished("killed by the test".to_string());
        }
    }

    /// The operating system's process id (also its process group's id).
    pub fn pid(&self) -> u32 {
        self.group.id()
    }

    /// Once it has ended: let the readers take the rest of its output
    /// (briefly: a grandchild could still hold a pipe) and note the end.
    fn finished(&mut self, how: String) {
        let deadline = Instant::now() + Duration::from_millis(500);
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        if let Ok(mut t) = self.transcript.lock() {
            if t.ended.is_none() {
                t.ended = Some(how);
            }
        }
    }

    /// The command line, for failure messages. (Everything it printed
    /// follows the message: the failure report shows the whole transcript of
    /// every program the test started.)
    pub fn describe(&self) -> String {
        format!("(everything `{}` printed is shown below)", self.command)
    }

    /// Everything it printed so far on both streams, not only the lines the
    /// test has read.
    pub fn transcript(&self) -> String {
        let (stdout, stderr) = self
            .transcript
            .lock()
            .map(|t| {
                (
                    report::show_capture(&t.stdout),
                    report::show_capture(&t.stderr),
                )
            })
            .unwrap_or_default();
        format!(
            "--- stdout of `{}` so far ---\n{stdout}\n--- its stderr ---\n{stderr}",
            self.command,
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stdin = None;
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

/// Start a helper thread of the test (a server the test plays, one of many
/// clients) that shares the test's log: its steps, the programs it starts
/// and its sockets' conversation are in the test's failure report and wire
/// drawing.
pub fn spawn<F, T>(f: F) -> thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let log = report::current_log();
    thread::spawn(move || {
        report::adopt(log);
        f()
    })
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
