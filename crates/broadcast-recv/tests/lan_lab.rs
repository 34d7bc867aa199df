//! scripts/lan-lab.sh cleans up whatever stops it: the script's own test
//! (not graded — it checks the course's script, not your programs).
//!
//! lan-lab.sh promises that every network namespace it creates is removed
//! on exit, however it ends. The hard cases are signals that arrive while it
//! is already cleaning up: a second Ctrl-C (a terminal sends SIGINT to the
//! whole foreground process group, the `ip netns del` commands of the cleanup
//! included), and `timeout -s INT`, which signals the script and then its
//! process group, so the script gets SIGINT twice.
//!
//! Needs Linux, root and `ip`; elsewhere each test prints `skipped: …` on
//! stderr and passes (run `cargo test -- --nocapture` to see it). Every
//! namespace a test looks at or removes is one of the run it started
//! (`bclab<PID>-*`), never anyone else's.
//!
//! ```text
//! cargo test -p broadcast-recv -p broadcast-send --test lan_lab
//! ```

#![cfg(unix)]

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{built_sender, lines_of, namespaces_of, programs_under_test, running_as_root};

mod support;

/// Print a line the test harness does not capture, so a skip is visible.
fn visible(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Whether lan-lab can build its LAN here; if not, say why and skip.
fn can_run(test: &str) -> bool {
    let root = running_as_root();
    let reason = if !cfg!(target_os = "linux") {
        "network namespaces exist only on Linux"
    } else if !root {
        "lan-lab.sh needs root"
    } else if Command::new("ip").args(["netns", "list"]).output().is_err() {
        "lan-lab.sh needs `ip` (iproute2)"
    } else {
        return true;
    };
    visible(&format!("{test}: skipped: {reason}"));
    false
}

/// `bash scripts/lan-lab.sh ARGS`, run from the workspace's top folder with
/// the programs Cargo built (or IMPL_BROADCAST_SEND / IMPL_BROADCAST_RECV),
/// in a process group of its own — as a terminal's foreground job is — and
/// with SIGINT at its default even if this test process ignores it (bash
/// cannot trap a signal that was ignored when it started).
fn lan_lab(prefix: &[&str], args: &[&str]) -> Command {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("scripts/lan-lab.sh");
    let (program, before) = prefix.split_first().unwrap_or((&"bash", &[]));
    let mut command = Command::new(program);
    command
        .args(before)
        .arg(script)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if std::env::var_os("IMPL_BROADCAST_SEND").is_none() {
        let send = built_sender();
        assert!(
            send.exists(),
            "{} is not built: run  cargo test -p broadcast-recv -p broadcast-send --test lan_lab",
            send.display()
        );
    }
    programs_under_test(&mut command);
    // SAFETY: signal() is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    command
}

/// One run of the script: `child` leads process group `group`, and the
/// script's own process id is `script`. Dropping it kills what is left of
/// the group and removes that run's namespaces, so even a failing test
/// leaves the machine clean — after the test has checked that the script
/// cleaned up by itself.
struct LabRun {
    group: u32,
    script: u32,
    child: Child,
}

impl Drop for LabRun {
    fn drop(&mut self) {
        signal_group(self.group, "KILL");
        let _ = self.child.wait();
        for name in namespaces_of(self.script) {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}

/// `kill -SIGNAL -- -PGID`: what a terminal's Ctrl-C does to its foreground job.
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Read lines until one starts with `wanted`; the lines seen if none did
/// before `deadline`.
fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    wanted: &str,
    deadline: Instant,
) -> Result<(), Vec<String>> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.starts_with(wanted) => return Ok(()),
            Ok(line) => seen.push(line),
            Err(_) => return Err(seen),
        }
    }
}

