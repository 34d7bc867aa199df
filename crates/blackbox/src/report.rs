//! What a failed test tells the student.
//!
//! Each test thread keeps a log: the steps the test took ([`step`], also
//! printed as they happen, `step 3: client 1: sent 5 bytes: "first"`), every
//! program it started with everything that program printed on both streams,
//! and commands that reproduce the test by hand ([`repro`]). When the test
//! fails (any panic in the test's thread: an `assert!`, a deadline), a panic
//! hook prints that log under the failure message, followed by the line of
//! the lesson's "What the tests check" list that names the test, with a link
//! to the lesson section ([`see`]) that explains the behaviour.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once, Weak};

use crate::capture::Capture;
use crate::text::text;

/// What one program printed, shared with the threads that read its pipes.
#[derive(Default)]
pub(crate) struct Transcript {
    pub stdout: Capture,
    pub stderr: Capture,
    /// How it ended, once it has.
    pub ended: Option<String>,
}

pub(crate) type SharedTranscript = Arc<Mutex<Transcript>>;

/// One test's log: what a failure report is made of. The test's thread and
/// the helper threads it starts with [`spawn`](crate::spawn) share it.
pub(crate) struct Log {
    /// The test's name (its thread's), for the lesson's line and the SVG.
    pub test: String,
    steps: Vec<String>,
    programs: Vec<(String, SharedTranscript)>,
    repro: Vec<String>,
    sections: Vec<String>,
    /// What the test's own sockets did, for the wire view.
    pub wire: Vec<wire::Event>,
    /// The report was printed (by the first panic, or at the time limit).
    reported: bool,
}

pub(crate) type SharedLog = Arc<Mutex<Log>>;

thread_local! {
    static LOG: RefCell<Option<SharedLog>> = const { RefCell::new(None) };
    static QUIET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Every test log of this process, for the report printed when the
/// grader's time limit stops the test (see [`install_hook`]).
static LOGS: Mutex<Vec<Weak<Mutex<Log>>>> = Mutex::new(Vec::new());

/// This thread's test log, made on first use.
pub(crate) fn current_log() -> Option<SharedLog> {
    LOG.try_with(|log| {
        log.borrow_mut()
            .get_or_insert_with(|| {
                let test = std::thread::current()
                    .name()
                    .unwrap_or("test")
                    .rsplit("::")
                    .next()
                    .unwrap_or("test")
                    .to_string();
                // A drawing left by an earlier run of this test goes: if
                // the test fails again it draws a new one, if it passes
                // there is nothing to draw. (Not for an unnamed helper
                // thread: it is no test.)
                if std::thread::current().name().is_some() {
                    crate::wire_view::forget(&test);
                }
                let log = Arc::new(Mutex::new(Log {
                    test,
                    steps: Vec::new(),
                    programs: Vec::new(),
                    repro: Vec::new(),
                    sections: Vec::new(),
                    wire: Vec::new(),
                    reported: false,
                }));
                if let Ok(mut all) = LOGS.lock() {
                    all.retain(|l| l.strong_count() > 0);
                    all.push(Arc::downgrade(&log));
                }
                log
            })
            .clone()
    })
    .ok()
}

/// Make `log` this thread's test log (a helper thread of the test).
pub(crate) fn adopt(log: Option<SharedLog>) {
    let _ = LOG.try_with(|mine| *mine.borrow_mut() = log);
}

/// Do `f` with this thread's log.
pub(crate) fn with_log<T>(f: impl FnOnce(&mut Log) -> T) -> Option<T> {
    let log = current_log()?;
    let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Some(f(&mut log))
}

fn quiet() -> bool {
    QUIET.try_with(|q| q.get() > 0).unwrap_or(false)
}

/// Record a step of the test (`connect to 127.0.0.1:40123`): printed on
/// stderr at once, which the test harness shows if the test fails or is
/// stopped by a time limit.
pub fn step(text: impl Into<String>) {
    install_hook();
    if quiet() {
        return;
    }
    let text = text.into();
    // Printed as it happens (the test harness shows it only if the test
    // fails), so that even a test stopped by the grader's time limit shows
    // what it was doing.
    with_log(|log| {
        log.steps.push(text);
        if let Some(last) = log.steps.last() {
            eprintln!("step {}: {last}", log.steps.len());
        }
    });
}

/// Record a shell command that repeats what the test did, by hand
/// (`printf 'hello' | nc -N 127.0.0.1 40123`), shown if it fails.
pub fn repro(command: impl Into<String>) {
    install_hook();
    if quiet() {
        return;
    }
    let command = command.into();
    with_log(|log| {
        if !log.repro.contains(&command) {
            log.repro.push(command);
        }
    });
}

/// Replace the repro line `old` (a server started on port 0) with `new`
/// (the same command on the port it really took), so the lines after it
/// can name that port.
pub(crate) fn replace_repro(old: &str, new: String) {
    with_log(|log| {
        if let Some(line) = log.repro.iter_mut().rev().find(|l| *l == old) {
            *line = new;
        }
    });
}

/// Run `f` without logging its steps (many similar steps the test logs once
/// itself, such as opening 100 connections).
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let _ = QUIET.try_with(|q| q.set(q.get() + 1));
    let result = f();
    let _ = QUIET.try_with(|q| q.set(q.get().saturating_sub(1)));
    result
}

