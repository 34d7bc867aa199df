//! Lesson 7, UDP broadcast: the sending side, `broadcast-send`, graded alone.
//!
//! The test itself is the receiver here: a plain UDP socket bound to the
//! broadcast address on a port the OS picks, so tests running in parallel
//! never share a port and nothing depends on another program of yours. Every broadcast
//! goes to 127.255.255.255, loopback's broadcast address, and never leaves
//! the machine. (The tests that run broadcast-send and broadcast-recv
//! together are in crates/broadcast-recv/tests/lesson07.rs.)
//!
//! ```text
//! cargo test -p broadcast-send --test lesson07
//! IMPL_BROADCAST_SEND='python3 my_send.py' cargo test -p broadcast-send --test lesson07
//! ```

use std::io::ErrorKind;
use std::net::SocketAddr;

use blackbox::Udp;
use std::time::{Duration, Instant};

use blackbox::Outcome;

/// A receiving socket bound to 127.255.255.255, loopback's broadcast
/// address itself, on a port the OS picks — and that address, the
/// destination for the test. Bound to the broadcast address, the socket gets
/// only datagrams sent *to* that address: a sender that sent to 127.0.0.1
/// instead would deliver nothing here.
fn listener() -> (Udp, SocketAddr) {
    let socket = Udp::bind("127.255.255.255:0").expect("bind 127.255.255.255:0");
    let addr = socket.local_addr().expect("getsockname");
    (socket, addr)
}

/// Every datagram already waiting on `socket`, without waiting for more.
///
/// On loopback a `sendto` has normally queued the datagram at the receiver
/// by the time it returns, so once the sender has exited, what it sent is
/// here. Used to check that nothing arrived where nothing should, and for
/// extras behind the datagrams [`arrived`] waited for.
fn waiting(socket: &Udp) -> Vec<Vec<u8>> {
    socket.set_nonblocking(true).expect("O_NONBLOCK");
    let mut all = Vec::new();
    let mut buf = [0u8; 65_536];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, _)) => all.push(buf[..n].to_vec()),
            Err(err) if err.kind() == ErrorKind::WouldBlock => break,
            Err(err) => panic!("recvfrom on the test's socket: {err}"),
        }
    }
    socket.set_nonblocking(false).expect("clear O_NONBLOCK");
    all
}

/// The `expected` datagrams a finished sender should have delivered, each
/// waited for (up to 5 s: on a busy machine the kernel may finish delivering
/// a moment after `sendto` returned), plus any extras already behind them.
fn arrived(socket: &Udp, expected: usize) -> Vec<Vec<u8>> {
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("SO_RCVTIMEO");
    let mut all = Vec::new();
    let mut buf = [0u8; 65_536];
    while all.len() < expected {
        match socket.recv_from(&mut buf) {
            Ok((n, _)) => all.push(buf[..n].to_vec()),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(err) => panic!("recvfrom on the test's socket: {err}"),
        }
    }
    all.extend(waiting(socket));
    all
}

fn stdout_lines(outcome: &Outcome) -> Vec<String> {
    outcome.stdout_text().lines().map(str::to_string).collect()
}

fn assert_success(outcome: &Outcome, what: &str) {
    assert_eq!(
        outcome.code(),
        Some(0),
        "{what}: expected exit status 0\n{}",
        outcome.describe()
    );
}

#[test]
fn broadcast_reaches_the_broadcast_address() {
    let (socket, to) = listener();
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(["--to", &to.to_string(), "hello 广播"], b"");
    assert_success(&outcome, "one broadcast to loopback's broadcast address");
    let got = arrived(&socket, 1);
    assert_eq!(
        got,
        vec!["hello 广播".as_bytes().to_vec()],
        "sent `hello 广播` to {to} (a socket bound to that broadcast address listens); expected exactly that datagram, got {got:?}. \
         Hint: the sender needs SO_BROADCAST, and must send to the broadcast address, not 127.0.0.1\n{}",
        outcome.describe()
    );
    let expected = format!("sent {} bytes to {to}", "hello 广播".len());
    assert_eq!(
        stdout_lines(&outcome),
        vec![expected.clone()],
        "expected one log line `{expected}` (the length in bytes: 广播 is 6 bytes of UTF-8)\n{}",
        outcome.describe()
    );
}

