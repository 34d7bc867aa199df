//! Lesson 3 — the UDP server: black-box tests of `udp-echo server` (and of
//! how the command line reaches the program, the notes' `sys.argv` part).
//!
//! The test itself plays the clients, with plain UDP sockets on loopback, so
//! it knows each client's address exactly and can check that every reply went
//! back to the datagram's sender. Set `IMPL_UDP_ECHO` to grade another
//! implementation.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

mod support;
use support::*;

/// A client socket of the test's own, on the loopback of `server`'s family,
/// with a deadline on every receive.
fn client_for(server: SocketAddr) -> Udp {
    let local = if server.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let socket = Udp::bind(local).unwrap_or_else(|e| panic!("bind {local}: {e}"));
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("SO_RCVTIMEO");
    socket
}

/// Receive one datagram, up to 64 KiB; panic with `what` if none comes.
fn recv_reply(socket: &Udp, what: &str) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 65_536];
    match socket.recv_from(&mut buf) {
        Ok((n, from)) => {
            buf.truncate(n);
            blackbox::step(format!(
                "received a {n}-byte datagram from {from}: \"{}\"{}",
                blackbox::text(&buf[..n.min(120)]),
                if n > 120 { "…" } else { "" }
            ));
            (buf, from)
        }
        Err(err) => panic!("{what}: expected a reply datagram within 10 s, got none ({err})"),
    }
}

#[test]
fn help_lists_every_flag_with_its_default() {
    udp_echo()
        .assert(["server", "--help"])
        .success()
        .stdout(blackbox::mentions_all(&[
            "--bind",
            "--buf-size",
            "--count",
            "127.0.0.1:9003",
            "1024",
        ]));
}

#[test]
fn server_announces_the_port_the_os_chose() {
    let server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    assert_ne!(
        server.addr.port(),
        0,
        "`listening on` must show the real port (getsockname), not 0"
    );
    assert!(server.addr.ip().is_loopback(), "announced {}", server.addr);
}

#[test]
fn recvfrom_then_sendto_echoes_back_to_the_sender() {
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let socket = client_for(server.addr);
    let me = socket.local_addr().expect("local_addr");
    send_datagram(&socket, b"hello", server.addr);
    let (reply, from) = recv_reply(&socket, "sent \"hello\" to the server");
    assert_eq!(
        (reply.as_slice(), from),
        (&b"hello"[..], server.addr),
        "sent \"hello\" from {me}; expected the same bytes back from {}",
        server.addr
    );
    let line = server.wait_for_line("a `recv N bytes from PEER` line", |l| {
        l.starts_with("recv ")
    });
    assert_eq!(
        line,
        format!("recv 5 bytes from {me}"),
        "sent 5 bytes from {me}.\nHint: recvfrom returns the data and the sender's address (notes 3.3); log both."
    );
}

#[test]
fn binary_datagram_comes_back_byte_for_byte() {
    let server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let socket = client_for(server.addr);
    let data = blackbox::random_bytes(1000, 3);
    send_datagram(&socket, &data, server.addr);
    let (reply, _) = recv_reply(&socket, "sent 1000 random bytes");
    blackbox::assert_bytes(
        "sent 1000 random bytes (every value 0-255); the reply",
        &data,
        &reply,
        "a datagram is bytes, not text: do not decode it",
    );
}

#[test]
fn empty_datagram_is_a_datagram_too() {
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let socket = client_for(server.addr);
    let me = socket.local_addr().expect("local_addr");
    send_datagram(&socket, b"", server.addr);
    let (reply, _) = recv_reply(&socket, "sent an empty (0-byte) datagram");
    assert!(reply.is_empty(), "sent 0 bytes, got {} back", reply.len());
    let line = server.wait_for_line("a `recv` line", |l| l.starts_with("recv "));
    assert_eq!(
        line,
        format!("recv 0 bytes from {me}"),
        "sent an empty datagram.\nHint: over UDP, recvfrom returning 0 bytes is an empty datagram, not a closed peer — there is no connection to close."
    );
    assert!(
        server.is_running(),
        "an empty datagram must not stop the server"
    );
}