/// Name the lesson section that explains what this test checks, relative to
/// the workspace: `lessons/01-tcp-transfer/README.md#many-clients-at-once`.
pub fn see(section: &str) {
    install_hook();
    let section = section.to_string();
    with_log(|log| {
        if !log.sections.contains(&section) {
            log.sections.push(section);
        }
    });
}

pub(crate) fn program_started(command: &str, transcript: &SharedTranscript) {
    install_hook();
    with_log(|log| {
        log.programs
            .push((command.to_string(), Arc::clone(transcript)))
    });
}

/// Install (once per process) what prints the test's log when it fails:
///
/// - a panic hook (an `assert!`, a deadline): it runs before unwinding, so
///   the programs are still running and their output so far is all there;
/// - on Unix, a `SIGTERM` handler: the grader's time limit stops a test
///   with `SIGTERM` (then `SIGKILL` a second later), and a test stopped
///   that way prints its report too — everything each program printed up
///   to that moment — before it exits. Its programs die with it.
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let Some(log) = LOG.try_with(|log| log.borrow().clone()).ok().flatten() else {
                previous(info);
                return;
            };
            // Rust's own panic message, then the report, then the backtrace:
            // a reader (and the grader, which cuts the backtrace) meets what
            // the programs printed before the stack frames.
            let thread = std::thread::current();
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            eprintln!(
                "\nthread '{}' panicked{at}:\n{message}",
                thread.name().unwrap_or("<unnamed>")
            );
            print_report(&log, None);
            let backtrace = std::backtrace::Backtrace::capture();
            match backtrace.status() {
                std::backtrace::BacktraceStatus::Captured => {
                    eprintln!("stack backtrace:\n{backtrace}")
                }
                _ => eprintln!(
                    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
                ),
            }
        }));
        #[cfg(any(target_os = "linux", target_os = "android"))]
        crate::stopped::on_sigterm(|| {
            let logs: Vec<SharedLog> = LOGS
                .lock()
                .map(|all| all.iter().filter_map(Weak::upgrade).collect())
                .unwrap_or_default();
            for log in logs {
                print_report(
                    &log,
                    Some("the test was stopped by its time limit (SIGTERM); here is what it had seen"),
                );
            }
        });
    });
}

/// Print `log`'s report on stderr, once.
fn print_report(log: &SharedLog, heading: Option<&str>) {
    // A test thread that holds the lock while it is stopped must not keep
    // the report from being printed: wait briefly, then take it anyway.
    let mut log = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
        loop {
            match log.try_lock() {
                Ok(guard) => break guard,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                Err(std::sync::TryLockError::WouldBlock) => return,
            }
        }
    };
    // A log with no step and no program is a helper thread's that the test
    // did not share its log with (std::thread::spawn): nothing to tell.
    if log.reported || (log.steps.is_empty() && log.programs.is_empty()) {
        return;
    }
    log.reported = true;
    // The drawing first (compact, and what a reader looks at next), then
    // what the programs printed, how to repeat it, where to read about it.
    let mut report = crate::wire_view::render(&log.test, &log.wire);
    report.push_str(&render(&log));
    if !report.is_empty() {
        if let Some(heading) = heading {
            eprintln!("\n--- {heading} ---");
        }
        eprintln!("{report}");
    }
}