#[test]
fn count_and_interval_send_every_copy_a_steady_beat_apart() {
    let (socket, to) = listener();
    let sender = blackbox::program!("broadcast-send");
    let started = Instant::now();
    let outcome = sender.run(
        [
            "--to",
            &to.to_string(),
            "--count",
            "3",
            "--interval",
            "100",
            "tick",
        ],
        b"",
    );
    let took = started.elapsed();
    assert_success(&outcome, "--count 3 --interval 100");
    let got = arrived(&socket, 3);
    assert_eq!(
        got.len(),
        3,
        "sent --count 3 to {to}; expected 3 datagrams, got {}: {got:?}\n{}",
        got.len(),
        outcome.describe()
    );
    assert!(got.iter().all(|d| d == b"tick"), "datagrams: {got:?}");
    let sent_lines = stdout_lines(&outcome)
        .iter()
        .filter(|l| **l == format!("sent 4 bytes to {to}"))
        .count();
    assert_eq!(
        sent_lines,
        3,
        "expected three `sent 4 bytes to {to}` lines\n{}",
        outcome.describe()
    );
    // Three sends 100 ms apart: two gaps at least (a lower bound only — a
    // busy machine may be slower, never faster).
    assert!(
        took >= Duration::from_millis(200),
        "--count 3 --interval 100 finished in {took:?}; three sends 100 ms apart take at least 200 ms"
    );
}

#[test]
fn without_so_broadcast_the_os_refuses_to_send() {
    let (socket, to) = listener();
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(["--to", &to.to_string(), "--no-broadcast-flag", "x"], b"");
    let line = outcome.assert_error(1).to_string();
    for needed in [to.to_string().as_str(), "Permission denied", "SO_BROADCAST"] {
        assert!(
            line.contains(needed),
            "sent to the broadcast address {to} without SO_BROADCAST; expected \
             `error: send to {to}: Permission denied (os error 13) — SO_BROADCAST is off`, \
             which names {needed:?}; got {line:?}"
        );
    }
    let got = waiting(&socket);
    assert!(
        got.is_empty(),
        "the kernel refuses a broadcast without SO_BROADCAST, yet {} datagram(s) arrived: {got:?}",
        got.len()
    );
}

#[test]
fn so_broadcast_only_matters_for_broadcast_addresses() {
    let socket = Udp::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let unicast = socket.local_addr().expect("getsockname");
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(
        [
            "--to",
            &unicast.to_string(),
            "--no-broadcast-flag",
            "just one host",
        ],
        b"",
    );
    assert_success(
        &outcome,
        "--no-broadcast-flag to the unicast address 127.0.0.1 (SO_BROADCAST guards broadcast addresses only)",
    );
    assert_eq!(
        arrived(&socket, 1),
        vec![b"just one host".to_vec()],
        "sent \"just one host\" to 127.0.0.1 with --no-broadcast-flag; expected that one datagram to arrive (SO_BROADCAST is only needed for a broadcast address)"
    );
}

#[test]
fn an_interval_below_10_ms_is_refused_as_a_storm_risk() {
    let (socket, to) = listener();
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(
        [
            "--to",
            &to.to_string(),
            "--count",
            "5",
            "--interval",
            "1",
            "flood",
        ],
        b"",
    );
    let stderr = outcome.assert_usage_error("--count 5 --interval 1 without --force");
    assert!(
        stderr.to_lowercase().contains("storm"),
        "refused --interval 1 (good); the message should say why — a broadcast storm — and got {stderr:?}"
    );
    let got = waiting(&socket);
    assert!(
        got.is_empty(),
        "a refused --interval 1 must send nothing; {} datagram(s) arrived",
        got.len()
    );
}

#[test]
fn force_allows_a_fast_burst() {
    let (socket, to) = listener();
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(
        [
            "--to",
            &to.to_string(),
            "--count",
            "5",
            "--interval",
            "1",
            "--force",
            "burst",
        ],
        b"",
    );
    assert_success(&outcome, "--force --count 5 --interval 1");
    assert_eq!(
        arrived(&socket, 5).len(),
        5,
        "sent --count 5 --force to {to}; expected 5 datagrams\n{}",
        outcome.describe()
    );
}

#[test]
fn an_empty_message_is_an_empty_datagram() {
    let (socket, to) = listener();
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(["--to", &to.to_string(), ""], b"");
    assert_success(&outcome, "an empty MESSAGE");
    assert_eq!(
        arrived(&socket, 1),
        vec![Vec::<u8>::new()],
        "UDP keeps message boundaries, so an empty MESSAGE is one datagram of 0 bytes"
    );
    assert_eq!(
        stdout_lines(&outcome),
        vec![format!("sent 0 bytes to {to}")],
        "an empty MESSAGE: expected stdout to be exactly one line, `sent 0 bytes to {to}`"
    );
}

#[test]
fn ipv6_has_no_broadcast_so_an_ipv6_destination_is_a_usage_error() {
    let sender = blackbox::program!("broadcast-send");
    let outcome = sender.run(["--to", "[::1]:9", "x"], b"");
    let stderr = outcome.assert_usage_error("--to [::1]:9");
    assert!(
        stderr.contains("IPv6"),
        "refused an IPv6 destination (good); the message should say why — IPv6 has no broadcast — and got {stderr:?}"
    );
}

#[test]
fn help_shows_the_loopback_default_destination() {
    blackbox::program!("broadcast-send")
        .assert(["--help"])
        .success()
        .stdout(blackbox::mentions_all(&[
            "127.255.255.255:9004",
            "--count",
            "--interval",
            "--no-broadcast-flag",
            "--force",
        ]));
}