#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android")),
    ignore = "only Linux reports a truncated datagram's real size"
)]
fn truncated_datagram_is_reported_with_its_real_size() {
    let mut server =
        udp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--buf-size", "1024"]);
    let socket = client_for(server.addr);
    let me = socket.local_addr().expect("local_addr");
    let big = blackbox::random_bytes(2000, 4);
    send_datagram(&socket, &big, server.addr);
    let (reply, _) = recv_reply(&socket, "sent a 2000-byte datagram");
    assert!(
        reply.len() == 1024 && reply[..] == big[..1024],
        "sent 2000 bytes to a server with --buf-size 1024; expected its first 1024 bytes echoed, got {} bytes",
        reply.len()
    );
    let line = server.wait_for_line("a `recv` line", |l| l.starts_with("recv "));
    assert_eq!(
        line,
        format!("recv 1024 bytes from {me} (truncated: datagram was 2000 bytes)"),
        "sent one 2000-byte datagram to a server with --buf-size 1024.\nHint: on Linux, recvfrom with MSG_TRUNC returns the datagram's real length."
    );
    // The 976 bytes that did not fit are gone: the next recvfrom brings the
    // next datagram, not the rest of this one (TCP would keep them).
    send_datagram(&socket, b"next", server.addr);
    let (reply, _) = recv_reply(&socket, "then sent \"next\"");
    assert_eq!(
        reply,
        b"next",
        "after a truncated datagram, sent \"next\"; expected \"next\" back.\nHint: what recvfrom does not take of a datagram is discarded (notes 4.4)."
    );
    let line = server.wait_for_line("a second `recv` line", |l| l.starts_with("recv "));
    assert_eq!(
        line,
        format!("recv 4 bytes from {me}"),
        "after the truncated datagram, sent \"next\" (4 bytes): expected the next `recv` line to say so"
    );
}

#[test]
fn count_exits_zero_after_that_many_datagrams() {
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--count", "3"]);
    let socket = client_for(server.addr);
    for (i, message) in ["one", "two", "three"].iter().enumerate() {
        send_datagram(&socket, message.as_bytes(), server.addr);
        let (reply, _) = recv_reply(
            &socket,
            &format!("--count 3: sent datagram {} ({message:?})", i + 1),
        );
        blackbox::assert_bytes(
            &format!("--count 3: datagram {} ({message:?}) came back", i + 1),
            message.as_bytes(),
            &reply,
            "",
        );
    }
    let code = server.expect_exit();
    assert_eq!(
        code,
        Some(0),
        "--count 3: echoed three datagrams; expected exit status 0\n{}",
        server.describe()
    );
}

#[test]
fn many_clients_interleave_on_one_socket() {
    const CLIENTS: usize = 20;
    const ROUNDS: usize = 5;
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let sockets: Vec<Udp> = (0..CLIENTS).map(|_| client_for(server.addr)).collect();
    // Every client sends before any reads: their datagrams queue up mixed in
    // the server's one socket, and each reply must still find its sender.
    for round in 0..ROUNDS {
        for (i, socket) in sockets.iter().enumerate() {
            let message = format!("client {i} round {round}");
            send_datagram(socket, message.as_bytes(), server.addr);
        }
    }
    for (i, socket) in sockets.iter().enumerate() {
        for round in 0..ROUNDS {
            let (reply, _) = recv_reply(socket, &format!("client {i} sent {ROUNDS} datagrams"));
            let expected = format!("client {i} round {round}");
            assert_eq!(
                String::from_utf8_lossy(&reply),
                expected,
                "{CLIENTS} clients sent {ROUNDS} datagrams each, interleaved; client {i} expected its own reply {expected:?}.\nHint: reply with sendto to the address recvfrom returned with that datagram."
            );
        }
    }
    let lines: Vec<String> = (0..CLIENTS * ROUNDS)
        .map(|_| {
            server.wait_for_line("a `recv` line for each datagram", |l| {
                l.starts_with("recv ")
            })
        })
        .collect();
    for socket in &sockets {
        let me = socket.local_addr().expect("local_addr");
        let wanted = format!("from {me}");
        let logged = lines.iter().filter(|l| l.ends_with(&wanted)).count();
        assert_eq!(
            logged, ROUNDS,
            "client {me} sent {ROUNDS} datagrams; the log names it {logged} times"
        );
    }
}

