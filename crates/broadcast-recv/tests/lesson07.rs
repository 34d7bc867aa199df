//! Lesson 7, UDP broadcast: the receiving side, `broadcast-recv`, and the two
//! programs together — on loopback, and on the virtual LAN of
//! scripts/lan-lab.sh where root and network namespaces are available.
//!
//! Ports: tests run in parallel, so none uses the fixed port 9004. The first
//! receiver of a test binds port 0, and the others reuse the port the OS
//! gave it. Every broadcast goes to 127.255.255.255 (loopback's broadcast
//! address) or stays inside lan-lab's namespaces.
//!
//! Building: the tests that run `broadcast-send` too need its binary, which
//! Cargo builds only when that package is part of the build. So run
//!
//! ```text
//! cargo test -p broadcast-recv -p broadcast-send --test lesson07   # or: cargo test --workspace
//! IMPL_BROADCAST_RECV='python3 my_recv.py' IMPL_BROADCAST_SEND='python3 my_send.py' \
//!     cargo test -p broadcast-recv -p broadcast-send --test lesson07
//! ```
//!
//! `cargo test -p broadcast-recv` alone fails those tests with the command
//! that builds the sender (see `blackbox::Program::sibling`).

use std::cell::Cell;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};

use blackbox::Udp;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use blackbox::{Program, Server};
use support::{lines_of, namespaces_of, programs_under_test, running_as_root};

mod support;

fn receiver() -> Program {
    blackbox::program!("broadcast-recv")
}

/// The other program of the lesson, built next to this one.
fn sender() -> Program {
    Program::sibling("broadcast-send")
}

/// A receiver on 0.0.0.0 with `extra` arguments; port 0 lets the OS choose.
fn start_receiver(port: u16, extra: &[&str]) -> Server {
    let bind = format!("0.0.0.0:{port}");
    let mut args = vec!["--bind", bind.as_str()];
    args.extend_from_slice(extra);
    receiver().start_server(args)
}

/// The loopback broadcast address on `port`.
fn loopback_broadcast(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 255, 255, 255], port))
}

/// A socket allowed to send broadcasts, standing in for a sender.
fn broadcasting_socket() -> Udp {
    let socket = Udp::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    socket.set_broadcast(true).expect("SO_BROADCAST");
    socket
}

/// Lines starting with `from ` among `lines`.
fn from_lines(lines: &[String]) -> Vec<&String> {
    lines.iter().filter(|l| l.starts_with("from ")).collect()
}

#[test]
fn receiver_announces_its_port_and_logs_each_datagram_as_text() {
    let mut recv = start_receiver(0, &[]);
    assert_eq!(
        recv.addr.ip().to_string(),
        "0.0.0.0",
        "--bind 0.0.0.0:0 should announce `listening on 0.0.0.0:PORT`"
    );
    assert_ne!(
        recv.addr.port(),
        0,
        "`listening on` must show the port the OS chose, not 0"
    );
    let socket = broadcasting_socket();
    let peer = socket.local_addr().expect("getsockname");
    let to = loopback_broadcast(recv.addr.port());
    // Chinese, a newline, a tab and a byte that is not UTF-8 (README, Conventions, rule 6).
    socket
        .send_to(b"\xe4\xbd\xa0\xe5\xa5\xbd\n\tend\xff", to)
        .expect("sendto");
    let expected = format!("from {peer}: 你好\\n\\tend\\xff");
    let line = recv.wait_for_line(&format!("`{expected}`"), |l| l.starts_with("from "));
    assert_eq!(
        line, expected,
        "sent 你好\\n\\tend and the byte 0xff as one datagram to {to}; expected `from PEER: TEXT` with PEER the sender's address and TEXT shown by the README's rule 6"
    );
}