/// Lines shown from the start and from the end of a long list.
const FIRST_LINES: usize = 20;
const LAST_LINES: usize = 20;

/// A list of lines for a report: all of them if there are few, else the
/// first and last ones with the count left out between them.
pub(crate) fn first_and_last(lines: &[String], first: usize, last: usize) -> Vec<String> {
    if lines.len() <= first + last + 1 {
        return lines.to_vec();
    }
    let mut out = lines[..first].to_vec();
    out.push(format!(
        "… ({} lines left out) …",
        lines.len() - first - last
    ));
    out.extend_from_slice(&lines[lines.len() - last..]);
    out
}

/// The log as a student reads it; empty when there is nothing to say.
fn render(log: &Log) -> String {
    let mut out = String::new();
    if log.steps.is_empty() && log.programs.is_empty() {
        return out;
    }
    for (command, transcript) in &log.programs {
        let Ok(transcript) = transcript.lock() else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n--- everything `{command}` printed{} ---",
            match &transcript.ended {
                Some(end) => format!(" ({end})"),
                None => " so far (still running)".to_string(),
            }
        );
        let _ = writeln!(
            out,
            "stdout:\n{}",
            indent(&show_capture(&transcript.stdout))
        );
        let _ = writeln!(
            out,
            "stderr:\n{}",
            indent(&show_capture(&transcript.stderr))
        );
    }
    if !log.repro.is_empty() {
        out.push_str("\n--- to try it by hand (in the workspace's top folder; each line in a terminal of its own) ---\n");
        for line in first_and_last(&log.repro, FIRST_LINES, LAST_LINES) {
            let _ = writeln!(out, "  {line}");
        }
    }
    let lesson = lesson_reference(&log.test);
    if !log.sections.is_empty() || lesson.is_some() {
        out.push_str("\n--- read about it ---\n");
        for section in &log.sections {
            let _ = writeln!(out, "  {section}");
        }
        if let Some((path, line)) = lesson {
            let _ = writeln!(out, "  {path}#what-the-tests-check says:\n  {line}");
        }
    }
    out
}

/// A captured stream for a report: [`show_output`] of all of it, or of its
/// first and last lines with the count left out between them.
pub(crate) fn show_capture(capture: &Capture) -> String {
    match capture.cut_view(FIRST_LINES, LAST_LINES) {
        None => show_output(&capture.bytes()),
        Some((first, left_out, last)) => format!(
            "{}\n… ({left_out} lines left out) …\n{}",
            show_output(&first),
            show_output(&last)
        ),
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A program's output for a report: its lines by the TEXT rule, the first
/// and last ones if there are many.
pub(crate) fn show_output(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(nothing)".to_string();
    }
    let text_like = bytes
        .iter()
        .filter(|b| **b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'))
        .count()
        * 20
        < bytes.len().max(1);
    if !text_like {
        return format!(
            "({} bytes of binary data, starting: {})",
            bytes.len(),
            text(&bytes[..bytes.len().min(64)])
        );
    }
    let lines: Vec<String> = bytes
        .split(|b| *b == b'\n')
        .map(|line| {
            let mut shown = text(line.strip_suffix(b"\r").unwrap_or(line));
            if shown.chars().count() > 300 {
                shown = shown.chars().take(300).collect::<String>() + "…";
            }
            shown
        })
        .collect();
    let lines = match lines.last() {
        Some(last) if last.is_empty() => &lines[..lines.len() - 1],
        _ => &lines[..],
    };
    first_and_last(lines, FIRST_LINES, LAST_LINES).join("\n")
}

/// The line of the lesson's "What the tests check" list that names the
/// running test: the test binary `lesson01-…` belongs to `lessons/01-*`, and
/// the test's thread carries its name.
fn lesson_reference(test: &str) -> Option<(String, String)> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_name()?.to_string_lossy().into_owned();
    let number: String = stem
        .strip_prefix("lesson")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if number.is_empty() {
        return None;
    }
    let lessons = crate::workspace_root().join("lessons");
    let folder: PathBuf = std::fs::read_dir(&lessons)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(&format!("{number}-")))
        })?;
    let readme = std::fs::read_to_string(folder.join("README.md")).ok()?;
    let wanted = format!("- `{test}`");
    let mut found: Option<String> = None;
    for line in readme.lines() {
        match &mut found {
            None if line.trim_start().starts_with(&wanted) => found = Some(line.trim().into()),
            // The item goes on in indented lines.
            Some(item) if line.starts_with("  ") && !line.trim().is_empty() => {
                item.push(' ');
                item.push_str(line.trim());
            }
            Some(_) => break,
            None => {}
        }
    }
    let relative = format!(
        "lessons/{}/README.md",
        folder.file_name()?.to_string_lossy()
    );
    Some((relative, found?))
}

