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

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::thread;
use std::time::Duration;

// Starting a program, a running program, how a run ended:
mod outcome;
mod program;
mod running;
// The test's own sockets, recorded:
mod conn;
mod record;
mod udp;
// What a failure shows:
mod capture;
mod report;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod stopped;
mod text;
mod wire_view;
// Nothing a test starts outlives it:
mod process;

pub use conn::Conn;
pub use outcome::Outcome;
pub use program::Program;
pub use report::{diff_bytes, diff_bytes_ending, printf_arg, quietly, repro, see, step};
pub use running::{Running, Server};
pub use text::text;
pub use udp::Udp;

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
pub(crate) const LINES_QUEUED: usize = 100_000;
/// Bytes of a one-shot run's stdout or stderr kept (more is read and
/// dropped, so the program never blocks on a full pipe).
pub(crate) const RUN_OUTPUT_KEPT: usize = 64 << 20;

/// `program!("tcp-echo")`: the program under test, from a test of the crate
/// that builds it (Cargo only tells a package's own tests where its binaries
/// are, through `CARGO_BIN_EXE_<name>`).
#[macro_export]
macro_rules! program {
    ($name:literal) => {
        $crate::Program::new($name, env!(concat!("CARGO_BIN_EXE_", $name)))
    };
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
///
/// Cargo and nextest tell a running test its package's folder
/// (`CARGO_MANIFEST_DIR`, `crates/NAME`): that is the checkout the test runs
/// in, even when its binary was built from another checkout that shares
/// one `CARGO_TARGET_DIR` (Cargo may reuse it). Without it, the folder
/// blackbox was built in.
pub fn workspace_root() -> std::path::PathBuf {
    let top = |manifest: &std::path::Path| {
        manifest
            .ancestors()
            .nth(2)
            .map(std::path::Path::to_path_buf)
    };
    std::env::var_os("CARGO_MANIFEST_DIR")
        .and_then(|dir| top(std::path::Path::new(&dir)))
        .filter(|root| root.join("lessons").is_dir())
        .or_else(|| top(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))))
        .unwrap_or_else(|| std::path::PathBuf::from("."))
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
