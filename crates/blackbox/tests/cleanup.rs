//! Nothing a test starts outlives it: the programs blackbox starts, and
//! whatever they fork, are gone when the test drops them, when a one-shot
//! run ends, and when the test process itself is killed with SIGKILL; and a
//! test stopped by SIGTERM (the grader's time limit) still reports what its
//! programs printed.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use blackbox::Program;

/// `sh` as the program under test: it stands for a server that forks.
fn shell() -> Program {
    Program::new("blackbox-test-shell", "sh")
}

/// Does process `pid` still run? (A zombie waiting for its parent to reap
/// it runs nothing any more.)
fn alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name in parentheses.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X"),
            Err(_) => false,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }
}

fn gone_within(pids: &[u32], limit: Duration) -> Vec<u32> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn pid_in(line: &str) -> u32 {
    line.rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected a pid at the end of {line:?}"))
}

#[test]
fn dropping_a_program_kills_what_it_forked() {
    let mut program = shell().start(["-c", "sleep 300 & echo \"grandchild $!\"; wait"]);
    let line = program.wait_for_line("the grandchild's pid", |l| l.starts_with("grandchild "));
    let (child, grandchild) = (program.pid(), pid_in(&line));
    assert!(alive(child) && alive(grandchild));
    drop(program);
    let left = gone_within(&[child, grandchild], Duration::from_secs(5));
    assert!(
        left.is_empty(),
        "dropped the program; still running 5 s later: {left:?}"
    );
}

#[test]
fn a_finished_run_leaves_nothing_behind() {
    let out = shell().run(["-c", "sleep 300 & echo \"grandchild $!\""], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let grandchild = pid_in(out.stdout_text().trim());
    let left = gone_within(&[grandchild], Duration::from_secs(5));
    assert!(
        left.is_empty(),
        "the program exited and left `sleep 300` behind; it still runs: {left:?}"
    );
}

#[test]
fn a_run_past_its_time_limit_is_killed_with_its_group() {
    let started = Instant::now();
    let out = shell().run_with_timeout(
        ["-c", "sleep 300 & echo \"grandchild $!\"; wait"],
        b"",
        Duration::from_millis(300),
    );
    assert!(out.timed_out && started.elapsed() < Duration::from_secs(5));
    let grandchild = pid_in(out.stdout_text().trim());
    assert!(gone_within(&[grandchild], Duration::from_secs(5)).is_empty());
}

#[test]
fn a_program_started_on_a_helper_thread_outlives_that_thread() {
    // PR_SET_PDEATHSIG fires when the thread that forked the program ends;
    // blackbox forks from a thread of its own, so a server a helper thread
    // started keeps running for the test that holds it.
    let mut program = thread::spawn(|| shell().start(["-c", "echo ready; sleep 300"]))
        .join()
        .expect("helper thread");
    program.wait_for_line("`ready`", |l| l == "ready");
    thread::sleep(Duration::from_millis(200));
    assert!(
        program.is_running(),
        "the helper thread that started the program ended, and the program died with it"
    );
}

/// Killed with SIGKILL by `killing_the_test_process_kills_its_programs`:
/// a test process that holds a program (which forked a grandchild) and
/// never gets to drop it. It does nothing unless that test runs it.
#[test]
#[ignore = "run only by killing_the_test_process_kills_its_programs"]
fn victim_holds_a_program_until_killed() {
    if std::env::var_os("BLACKBOX_VICTIM").is_none() {
        return;
    }
    let mut program = shell().start(["-c", "sleep 300 & echo \"grandchild $!\"; wait"]);
    let line = program.wait_for_line("the grandchild's pid", |l| l.starts_with("grandchild "));
    println!("pids {} {}", program.pid(), pid_in(&line));
    thread::sleep(Duration::from_secs(30));
}

/// The victim process, killed (and reaped) whatever happens to the test.
struct Victim(Child);

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn killing_the_test_process_kills_its_programs() {
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe)
        .args([
            "--exact",
            "victim_holds_a_program_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BLACKBOX_VICTIM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the victim test process");
    let mut victim = Victim(child);
    let stdout = victim.0.stdout.take().expect("stdout");
    let (sender, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let pids: Vec<u32> = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some((_, rest)) = line.split_once("pids ") {
                    break rest.split(' ').filter_map(|p| p.parse().ok()).collect();
                }
            }
            Err(_) => {
                panic!("the victim test process did not print its programs' pids within 15 s")
            }
        }
    };
    assert_eq!(pids.len(), 2);
    assert!(
        pids.iter().all(|p| alive(*p)),
        "{pids:?} should run before the kill"
    );
    // SIGKILL: no Drop, no unwinding, no cleanup code of its own runs.
    let _ = victim.0.kill();
    let _ = victim.0.wait();
    let left = gone_within(&pids, Duration::from_secs(5));
    assert!(
        left.is_empty(),
        "killed the test process with SIGKILL; its program and the program's child should die with it, yet {left:?} still run 5 s later"
    );
}