#[test]
fn serves_over_ipv6_loopback() {
    if !have_ipv6_loopback() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let mut server = udp_echo().start_server(["server", "--bind", "[::1]:0"]);
    assert!(
        server.addr.is_ipv6(),
        "bound [::1]:0 but announced {}",
        server.addr
    );
    let socket = client_for(server.addr);
    let me = socket.local_addr().expect("local_addr");
    send_datagram(&socket, "六".as_bytes(), server.addr);
    let (reply, from) = recv_reply(&socket, "sent \"六\" over IPv6");
    assert_eq!(
        (reply.as_slice(), from),
        ("六".as_bytes(), server.addr),
        "sent \"六\" over IPv6: expected the same 3 bytes back, from the server's own address"
    );
    let line = server.wait_for_line("a `recv` line", |l| l.starts_with("recv "));
    assert_eq!(
        line,
        format!("recv 3 bytes from {me}"),
        "sent \"六\" (3 bytes of UTF-8) over IPv6: expected a `recv 3 bytes from {me}` line"
    );
}

#[test]
fn server_goes_on_when_a_client_has_gone() {
    let server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    {
        // This client sends and closes at once: the reply goes to a port
        // nobody holds, and the kernel answers it with ICMP "port
        // unreachable" — which some systems report to the server.
        let gone = client_for(server.addr);
        send_datagram(&gone, b"bye", server.addr);
    }
    let socket = client_for(server.addr);
    send_datagram(&socket, b"still there?", server.addr);
    let (reply, _) = recv_reply(
        &socket,
        "a client sent a datagram and closed its socket; then another sent \"still there?\"",
    );
    assert_eq!(
        reply, b"still there?",
        "Hint: a failed sendto or an ICMP error concerns one client; log it and go on."
    );
}

#[test]
fn each_command_line_argument_is_one_datagram() {
    // The shell splits `client ADDR hello world "two words"` into five
    // arguments; the program gets them as a list of strings (sys.argv), and
    // each MESSAGE is one datagram.
    let test_server = Udp::bind("127.0.0.1:0").expect("bind");
    test_server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("SO_RCVTIMEO");
    let addr = test_server.local_addr().expect("local_addr");
    let echo = blackbox::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while got.len() < 3 {
            let Ok((n, from)) = test_server.recv_from(&mut buf) else {
                break;
            };
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = test_server.send_to(&buf[..n], from);
        }
        got
    });
    let out = udp_echo().run(
        ["client", &addr.to_string(), "hello", "world", "two words"],
        b"",
    );
    let got = echo.join().unwrap_or_default();
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert_eq!(
        got,
        ["hello", "world", "two words"],
        "ran `udp-echo client ADDR hello world 'two words'` (3 MESSAGE arguments); expected 3 datagrams.\nHint: spaces split arguments, quotes join them; each argument is one sendto."
    );
}

#[test]
#[cfg(unix)]
fn an_argument_is_bytes_and_is_sent_as_given() {
    // On Unix a program's arguments are byte strings (anything but NUL), not
    // necessarily UTF-8: `"$(printf '\xff')"` in a shell gives one byte 0xff.
    use std::os::unix::ffi::OsStrExt;
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff");
    let out = udp_echo().run(
        [
            std::ffi::OsStr::new("client"),
            std::ffi::OsStr::new(&addr),
            odd,
        ],
        b"",
    );
    assert_eq!(
        out.stdout_text().trim_end(),
        format!("reply from {addr}: caf\\xe9 \\xff"),
        "passed the argument bytes b\"caf\\xe9 \\xff\" (Latin-1, not UTF-8); expected those 6 bytes sent and the reply shown by the TEXT rule.\nHint: in Python, os.fsencode(sys.argv[i]) gives an argument's original bytes.\n{}",
        out.describe()
    );
    let line = server.wait_for_line("a `recv` line", |l| l.starts_with("recv "));
    assert!(line.starts_with("recv 6 bytes from "), "{line}");
}

#[test]
fn bad_port_or_address_is_a_usage_error() {
    for args in [
        vec!["server", "--bind", "127.0.0.1:99999"],
        vec!["server", "--bind", "127.0.0.1"],
        vec!["server", "--bind", "9003"],
        vec!["server", "--buf-size", "lots"],
        vec!["client", "127.0.0.1:port", "x"],
        vec!["client", "--timeout", "1s", "127.0.0.1:9003", "x"],
    ] {
        let out = udp_echo().run(&args, b"");
        out.assert_usage_error(&format!(
            "`udp-echo {}`: every argument arrives as a string, and one that does not parse",
            args.join(" ")
        ));
    }
}

#[test]
fn port_in_use_is_an_error_with_exit_status_1() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("local_addr").to_string();
    let out = udp_echo().run(["server", "--bind", &addr], b"");
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&addr) && line.to_lowercase().contains("in use"),
        "started a server on {addr}, which another UDP socket holds; expected `error: bind {addr}: Address already in use …`, got {line:?}"
    );
}