#[test]
fn three_receivers_on_one_port_all_get_every_message_of_one_sender() {
    let mut first = start_receiver(0, &["--count", "3"]);
    let port = first.addr.port();
    let mut second = start_receiver(port, &["--count", "3"]);
    let mut third = start_receiver(port, &["--count", "3"]);
    let to = loopback_broadcast(port);
    let sent = sender().run(
        [
            "--to",
            &to.to_string(),
            "--count",
            "3",
            "--interval",
            "20",
            "hello all",
        ],
        b"",
    );
    assert_eq!(
        sent.code(),
        Some(0),
        "the sender failed\n{}",
        sent.describe()
    );
    for (name, recv) in [
        ("first", &mut first),
        ("second", &mut second),
        ("third", &mut third),
    ] {
        let heard = Cell::new(0);
        let lines = recv.lines_until("3 `from …: hello all` lines", |l| {
            if l.starts_with("from ") && l.ends_with(": hello all") {
                heard.set(heard.get() + 1);
            }
            heard.get() == 3
        });
        assert_eq!(
            from_lines(&lines).len(),
            3,
            "broadcast `hello all` 3 times to {to}; the {name} of three receivers bound to 0.0.0.0:{port} (SO_REUSEADDR) should log each one: {lines:?}"
        );
        assert_eq!(
            recv.expect_exit(),
            Some(0),
            "the {name} receiver had --count 3 and got 3 datagrams: it should exit 0\n{}",
            recv.describe()
        );
    }
}

#[test]
fn a_receiver_bound_to_127_0_0_1_hears_no_broadcast() {
    // Two receivers on one port: one on every address, one on 127.0.0.1 only.
    let mut any = start_receiver(0, &["--count", "1"]);
    let port = any.addr.port();
    let narrow_bind = format!("127.0.0.1:{port}");
    let mut narrow = receiver().start_server(["--bind", narrow_bind.as_str(), "--count", "1"]);
    let socket = broadcasting_socket();
    let to = loopback_broadcast(port);
    socket.send_to(b"broadcast", to).expect("sendto broadcast");
    // The 0.0.0.0 receiver proves the broadcast really went out.
    let line = any.wait_for_line("the broadcast", |l| l.starts_with("from "));
    assert!(line.ends_with(": broadcast"), "{line}");
    // The kernel hands a broadcast to every matching socket of the port in
    // one go, and the 0.0.0.0 receiver has logged it: had it reached the
    // narrow receiver too, it would be queued there already. So send a
    // unicast to 127.0.0.1 now: the narrow receiver's first (and, with
    // --count 1, only) datagram tells which one it got — proof without a
    // timeout.
    socket
        .send_to(b"unicast", SocketAddr::from(([127, 0, 0, 1], port)))
        .expect("sendto 127.0.0.1");
    let first = narrow.wait_for_line("a datagram", |l| l.starts_with("from "));
    assert!(
        first.ends_with(": unicast"),
        "sent `broadcast` to {to}, then `unicast` to 127.0.0.1:{port}; the receiver bound to \
         127.0.0.1:{port} should get only the unicast — a broadcast's destination is \
         127.255.255.255, which matches a socket bound to 0.0.0.0 but not one bound to 127.0.0.1 — \
         yet its first datagram was {first:?}"
    );
}

#[test]
fn count_exits_0_after_n_datagrams() {
    let mut recv = start_receiver(0, &["--count", "2"]);
    let socket = broadcasting_socket();
    let to = loopback_broadcast(recv.addr.port());
    for text in ["one", "two", "three"] {
        socket.send_to(text.as_bytes(), to).expect("sendto");
    }
    assert_eq!(
        recv.expect_exit(),
        Some(0),
        "--count 2 and 3 datagrams sent: expected exit 0 after the second\n{}",
        recv.describe()
    );
    let mut lines = recv.seen().to_vec();
    while let Some(line) = recv.next_line(Duration::from_millis(200)) {
        lines.push(line);
    }
    let from: Vec<&String> = from_lines(&lines);
    assert_eq!(
        from.len(),
        2,
        "--count 2: expected exactly two `from` lines, got {lines:?}"
    );
}

#[test]
fn timeout_exits_1_when_nothing_arrives() {
    let started = Instant::now();
    let outcome = receiver().run(["--bind", "127.0.0.1:0", "--timeout", "300"], b"");
    let took = started.elapsed();
    let line = outcome.assert_error(1);
    assert!(
        line.starts_with("error: timeout"),
        "--timeout 300 and no datagram: expected `error: timeout …`, got {line:?}"
    );
    assert!(
        outcome.stdout_text().starts_with("listening on 127.0.0.1:"),
        "it should still announce `listening on ADDR` first\n{}",
        outcome.describe()
    );
    assert!(
        took >= Duration::from_millis(300),
        "--timeout 300 gave up after {took:?}, before 300 ms"
    );
}

