//! Starting a program under test: the built binary, or the command that
//! replaces it (`IMPL_<PROGRAM>`), run to completion ([`Program::run`]) or
//! started to talk to ([`Program::start`], [`Program::start_server`]).

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::outcome::Outcome;
use crate::process::{self, Group};
use crate::report::{self, printf_arg, repro, step, SharedTranscript};
use crate::running::{Running, Server};
use crate::text::text;
use crate::{workspace_root, LINES_QUEUED, RUN_OUTPUT_KEPT, RUN_TIMEOUT, START_TIMEOUT};

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

    /// Run the program with `args` (`IMPL_<NAME>` honoured) and check the
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
        let (mut group, transcript) = self.spawn_with_transcript(&args, &shown);
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

    /// Start the program in a process group of its own, stdin a pipe, and
    /// register its transcript (what it prints, for the test's report);
    /// panics if it cannot be started.
    #[track_caller]
    fn spawn_with_transcript(&self, args: &[OsString], shown: &str) -> (Group, SharedTranscript) {
        let mut command = self.command(args);
        command.stdin(Stdio::piped());
        let group = match Group::spawn(command) {
            Ok(group) => group,
            Err(err) => panic!("cannot start `{shown}`: {err}"),
        };
        let transcript: SharedTranscript = Arc::default();
        report::program_started(shown, &transcript);
        (group, transcript)
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
        let (mut group, transcript) = self.spawn_with_transcript(&args, &shown);
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