/// `expected` and `got` one above the other, by the TEXT rule, with a `^`
/// under the first byte that differs (around it only, for long data), and
/// their lengths. Empty if they are equal.
pub fn diff_bytes(expected: &[u8], got: &[u8]) -> String {
    diff_bytes_ending(expected, got, "got ends there")
}

/// [`diff_bytes`], saying why `got` ended short where it does
/// (`nothing more came: it never closed the connection`): a short answer is
/// not always lost data.
pub fn diff_bytes_ending(expected: &[u8], got: &[u8], ends: &str) -> String {
    if expected == got {
        return String::new();
    }
    let at = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    // Show a window around the first difference: 40 bytes before, 40 after.
    let start = at.saturating_sub(40);
    let window = |bytes: &[u8]| {
        let end = (at + 40).min(bytes.len());
        let start = start.min(bytes.len());
        let mut shown = String::new();
        if start > 0 {
            shown.push('…');
        }
        shown.push_str(&text(&bytes[start..end]));
        if end < bytes.len() {
            shown.push('…');
        }
        shown
    };
    let lead = usize::from(start > 0)
        + text(&expected[start.min(expected.len())..at.min(expected.len())])
            .chars()
            .count();
    let labels = [
        format!("expected ({} bytes): ", expected.len()),
        format!("got ({} bytes): ", got.len()),
    ];
    let width = labels.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "  {:<width$}{}", labels[0], window(expected));
    let _ = writeln!(out, "  {:<width$}{}", labels[1], window(got));
    let label_width = 2 + width;
    let _ = write!(
        out,
        "{}^ first difference at byte {at}{}",
        " ".repeat(label_width + lead),
        if at >= got.len() {
            format!(" ({ends})")
        } else if at >= expected.len() {
            " (got more than expected)".to_string()
        } else {
            String::new()
        }
    );
    out
}

/// A shell-quoted `printf` argument that prints exactly `bytes`
/// (for `printf 'ARG' | nc …` lines).
pub fn printf_arg(bytes: &[u8]) -> String {
    let mut out = String::from("'");
    for &b in bytes {
        match b {
            b'\'' => out.push_str("'\\''"),
            b'%' => out.push_str("%%"),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_the_first_differing_byte() {
        let shown = diff_bytes(b"hello world", b"hello wor");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[0], "  expected (11 bytes): hello world");
        assert_eq!(lines[1], "  got (9 bytes):       hello wor");
        let caret = lines[2].find('^').unwrap();
        assert_eq!(&lines[0][caret..caret + 1], "l");
        assert!(lines[2].ends_with("first difference at byte 9 (got ends there)"));
        assert!(diff_bytes(b"same", b"same").is_empty());
    }

    #[test]
    fn diff_of_long_data_shows_a_window() {
        let expected = vec![b'a'; 10_000];
        let mut got = expected.clone();
        got[5000] = b'\n';
        let shown = diff_bytes(&expected, &got);
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[2].chars().position(|c| c == '^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('\\'));
        assert_eq!(lines[0].chars().nth(caret), Some('a'));
        assert!(lines[2].contains("byte 5000"));
        assert!(lines[0].len() < 200);
    }

    #[test]
    fn printf_arg_round_trips_through_printf() {
        let bytes = b"it's 100% \\ \n\x00\xff\x7f end";
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf {}", printf_arg(bytes)))
            .output();
        if let Ok(out) = out {
            assert_eq!(out.stdout, bytes);
        }
    }
}