#[test]
fn a_port_held_without_so_reuseaddr_cannot_be_shared() {
    // A plain socket (no SO_REUSEADDR) holds the port: sharing needs the
    // option on every socket, so the receiver's bind must fail.
    let holder = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = holder.local_addr().expect("getsockname");
    let outcome = receiver().run(["--bind", &addr.to_string()], b"");
    let line = outcome.assert_error(1);
    assert!(
        line.contains(&addr.to_string()) && line.contains("in use"),
        "bind {addr} while a plain socket holds it: expected \
         `error: bind {addr}: Address already in use …`, got {line:?}"
    );
}

// --- the virtual LAN (scripts/lan-lab.sh) ---------------------------------

/// Print a line the test harness does not capture, so a skip is visible.
fn visible(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn lan_lab_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lan-lab.sh")
}

/// The script, told which programs to run: the ones under test (the built
/// binaries, or IMPL_BROADCAST_SEND / IMPL_BROADCAST_RECV if set).
fn lan_lab_command(args: &[&str]) -> Command {
    let _ = sender(); // fails with "build it with …" if the sender is missing
    let mut command = Command::new("bash");
    // From the top folder, where IMPL_* commands name their files.
    command
        .arg(lan_lab_script())
        .args(args)
        .current_dir(blackbox::workspace_root());
    // Its own process group, so that a script that ignores SIGTERM goes
    // with everything it started; and on Linux it gets SIGTERM (and cleans
    // up) if the test dies first.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    blackbox::terminate_with_test(&mut command);
    programs_under_test(&mut command);
    command
}

/// One run of the script. Dropping it removes whatever that run left
/// behind, so even a failing test leaves the machine clean — after the test
/// has checked (and reported) that the script cleaned up by itself.
struct LabRun {
    pid: u32,
    /// The script, until the test has waited for it.
    child: Option<Child>,
}

impl LabRun {
    fn new(child: Child) -> LabRun {
        LabRun {
            pid: child.id(),
            child: Some(child),
        }
    }

    /// Wait for the script to finish (see [`wait_with_deadline`]).
    fn wait(&mut self, limit: Duration) -> std::process::Output {
        let child = self.child.take().expect("lan-lab.sh was waited for once");
        wait_with_deadline(child, limit)
    }
}

