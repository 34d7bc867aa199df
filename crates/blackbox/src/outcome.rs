//! How a finished run ended, and the assertions on it: its exit status,
//! its stdout byte for byte, an `error:` line, a usage error.

use std::process::ExitStatus;
use std::time::Duration;

use crate::report::{self, diff_bytes, diff_bytes_ending};

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
    pub(crate) fn ending(&self, limit: Duration) -> String {
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
                "stdout ends there, and the program was still running when it was killed: it was still waiting — for more bytes, or for a close that never came".to_string()
            } else {
                match self.status {
                    Some(status) => {
                        format!("stdout ends there: the program {}", exit_words(status))
                    }
                    None => "got ends there".to_string(),
                }
            };
            panic!(
                "{what}: expected exit status 0 and exactly these bytes on stdout; {}, and stdout differs:\n{}",
                self.describe(),
                diff_bytes_ending(expected, &self.stdout, &ends),
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

/// How a program ended, in words: `exited with status 101 (a panic, in Rust)`.
fn exit_words(status: ExitStatus) -> String {
    match status.code() {
        Some(101) => "exited with status 101 (a panic, in Rust: see its stderr)".to_string(),
        Some(code) => format!("exited with status {code}"),
        None => format!("ended: {status}"),
    }
}
