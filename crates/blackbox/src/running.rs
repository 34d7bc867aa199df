//! A program that is running: its stdout lines as they come (each wait
//! with a deadline), its stderr, its stdin, its exit — and, when it is
//! dropped, its end: the whole process group is killed.

use std::net::SocketAddr;
use std::process::{ChildStdin, ExitStatus};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::process::Group;
use crate::report::{self, step, SharedTranscript};
use crate::{LINES_QUEUED, LINE_TIMEOUT};

/// A program that is running; it and its whole process group are killed
/// when it is dropped.
pub struct Running {
    pub(crate) command: String,
    pub(crate) group: Group,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) lines: Receiver<String>,
    pub(crate) seen: Vec<String>,
    pub(crate) transcript: SharedTranscript,
    pub(crate) readers: Vec<thread::JoinHandle<()>>,
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
        self.lines_until_hinted(what, "", wanted)
    }

    /// [`Running::lines_until`], with `hint` (what usually causes the line
    /// not to come) in the failure.
    #[track_caller]
    pub fn lines_until_hinted(
        &mut self,
        what: &str,
        hint: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Vec<String> {
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
                    let got = lines_that_came(&taken, skipped, last.drain(..).collect());
                    let hint = if hint.is_empty() {
                        String::new()
                    } else {
                        format!("\nHint: {hint}")
                    };
                    panic!(
                        "waited {:?} for {what} on the stdout of `{}`{ended}; {got}{hint}\n{}",
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
        self.wait_for_line_hinted(what, "", wanted)
    }

    /// [`Running::wait_for_line`], with `hint` in the failure.
    #[track_caller]
    pub fn wait_for_line_hinted(
        &mut self,
        what: &str,
        hint: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let line = self
            .lines_until_hinted(what, hint, wanted)
            .pop()
            .unwrap_or_default();
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

/// What came instead of the awaited line, for the failure: the lines (the
/// first and last 10 of many: `taken` holds the first ones, `last` the very
/// last after `skipped` more), and a word when they look like a loop.
fn lines_that_came(taken: &[String], skipped: usize, last: Vec<String>) -> String {
    if taken.is_empty() {
        return "no stdout line at all came in that time".to_string();
    }
    let mut shown = report::first_and_last(taken, 10, 10);
    if skipped > 0 {
        // taken is long: its first 10, then the very last 10.
        shown.truncate(10);
        shown.push(format!(
            "… ({} lines left out) …",
            taken.len() + skipped - 10 - last.len()
        ));
        shown.extend(last);
    }
    // A program saying the same thing over and over is stuck in a loop:
    // say so, in so many words.
    let repeated = shown
        .last()
        .filter(|line| {
            taken.len() + skipped >= 1000 && shown.iter().rev().take(10).all(|l| l == *line)
        })
        .map(|line| {
            format!("\n(its last lines are all `{line}`: a loop that never ends, saying the same thing?)")
        })
        .unwrap_or_default();
    format!(
        "these {} stdout lines came, and none of them is it:\n{}{repeated}",
        taken.len() + skipped,
        shown
            .iter()
            .map(|l| format!("  | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
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
    pub(crate) running: Running,
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