impl Drop for LabRun {
    fn drop(&mut self) {
        // A test that failed while the script still ran: stop it first.
        if let Some(child) = self.child.take() {
            let _ = wait_with_deadline(child, Duration::ZERO);
        }
        for name in namespaces_of(self.pid) {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}

/// Ask the script to stop the way `kill` (and a test harness) does: SIGTERM.
/// It takes the same path as Ctrl-C (SIGINT) — but SIGINT cannot be trapped
/// by a script started with it ignored, as in a background job of a
/// non-interactive shell, while SIGTERM always can.
fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// Wait for `child` to finish. After `limit`, stop it with SIGTERM, so it
/// still removes its namespaces, and only if that fails with SIGKILL.
fn wait_with_deadline(mut child: Child, limit: Duration) -> std::process::Output {
    let running = |child: &mut Child| matches!(child.try_wait(), Ok(None));
    let deadline = Instant::now() + limit;
    while running(&mut child) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    if running(&mut child) {
        terminate(child.id());
        let grace = Instant::now() + Duration::from_secs(5);
        while running(&mut child) && Instant::now() < grace {
            thread::sleep(Duration::from_millis(10));
        }
        if running(&mut child) {
            // The whole process group: what the script started goes too, so
            // nothing holds its output pipes open.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
        }
    }
    child.wait_with_output().expect("wait for lan-lab.sh")
}

/// Skip on systems where lan-lab cannot run; the script must then say so,
/// exit 0 and create nothing. Returns whether to go on.
fn lan_lab_can_run(test: &str) -> bool {
    if !cfg!(target_os = "linux") {
        visible(&format!(
            "{test}: skipped: network namespaces exist only on Linux"
        ));
        return false;
    }
    if running_as_root() && Command::new("ip").arg("-V").output().is_ok() {
        return true;
    }
    let child = lan_lab_command(&[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bash scripts/lan-lab.sh");
    let outcome = LabRun::new(child).wait(Duration::from_secs(10));
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    assert!(
        outcome.status.success() && stdout.contains("skipped:"),
        "without root or `ip`, lan-lab.sh must explain and exit 0 (README of lesson 7); it {} and printed:\n{stdout}{}",
        outcome.status,
        String::from_utf8_lossy(&outcome.stderr)
    );
    visible(&format!(
        "{test}: skipped: lan-lab needs root and `ip` (it said: {})",
        stdout.trim()
    ));
    false
}

#[test]
fn lan_lab_every_subnet_host_hears_the_broadcast_and_the_other_subnet_does_not() {
    let test = "lan_lab_every_subnet_host_hears_the_broadcast_and_the_other_subnet_does_not";
    if !lan_lab_can_run(test) {
        return;
    }
    let child = lan_lab_command(&[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bash scripts/lan-lab.sh");
    let mut run = LabRun::new(child);
    let pid = run.pid;
    // The script needs well under a second; its own deadlines add up to
    // ~12 s. (14 s, then 5 s for SIGTERM: within scripts/grade's 20 s.)
    let output = run.wait(Duration::from_secs(14));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = format!(
        "lan-lab.sh {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    if stdout.contains("lan-lab: skipped:") && output.status.success() {
        visible(&format!("{test}: skipped: {}", stdout.trim()));
        return;
    }
    assert!(output.status.success(), "lan-lab.sh failed\n{report}");
    // The receivers' own lines, which the script prefixes with `[HOST] `.
    let heard = |host: &str, step: &str| {
        stdout.lines().any(|l| {
            l.starts_with(&format!("[{host}] from 10.200.0.1:"))
                && l.contains(&format!(": {step} "))
        })
    };
    for step in ["1", "2"] {
        for host in ["h1", "h2", "h3", "r"] {
            assert!(
                heard(host, step),
                "step {step}: every host of 10.200.0.0/24 should hear h1's broadcast; {host} did not\n{report}"
            );
        }
        assert!(
            !heard("h4", step),
            "step {step}: h4 is behind a router, which does not forward broadcasts, yet it heard one\n{report}"
        );
    }
    assert!(
        heard("h4", "4"),
        "h4 should get the unicast through the router\n{report}"
    );
    assert!(
        namespaces_of(pid).is_empty(),
        "lan-lab.sh left namespaces behind: {:?}",
        namespaces_of(pid)
    );
}

#[test]
fn lan_lab_removes_everything_when_stopped() {
    let test = "lan_lab_removes_everything_when_stopped";
    if !lan_lab_can_run(test) {
        return;
    }
    let mut child = lan_lab_command(&["--hold"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bash scripts/lan-lab.sh --hold");
    let lines = lines_of(&mut child);
    let mut run = LabRun::new(child);
    let pid = run.pid;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let holding = loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.starts_with("lan-lab: holding") => break true,
            Ok(line) if line.starts_with("lan-lab: skipped:") => {
                visible(&format!("{test}: skipped: {line}"));
                let _ = run.wait(Duration::from_secs(5));
                return;
            }
            Ok(line) => seen.push(line),
            Err(_) => break false,
        }
    };
    if !holding {
        let status = run.wait(Duration::ZERO).status;
        panic!(
            "lan-lab.sh --hold never printed `lan-lab: holding …` ({status}); it printed:\n{}",
            seen.join("\n")
        );
    }
    assert!(
        !namespaces_of(pid).is_empty(),
        "while holding, the namespaces bclab{pid}-* should exist"
    );
    terminate(pid);
    let status = run.wait(Duration::from_secs(10)).status;
    assert!(
        !status.success(),
        "a stopped lan-lab.sh should not report success ({status})"
    );
    assert!(
        namespaces_of(pid).is_empty(),
        "stopped with SIGTERM, lan-lab.sh left namespaces behind: {:?}",
        namespaces_of(pid)
    );
}