/// Wait for the run to end, at most `limit`.
fn wait_for_exit(run: &mut LabRun, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = run.child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn lan_lab_a_double_ctrl_c_during_the_hold_leaves_no_namespace() {
    let test = "lan_lab_a_double_ctrl_c_during_the_hold_leaves_no_namespace";
    if !can_run(test) {
        return;
    }
    let mut child = lan_lab(&[], &["--hold"])
        .spawn()
        .expect("start bash scripts/lan-lab.sh --hold");
    let lines = lines_of(&mut child);
    let pid = child.id();
    let mut run = LabRun {
        group: pid,
        script: pid,
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    if let Err(seen) = wait_for_line(&lines, "lan-lab: holding", deadline) {
        if seen.iter().any(|l| l.starts_with("lan-lab: skipped:")) {
            visible(&format!("{test}: skipped: {}", seen.join(" ")));
            return;
        }
        panic!(
            "lan-lab.sh --hold never printed `lan-lab: holding …`; it printed:\n{}",
            seen.join("\n")
        );
    }
    let built = namespaces_of(pid);
    assert_eq!(
        built.len(),
        6,
        "while holding, the six namespaces bclab{pid}-{{sw,h1,h2,h3,r,h4}} should exist: {built:?}"
    );
    // The first Ctrl-C starts the cleanup; the second lands while it runs.
    signal_group(pid, "INT");
    let stopping = wait_for_line(
        &lines,
        "lan-lab: stopped by SIGINT",
        Instant::now() + Duration::from_secs(10),
    );
    signal_group(pid, "INT");
    assert!(
        stopping.is_ok(),
        "after Ctrl-C, lan-lab.sh should print `lan-lab: stopped by SIGINT: …`; it printed:\n{}",
        stopping.unwrap_err().join("\n")
    );
    let status = wait_for_exit(&mut run, Duration::from_secs(20));
    let left = namespaces_of(pid);
    assert!(
        left.is_empty(),
        "after two Ctrl-C during --hold, lan-lab.sh left namespaces behind: {left:?} (exit: {status:?})"
    );
    let status = status.expect("lan-lab.sh should exit within 20 s of Ctrl-C");
    assert_eq!(
        status.code(),
        Some(130),
        "stopped by Ctrl-C, lan-lab.sh should exit 130 (128 + SIGINT), not {status}"
    );
}

#[test]
fn lan_lab_timeout_s_int_leaves_no_namespace() {
    let test = "lan_lab_timeout_s_int_leaves_no_namespace";
    if !can_run(test) {
        return;
    }
    // `bash -c 'echo $$; exec …'` tells us the script's process id, which
    // names its namespaces. timeout sends SIGINT to it, then to its whole
    // process group: two signals, wherever the script is at that moment
    // (building the LAN or holding it).
    let mut child = lan_lab(
        &[
            "timeout",
            "-s",
            "INT",
            "2",
            "bash",
            "-c",
            r#"echo "pid $$"; exec bash "$@""#,
            "bash",
        ],
        &["--hold"],
    )
    .spawn()
    .expect("start timeout -s INT 2 bash scripts/lan-lab.sh --hold");
    let lines = lines_of(&mut child);
    let group = child.id();
    let first = lines
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_default();
    let pid: u32 = first
        .strip_prefix("pid ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected `pid N` first, got {first:?}"));
    let mut run = LabRun {
        group,
        script: pid,
        child,
    };
    let status = wait_for_exit(&mut run, Duration::from_secs(30));
    let rest: Vec<String> = lines.try_iter().collect();
    if rest.iter().any(|l| l.starts_with("lan-lab: skipped:")) {
        visible(&format!("{test}: skipped: {}", rest.join(" ")));
        return;
    }
    let left = namespaces_of(pid);
    assert!(
        left.is_empty(),
        "after `timeout -s INT`, lan-lab.sh left namespaces behind: {left:?} (exit: {status:?})\n{}",
        rest.join("\n")
    );
    let status = status.expect("timeout -s INT 2 should end lan-lab.sh within 30 s");
    assert_eq!(
        status.code(),
        Some(124),
        "timeout should report that it stopped the script (124), not {status}\n{}",
        rest.join("\n")
    );
}
