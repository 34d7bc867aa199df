//! Lesson 4 — the UDP client: black-box tests of `udp-echo client`.
//!
//! Where a test needs a server that misbehaves — one that stays silent,
//! replies with odd bytes, or an impostor that answers from the wrong address
//! — the test plays it with plain UDP sockets. Set `IMPL_UDP_ECHO` to grade
//! another implementation.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

mod support;
use support::*;

/// Everything already queued on `socket`, without waiting: after a client
/// has exited, anything it sent over loopback is already here.
fn queued(socket: &Udp) -> Vec<Vec<u8>> {
    socket.set_nonblocking(true).expect("O_NONBLOCK");
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while let Ok((n, _)) = socket.recv_from(&mut buf) {
        got.push(buf[..n].to_vec());
    }
    socket.set_nonblocking(false).expect("O_NONBLOCK");
    got
}

/// `reply from PEER: ` lines of a run's stdout.
fn reply_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("reply from "))
        .collect()
}

#[test]
fn help_lists_every_flag_with_its_default() {
    udp_echo()
        .assert(["client", "--help"])
        .success()
        .stdout(blackbox::mentions_all(&[
            "--timeout",
            "--buf-size",
            "--size",
            "1000",
        ]));
}

#[test]
fn each_reply_is_printed_with_the_servers_address() {
    let server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = server.addr;
    let out = udp_echo().run(["client", &addr.to_string(), "hello", "你好, UDP"], b"");
    assert_eq!(
        out.code(),
        Some(0),
        "expected the client to exit with status 0\n{}",
        out.describe()
    );
    assert_eq!(
        reply_lines(&out.stdout_text()),
        [
            format!("reply from {addr}: hello"),
            format!("reply from {addr}: 你好, UDP")
        ],
        "sent two messages; expected two `reply from PEER: TEXT` lines\n{}",
        out.describe()
    );
}

#[test]
fn reply_bytes_are_shown_as_text() {
    // The test's server answers every datagram with the same odd bytes.
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    let replier = blackbox::spawn(move || {
        let mut buf = [0u8; 1024];
        if let Ok((_, from)) = server.recv_from(&mut buf) {
            let _ = server.send_to(b"tab\there\x01\xff \\ \xe4\xbd\xa0\xe5\xa5\xbd\n", from);
        }
    });
    let out = udp_echo().run(["client", &addr.to_string(), "hi"], b"");
    let _ = replier.join();
    assert_eq!(
        reply_lines(&out.stdout_text()),
        [format!(
            "reply from {addr}: tab\\there\\x01\\xff \\\\ 你好\\n"
        )],
        "the server replied with bytes b\"tab\\there\\x01\\xff \\\\ 你好\\n\"; expected them shown by the TEXT rule (README, Conventions, rule 6)\n{}",
        out.describe()
    );
}

#[test]
fn each_stdin_line_is_one_datagram() {
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    let echo = blackbox::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while got.len() < 4 {
            let Ok((n, from)) = server.recv_from(&mut buf) else {
                break;
            };
            got.push(buf[..n].to_vec());
            let _ = server.send_to(&buf[..n], from);
        }
        got
    });
    let out = udp_echo().run(["client", &addr.to_string()], b"one\ntwo words\n\nlast");
    let got = echo.join().unwrap_or_default();
    assert_eq!(
        out.code(),
        Some(0),
        "expected the client to exit with status 0\n{}",
        out.describe()
    );
    assert_eq!(
        got,
        [&b"one"[..], b"two words", b"", b"last"],
        "gave stdin \"one\\ntwo words\\n\\nlast\"; expected four datagrams, one per line, without the line ending (an empty line is an empty datagram)"
    );
    assert_eq!(
        reply_lines(&out.stdout_text()),
        [
            format!("reply from {addr}: one"),
            format!("reply from {addr}: two words"),
            format!("reply from {addr}: "),
            format!("reply from {addr}: last"),
        ],
        "four lines on stdin: expected one `reply from ADDR: TEXT` line per line, in order:\n{}",
        out.describe()
    );
}

