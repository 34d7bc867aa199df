//! Lesson 5 — TCP vs UDP: black-box tests of what `udp-echo` shows about
//! UDP's side of the notes' seven differences: message boundaries kept, no
//! connection to set up or fail, no delivery promise, one socket for every
//! client. Set `IMPL_UDP_ECHO` to grade another implementation.

mod support;
use support::*;

/// Stop or continue a process (SIGSTOP / SIGCONT) with kill(1).
#[cfg(unix)]
fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "kill {signal} {pid} failed: {status:?}"
    );
}

#[test]
fn five_sends_arrive_as_five_datagrams() {
    let mut server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let socket = test_socket("127.0.0.1:0");
    let me = local(&socket);
    // Freeze the server so that all five datagrams wait in its receive queue
    // together: the situation in which TCP hands a reader one merged chunk
    // (lesson 2, sticky packets).
    #[cfg(unix)]
    signal(server.pid(), "-STOP");
    for message in ["a", "b", "c", "d", "e"] {
        send_datagram(&socket, message.as_bytes(), server.addr);
    }
    #[cfg(unix)]
    signal(server.pid(), "-CONT");

    let lines: Vec<String> = (0..5)
        .map(|_| server.wait_for_line("a `recv` line per datagram", |l| l.starts_with("recv ")))
        .collect();
    assert_eq!(
        lines,
        vec![format!("recv 1 bytes from {me}"); 5],
        "sent five 1-byte datagrams while the server was stopped (so all five were queued at once); expected five recvfrom calls of 1 byte each.\nHint: each recvfrom takes exactly one datagram; UDP has no sticky packets (notes 5.3)."
    );
    let mut replies = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..5 {
        match socket.recv_from(&mut buf) {
            Ok((n, _)) => replies.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(err) => panic!("sent five datagrams; got {replies:?} back, then nothing ({err})"),
        }
    }
    // Over loopback nothing is lost or reordered, so the order is kept too.
    assert_eq!(
        replies,
        ["a", "b", "c", "d", "e"],
        "sent five datagrams a, b, c, d, e: expected five replies, one per datagram, in that order"
    );
}

#[test]
fn nobody_listening_shows_only_as_a_missing_reply() {
    // No connection: nothing is set up before the first datagram, so nothing
    // fails when nobody is there. sendto succeeds; the reply just never comes
    // (TCP's connect would have failed at once with "Connection refused").
    let closed = {
        let socket = test_socket("127.0.0.1:0");
        local(&socket)
    };
    let out = udp_echo().run(
        ["client", "--timeout", "200", &closed.to_string(), "anyone?"],
        b"",
    );
    let line = out.assert_error(1).to_string();
    assert_eq!(
        line,
        format!("error: timeout: no reply from {closed} within 200 ms"),
        "sent a datagram to {closed}, where nothing listens, from an unconnected socket: the send succeeds and only the missing reply shows\n{}",
        out.describe()
    );
}

#[test]
fn a_lost_datagram_is_never_resent() {
    // The test's server takes the first datagram and throws it away — a loss
    // as far as the client can tell. UDP does not retransmit, and neither
    // does the client: exactly one datagram arrives, then the client gives up.
    let server = test_socket("127.0.0.1:0");
    let addr = local(&server);
    let out = udp_echo().run(
        ["client", "--timeout", "400", &addr.to_string(), "once"],
        b"",
    );
    out.assert_error(1);
    server.set_nonblocking(true).expect("O_NONBLOCK");
    let mut buf = [0u8; 1024];
    let mut arrived = 0;
    while server.recv_from(&mut buf).is_ok() {
        arrived += 1;
    }
    assert_eq!(
        arrived, 1,
        "the client sent \"once\" and no reply came; expected exactly one datagram to arrive (UDP does not resend; notes 5.5)"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn one_socket_serves_every_client() {
    // A TCP server holds one socket per connected client (accept creates
    // it); a UDP server holds one socket, whatever the number of clients
    // (notes 5.4: TCP's connections cost resources).
    const CLIENTS: usize = 50;
    let server = udp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let sockets_of = |pid: u32| -> usize {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.filter_map(Result::ok)
                    .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                    .filter(|target| target.to_string_lossy().starts_with("socket:"))
                    .count()
            })
            .unwrap_or(0)
    };
    let before = sockets_of(server.pid());
    assert!(before >= 1, "the server process holds no socket at all");
    let clients: Vec<Udp> = (0..CLIENTS).map(|_| test_socket("127.0.0.1:0")).collect();
    let mut buf = [0u8; 64];
    for (i, client) in clients.iter().enumerate() {
        send_datagram(client, format!("client {i}").as_bytes(), server.addr);
        if let Err(err) = client.recv_from(&mut buf) {
            panic!("client {i} of {CLIENTS} got no reply: {err}");
        }
    }
    // All 50 clients still hold their sockets open.
    let after = sockets_of(server.pid());
    assert_eq!(
        after, before,
        "the server held {before} socket(s) before {CLIENTS} clients talked to it and {after} after (the clients are still open).\nHint: a UDP server needs no socket per client: one recvfrom/sendto socket serves them all."
    );
}