#[test]
fn an_assert_run_that_forks_and_hangs_fails_at_its_deadline() {
    // assert_cmd's own timeout kills the program only, then waits for its
    // pipes, which the forked `sleep` would hold for 300 s; blackbox kills
    // the whole group at RUN_TIMEOUT.
    let started = Instant::now();
    let failed = std::panic::catch_unwind(|| {
        shell().assert(["-c", "sleep 300 & sleep 300"]).success();
    });
    assert!(failed.is_err(), "a run killed at its deadline must fail");
    assert!(
        started.elapsed() < blackbox::RUN_TIMEOUT + Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// Stopped with SIGTERM by `a_test_stopped_by_sigterm_reports_what_its_program_printed`:
/// a test process whose program prints without end. It does nothing unless
/// that test runs it.
#[test]
#[ignore = "run only by a_test_stopped_by_sigterm_reports_what_its_program_printed"]
fn victim_waits_while_its_program_prints() {
    if std::env::var_os("BLACKBOX_SIGTERM_VICTIM").is_none() {
        return;
    }
    let mut program = shell().start(["-c", "echo first; while :; do echo again; done"]);
    program.wait_for_line("`first`", |l| l == "first");
    println!("pid {}", program.pid());
    thread::sleep(Duration::from_secs(30));
}

/// The victim test process, run on its own: its stdout's lines as they come,
/// and its whole stderr (the report) once it has ended.
#[cfg(target_os = "linux")]
fn start_sigterm_victim() -> (Victim, mpsc::Receiver<String>, thread::JoinHandle<String>) {
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe)
        .args([
            "--exact",
            "victim_waits_while_its_program_prints",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BLACKBOX_SIGTERM_VICTIM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the victim test process");
    let mut victim = Victim(child);
    let stdout = victim.0.stdout.take().expect("stdout");
    let stderr = victim.0.stderr.take().expect("stderr");
    let (sender, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let report = thread::spawn(move || {
        let mut all = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut all);
        all
    });
    (victim, lines, report)
}

/// The pid of the victim's program, from its `pid N` line (within 15 s).
#[cfg(target_os = "linux")]
fn victims_program(lines: &mpsc::Receiver<String>) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                // libtest's `test NAME ... ` comes first on the same line.
                if let Some(pid) = line
                    .rsplit_once("pid ")
                    .and_then(|(_, p)| p.trim().parse().ok())
                {
                    return pid;
                }
            }
            Err(_) => panic!("the victim test process did not print its program's pid within 15 s"),
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_test_stopped_by_sigterm_reports_what_its_program_printed() {
    // The grader's time limit stops a test with SIGTERM: no panic, so the
    // panic hook prints nothing; the report must come anyway, bounded, and
    // the program must die with the test process.
    let (mut victim, lines, report) = start_sigterm_victim();
    let pid = victims_program(&lines);
    // Let the program print a good many lines first.
    thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on the victim's pid, which we hold unreaped.
    unsafe {
        libc::kill(victim.0.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = victim.0.try_wait() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                break None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    };
    let report = report.join().unwrap_or_default();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(143),
        "sent SIGTERM to the test process: expected it to print its report and exit 143 within 5 s"
    );
    for expected in [
        "stopped by its time limit (SIGTERM)",
        "| first",
        "| again",
        "lines left out",
    ] {
        assert!(
            report.contains(expected),
            "the report of a test stopped by SIGTERM should contain {expected:?} (what the program printed, its first and last lines); it was:\n{}",
            &report[..report.len().min(3000)]
        );
    }
    assert!(
        report.len() < 64 << 10,
        "the report of a program that printed without end should stay short; it has {} bytes",
        report.len()
    );
    assert!(
        gone_within(&[pid], Duration::from_secs(5)).is_empty(),
        "the test process ended; its program should have died with it"
    );
}