#[test]
fn no_reply_within_the_timeout_is_an_error_with_exit_status_1() {
    // A server that receives and never answers: as if the reply were lost.
    let silent = test_socket("127.0.0.1:0");
    let addr = local(&silent);
    let started = Instant::now();
    let out = udp_echo().run(
        ["client", "--timeout", "200", &addr.to_string(), "hello"],
        b"",
    );
    let waited = started.elapsed();
    let line = out.assert_error(1).to_string();
    assert_eq!(
        line,
        format!("error: timeout: no reply from {addr} within 200 ms"),
        "sent \"hello\" to a server that never answers, with --timeout 200\n{}",
        out.describe()
    );
    assert!(
        waited >= Duration::from_millis(200),
        "--timeout 200 gave up after {waited:?}"
    );
    assert_eq!(
        queued(&silent),
        [b"hello".to_vec()],
        "the client must really have sent \"hello\" (once) before timing out"
    );
}

#[test]
fn reply_from_another_address_is_ignored() {
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    // Impostor 1: the same IP, another port.
    let same_ip = test_socket("127.0.0.1:0");
    // Impostor 2: the same port, another IP (all of 127.0.0.0/8 is loopback
    // on Linux). Together they prove both halves of the address are checked.
    let same_port = if cfg!(target_os = "linux") {
        Udp::bind(("127.0.0.2", addr.port())).ok()
    } else {
        None
    };
    let impostors: Vec<SocketAddr> = std::iter::once(local(&same_ip))
        .chain(same_port.as_ref().map(local))
        .collect();
    let shown = impostors
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let player = blackbox::spawn(move || {
        let mut buf = [0u8; 1024];
        let Ok((_, client)) = server.recv_from(&mut buf) else {
            return;
        };
        // Over loopback, send_to puts the datagram in the client's receive
        // queue before it returns: the forgeries are queued first, so a
        // client that takes the first datagram takes a forgery.
        let _ = same_ip.send_to(b"forged by port", client);
        if let Some(same_port) = &same_port {
            let _ = same_port.send_to(b"forged by IP", client);
        }
        let _ = server.send_to(b"genuine", client);
    });
    let out = udp_echo().run(["client", &addr.to_string(), "who is there?"], b"");
    let _ = player.join();
    assert_eq!(
        out.code(),
        Some(0),
        "expected the client to exit with status 0\n{}",
        out.describe()
    );
    assert_eq!(
        reply_lines(&out.stdout_text()),
        [format!("reply from {addr}: genuine")],
        "asked {addr}; {shown} answered first with forged datagrams, then {addr} answered \"genuine\". Expected only the genuine reply.\nHint: compare the address recvfrom returns with ADDR — IP and port — and keep waiting when it differs.\n{}",
        out.describe()
    );
}

#[test]
fn stray_datagrams_do_not_extend_the_timeout() {
    // The server stays silent while an impostor keeps sending to the client.
    // The stray datagrams are not the reply, and they must not restart the
    // wait either: the client still gives up when its timeout has passed.
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    let impostor = test_socket("127.0.0.1:0");
    let stray = local(&impostor);
    blackbox::step(format!(
        "play a silent server at {addr}; once it hears the client, an impostor at {stray} sends `not me` to the client every 20 ms"
    ));
    blackbox::see(
        "lessons/04-udp-client/README.md#the-reply-may-come-from-someone-else-check-its-address",
    );
    let done = Arc::new(AtomicBool::new(false));
    let flooder = {
        let done = Arc::clone(&done);
        blackbox::spawn(move || {
            let mut buf = [0u8; 1024];
            let Ok((_, client)) = server.recv_from(&mut buf) else {
                return;
            };
            while !done.load(Ordering::SeqCst) {
                let _ = impostor.send_to(b"not me", client);
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = udp_echo().run_with_timeout(
        ["client", "--timeout", "300", &addr.to_string(), "hello"],
        b"",
        Duration::from_secs(10),
    );
    done.store(true, Ordering::SeqCst);
    let _ = flooder.join();
    assert!(
        !out.timed_out,
        "with --timeout 300, a client receiving a stray datagram every 20 ms was still waiting after 10 s.\nHint: fix the deadline when the request is sent and wait only for what is left of it.\n{}",
        out.describe()
    );
    // The stray datagrams are reported on stdout, like the replies: an
    // `ignored` line is a report, not a failure, and stderr carries only the
    // one `error:` line.
    let misplaced: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("ignored"))
        .collect();
    assert!(
        misplaced.is_empty(),
        "with --timeout 300 and a stray datagram every 20 ms, the client wrote {} `ignored …` lines on stderr, e.g. {:?}.\nThey belong on stdout (lesson 4, \"The reply may come from someone else\"): stderr carries only the final `error: timeout: …` line.\n{}",
        misplaced.len(),
        misplaced[0],
        out.describe()
    );
    let line = out.assert_error(1).to_string();
    assert_eq!(
        line,
        format!("error: timeout: no reply from {addr} within 300 ms"),
        "no reply within --timeout 300: expected exactly this `error:` line:\n{}",
        out.describe()
    );
    let stdout = out.stdout_text();
    assert!(
        reply_lines(&stdout).is_empty(),
        "no datagram came from {addr}, yet the client printed a reply\n{}",
        out.describe()
    );
    let ignored = format!("ignored 6 bytes from {stray}: not from {addr}");
    assert!(
        stdout.lines().any(|l| l == ignored),
        "an impostor at {stray} sent `not me` every 20 ms; expected stdout lines `{ignored}` (lesson 4, \"The reply may come from someone else\")\n{}",
        out.describe()
    );
}

#[test]
fn oversize_datagram_is_refused_before_sending() {
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    let out = udp_echo().run(["client", "--size", "65508", &addr.to_string()], b"");
    let stderr = out.assert_usage_error("--size 65508 over IPv4");
    assert!(
        stderr.contains("65507"),
        "--size 65508 over IPv4: expected a usage error naming the limit, 65507 bytes; got {stderr:?}"
    );
    assert!(
        queued(&server).is_empty(),
        "--size 65508 must be refused before anything is sent; the server received a datagram"
    );

    if have_ipv6_loopback() {
        let server = test_socket("[::1]:0");
        let addr = local(&server);
        let out = udp_echo().run(["client", "--size", "65528", &addr.to_string()], b"");
        let stderr = out.assert_usage_error("--size 65528 over IPv6");
        assert!(
            stderr.contains("65527"),
            "--size 65528 over IPv6: expected a usage error naming the limit, 65527 bytes (IPv6's length field does not count its 40-byte header); got {stderr:?}"
        );
        assert!(
            queued(&server).is_empty(),
            "--size 65528 over IPv6 is refused before sending: expected nothing to reach the server"
        );
    }
}

#[test]
fn largest_datagrams_go_through() {
    let mut cases = vec![("127.0.0.1:0", 65_507)];
    if have_ipv6_loopback() {
        cases.push(("[::1]:0", 65_527));
    }
    for (bind, size) in cases {
        let mut server = udp_echo().start_server(["server", "--bind", bind, "--buf-size", "65536"]);
        let out = udp_echo().run(
            [
                "client",
                "--size",
                &size.to_string(),
                &server.addr.to_string(),
            ],
            b"",
        );
        assert_eq!(
            out.code(),
            Some(0),
            "--size {size} to {} is the largest datagram allowed; expected it sent and echoed\n{}",
            server.addr,
            out.describe()
        );
        let line = server.wait_for_line("a `recv` line", |l| l.starts_with("recv "));
        assert!(
            line.starts_with(&format!("recv {size} bytes from ")) && !line.contains("truncated"),
            "sent one {size}-byte datagram to a server with --buf-size 65536; got {line:?}"
        );
        // The whole datagram must come back: a client reading with a small
        // buffer (recvfrom(1024)) would say fewer bytes, or truncated.
        let stdout = out.stdout_text();
        let replies = reply_lines(&stdout);
        let wanted = format!("reply from {}: {size} bytes", server.addr);
        assert!(
            replies == [wanted.as_str()],
            "sent one {size}-byte datagram with `client --size {size}`; expected exactly one \
             reply line `{wanted}` (the client's receive buffer must hold the whole datagram), \
             got {replies:?}\n{}",
            out.describe()
        );
    }
}

#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android")),
    ignore = "only Linux reports a truncated datagram's real size"
)]
fn buf_size_truncates_the_reply_on_the_client_side_too() {
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    let long: String = "0123456789".repeat(30);
    let reply = long.clone();
    let replier = blackbox::spawn(move || {
        let mut buf = [0u8; 1024];
        if let Ok((_, from)) = server.recv_from(&mut buf) {
            let _ = server.send_to(reply.as_bytes(), from);
        }
    });
    let out = udp_echo().run(["client", "--buf-size", "100", &addr.to_string(), "x"], b"");
    let _ = replier.join();
    assert_eq!(
        reply_lines(&out.stdout_text()),
        [format!(
            "reply from {addr}: {} (truncated: datagram was 300 bytes)",
            &long[..100]
        )],
        "the server replied with 300 bytes to a client with --buf-size 100\n{}",
        out.describe()
    );
}

#[test]
fn works_over_ipv6_loopback() {
    if !have_ipv6_loopback() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let server = udp_echo().start_server(["server", "--bind", "[::1]:0"]);
    let addr = server.addr;
    let out = udp_echo().run(["client", &addr.to_string(), "six"], b"");
    assert_eq!(
        out.code(),
        Some(0),
        "expected the client to exit with status 0\n{}",
        out.describe()
    );
    assert_eq!(
        reply_lines(&out.stdout_text()),
        [format!("reply from {addr}: six")],
        "over IPv6: expected one `reply from [::1]:PORT: six` line:\n{}",
        out.describe()
    );
}

#[test]
fn many_clients_at_once_each_get_their_own_replies() {
    const CLIENTS: usize = 8;
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let messages: Vec<String> = (0..5).map(|m| format!("c{i}m{m}")).collect();
            let mut args = vec!["client".to_string(), addr.clone()];
            args.extend(messages.iter().cloned());
            (messages, udp_echo().start(args))
        })
        .collect();
    for (i, (messages, mut client)) in clients.into_iter().enumerate() {
        let code = client.expect_exit();
        let mut lines = Vec::new();
        while let Some(line) = client.next_line(Duration::from_secs(1)) {
            lines.push(line);
        }
        let expected: Vec<String> = messages
            .iter()
            .map(|m| format!("reply from {addr}: {m}"))
            .collect();
        assert_eq!(
            (code, lines),
            (Some(0), expected),
            "{CLIENTS} clients ran at once, 5 messages each; client {i} expected exactly its own 5 replies\n{}",
            client.describe()
        );
    }
    let peers: std::collections::HashSet<String> = (0..CLIENTS * 5)
        .map(|_| server.wait_for_line("a `recv` line per datagram", |l| l.starts_with("recv ")))
        .filter_map(|l| l.rsplit(' ').next().map(str::to_string))
        .collect();
    assert_eq!(
        peers.len(),
        CLIENTS,
        "{CLIENTS} client processes each used one socket; the server log names {} senders: {peers:?}",
        peers.len()
    );
}

#[test]
#[cfg(target_os = "linux")]
fn connected_socket_hears_port_unreachable() {
    // `--connect`: connect() on a UDP socket sends nothing, but it lets the
    // kernel report the ICMP "port unreachable" that comes back from a port
    // where nobody listens.
    let closed = {
        let socket = test_socket("127.0.0.1:0");
        local(&socket)
    };
    let out = udp_echo().run(
        [
            "client",
            "--connect",
            "--timeout",
            "5000",
            &closed.to_string(),
            "hello",
        ],
        b"",
    );
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&closed.to_string()) && line.to_lowercase().contains("refused"),
        "a connected UDP socket sent to {closed}, where nobody listens; expected `error: recv {closed}: Connection refused …` at once, not a timeout; got {line:?}"
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        vec!["client", "127.0.0.1", "x"],
        vec!["client", "[::1]:9003:1", "x"],
        vec!["client", "--size", "many", "127.0.0.1:9003"],
        vec!["client", "--buf-size", "0", "127.0.0.1:9003", "x"],
    ] {
        let out = udp_echo().run(&args, b"");
        out.assert_usage_error(&format!("`udp-echo {}`", args.join(" ")));
    }
}
