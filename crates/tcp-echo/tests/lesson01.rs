//! Lesson 1 — TCP data transfer: black-box tests of `tcp-echo`.
//!
//! Each test starts the program through `blackbox` and talks to it over real
//! loopback sockets, checking only what README "Conventions" and the lesson
//! promise. Every wait has a deadline; a failure shows what the test did,
//! the bytes sent and received, everything the program printed, and how to
//! try it by hand. Set `IMPL_TCP_ECHO` to grade another implementation.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use blackbox::{program, see, step, Conn, Program};

mod support;
use predicates::prelude::*;

fn tcp_echo() -> Program {
    program!("tcp-echo")
}

const LESSON: &str = "lessons/01-tcp-transfer/README.md";

/// Point a failure at a section of the lesson (GitHub's heading anchor).
fn section(anchor: &str) {
    see(&format!("{LESSON}#{anchor}"));
}

#[test]
fn help_lists_every_flag_with_its_default() {
    section("reference");
    tcp_echo().assert(["server", "--help"]).success().stdout(
        predicate::str::contains("--bind")
            .and(predicate::str::contains("--buf-size"))
            .and(predicate::str::contains("--max-clients"))
            .and(predicate::str::contains("127.0.0.1:9001"))
            .and(predicate::str::contains("1024")),
    );
    tcp_echo()
        .assert(["client", "--help"])
        .success()
        .stdout(predicate::str::contains("--bench"));
}

#[test]
fn server_announces_the_port_the_os_chose() {
    section("run-it");
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    assert_ne!(
        server.addr.port(),
        0,
        "`listening on` must show the real port, not 0"
    );
    assert!(
        server.addr.ip().is_loopback(),
        "bound 127.0.0.1:0; expected `listening on` to show a loopback address, got {}",
        server.addr
    );
    // The announced address really accepts connections.
    let _ = Conn::connect(server.addr);
}

#[test]
fn client_prints_the_echo_of_each_message() {
    section("run-it");
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let out = tcp_echo().run(["client", &addr, "hello", "你好, TCP"], b"");
    out.assert_stdout(
        "hello\n你好, TCP\n".as_bytes(),
        "`client ADDR hello '你好, TCP'` sent two messages",
        "print each echo on its own line, and nothing else on stdout",
    );
}

#[test]
fn client_reads_an_echo_that_comes_in_pieces() {
    section("12-recv-leaves-the-rest-for-the-next-call");
    // The test plays the server: it echoes each message back two bytes at
    // a time, 100 ms apart, as a server with a small recv buffer on a slow
    // network would (section 1.2, `server --buf-size 4`). The client's
    // first recv then brings only part of the echo.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    step(format!(
        "play a server on {addr} that echoes each message 2 bytes at a time, 100 ms apart"
    ));
    let server = blackbox::spawn(move || {
        let Ok(mut conn) = Conn::accept(&listener, "the test's server", Duration::from_secs(8))
        else {
            return;
        };
        // Until the client closes (an empty recv), or a deadline passes.
        while let Ok(data) = conn.recv_some(4096) {
            if data.is_empty() {
                break;
            }
            for piece in data.chunks(2) {
                if conn.try_send(piece).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        conn.close();
    });
    let out = tcp_echo().run(
        ["client", &addr.to_string(), "hello", "piece by piece"],
        b"",
    );
    let _ = server.join();
    out.assert_stdout(
        b"hello\npiece by piece\n",
        "`client ADDR hello 'piece by piece'` against a server that echoes 2 bytes at a time, 100 ms apart",
        "one recv may bring only part of the echo: call recv until as many bytes as the message had have come (notes 1.2)",
    );
}

#[test]
fn echoes_over_ipv6_loopback() {
    section("run-it");
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let server = tcp_echo().start_server(["server", "--bind", "[::1]:0"]);
    assert!(
        server.addr.is_ipv6(),
        "bound [::1]:0 but announced {}",
        server.addr
    );
    let out = tcp_echo().run(["client", &server.addr.to_string(), "six"], b"");
    out.assert_stdout(b"six\n", "`client [::1]:PORT six`", "");
}

#[test]
fn pipe_mode_round_trips_16_mib_of_binary() {
    section("11-the-send-and-receive-buffers-缓冲区");
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    let data = blackbox::random_bytes(16 << 20, 20180510);
    let out = tcp_echo().run(["client", &server.addr.to_string()], &data);
    out.assert_stdout(
        &data,
        "piped 16 MiB of random bytes (every byte value) through `client ADDR`",
        "read and write at the same time (a client that sends everything first deadlocks once both buffers are full), use sendall, and never treat the data as text",
    );
}

#[test]
fn partial_recv_continues_on_next_call() {
    section("12-recv-leaves-the-rest-for-the-next-call");
    let mut server =
        tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--buf-size", "4"]);
    let mut conn = Conn::connect(server.addr);
    let me = conn.local_addr();
    conn.send(b"0123456789");
    conn.expect(
        b"0123456789",
        "echo everything each recv returns, with sendall",
    );

    server.wait_for_line(&format!("`connected {me}`"), |l| {
        l == format!("connected {me}")
    });
    let mut sizes = Vec::new();
    while sizes.len() < 3 {
        let line = server.wait_for_line("a `recv N bytes from PEER` line", |l| {
            l.starts_with("recv ")
        });
        sizes.push(line);
    }
    let expected: Vec<String> = [4, 4, 2]
        .iter()
        .map(|n| format!("recv {n} bytes from {me}"))
        .collect();
    assert_eq!(
        sizes, expected,
        "sent 10 bytes in one write to a server with --buf-size 4; expected recv 4, 4, 2.\nHint: what one recv does not take stays in the receive buffer for the next call (notes 1.2)."
    );
}

#[test]
fn recv_returns_empty_when_the_peer_disconnects() {
    section("13-recv-returns-empty-when-the-peer-disconnects");
    let mut server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let mut conn = Conn::connect(server.addr);
    let me = conn.local_addr();
    conn.send(b"bye");
    conn.expect(b"bye", "");
    conn.close();
    let line = server.wait_for_line_hinted(
        &format!("a `closed {me} after 3 bytes` line"),
        "recv returns empty (0 bytes) only when the peer has closed: that is the end — log `closed PEER after N bytes` and close (notes 1.3). A loop that takes an empty recv for a pause reads empty again and again, and never closes.",
        |l| l.starts_with("closed "),
    );
    assert_eq!(
        line,
        format!("closed {me} after 3 bytes"),
        "closed a connection after sending 3 bytes.\nHint: recv returns empty (0 bytes) only when the peer has closed (notes 1.3)."
    );
}

#[test]
fn serves_a_second_client_while_the_first_stays_open() {
    section("many-clients-at-once");
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    let mut first = Conn::connect_named(server.addr, "client 1");
    first.send(b"first");
    first.expect(b"first", "");
    // Client 1 stays connected. The kernel completes client 2's handshake
    // by itself (it waits in the listen backlog), so only the echo tells
    // whether the server serves it now, or only after client 1 leaves.
    let mut second = Conn::connect_named(server.addr, "client 2");
    second.set_timeout(Duration::from_secs(3));
    second.send(b"second");
    second.expect(
        b"second",
        "while client 1 stays connected, a server that serves one client at a time never reads client 2's message. Serve each client on a thread of its own (or use select/epoll).",
    );
    first.send(b"first again");
    first.expect(b"first again", "client 1 must still be served");
}

#[test]
fn serves_100_clients_at_once() {
    section("many-clients-at-once");
    const CLIENTS: usize = 100;
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    // All 100 connect first, and every one stays open until all are done: a
    // server that served one client at a time would answer the first and
    // never the others.
    let conns = Conn::connect_many(server.addr, CLIENTS);
    step(format!(
        "on {CLIENTS} threads at once, each client sends `client I says hello` and waits up to 10 s for its echo"
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .rev()
        .map(|(i, mut conn)| {
            thread::spawn(move || {
                let message = format!("client {i} says hello");
                conn.set_timeout(deadline.saturating_duration_since(Instant::now()));
                let result = match conn.stream().write_all(message.as_bytes()) {
                    Err(e) => Err(format!("client {i}: send failed: {e}")),
                    Ok(()) => match conn.recv_exactly(message.len()) {
                        Ok(echo) if echo == message.as_bytes() => Ok(()),
                        Ok(echo) => Err(format!(
                            "client {i} sent \"{message}\" and got \"{}\"",
                            blackbox::text(&echo)
                        )),
                        Err((got, why)) => Err(format!(
                            "client {i} sent \"{message}\" and got \"{}\"; then {why}",
                            blackbox::text(&got)
                        )),
                    },
                };
                // The connection goes back to the test, still open.
                (result, conn)
            })
        })
        .collect();
    let mut failures = Vec::new();
    let mut still_open = Vec::new();
    for worker in workers {
        match worker.join() {
            Ok((Ok(()), conn)) => still_open.push(conn),
            Ok((Err(why), conn)) => {
                failures.push(why);
                still_open.push(conn);
            }
            Err(_) => failures.push("a client thread failed".to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "{CLIENTS} clients connected at once and each sent one message while all stayed open; {} of them got no echo (or a wrong one), e.g.\n  {}\nHint: a server that serves one client at a time answers only the first. Serve each client on its own thread (or use select/epoll).",
        failures.len(),
        failures.iter().take(3).cloned().collect::<Vec<_>>().join("\n  ")
    );
    // The server goes first, then the 100 connections.
    drop(server);
    drop(still_open);
}

#[test]
fn one_reset_connection_does_not_stop_the_server() {
    section("when-things-fail");
    let mut server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let reset_peer = {
        // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        let conn = Conn::connect(server.addr);
        let me = conn.local_addr();
        conn.reset();
        me
    };
    // The reset is reported as one `error:` line naming the peer…
    let stderr = server.wait_for_stderr(&reset_peer.to_string());
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("error: ") && l.contains(&reset_peer.to_string())),
        "reset a connection; expected an `error: … {reset_peer}: …` line on stderr, got {stderr:?}"
    );
    // …and the server goes on.
    let out = tcp_echo().run(["client", &server.addr.to_string(), "still here"], b"");
    out.assert_stdout(
        b"still here\n",
        "reset one connection, then sent \"still here\" on another",
        "one connection's failure must never stop the server",
    );
    assert!(
        server.is_running(),
        "after one connection was reset and another served, the server must still be running"
    );
}

#[test]
fn max_clients_exits_after_that_many_disconnect() {
    section("reference");
    let mut server =
        tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--max-clients", "2"]);
    let addr = server.addr.to_string();
    for message in ["one", "two"] {
        tcp_echo().assert(["client", &addr, message]).success();
    }
    let code = server.expect_exit();
    assert_eq!(
        code,
        Some(0),
        "--max-clients 2: expected exit 0 after two clients disconnected\n{}",
        server.describe()
    );
}

#[test]
fn port_in_use_is_an_error_with_exit_status_1() {
    section("when-things-fail");
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let out = tcp_echo().run(["server", "--bind", &addr], b"");
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&addr) && line.to_lowercase().contains("in use"),
        "started a second server on {addr}; expected `error: bind {addr}: Address already in use …`, got {line:?}"
    );
}

#[test]
fn server_restarts_on_its_port_while_an_old_client_is_still_connected() {
    section("when-things-fail");
    let mut first = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = first.addr.to_string();
    let mut old = Conn::connect_named(first.addr, "old client");
    old.send(b"before");
    old.expect(b"before", "");
    step("stop the server (SIGKILL to its process group) while the old client stays connected");
    first.kill();
    // The kernel closes the dead server's sockets: the listener at once,
    // the connection with a FIN. The old client does not close its end, so
    // the server's end of that connection waits in FIN_WAIT_2 (TIME_WAIT
    // after a close) and still holds the port.
    old.expect_close("the server was stopped: the kernel closes its end of the connection (FIN)");
    step(format!(
        "start the server again at once on {addr}, the old client still connected"
    ));
    let mut again = tcp_echo().start(["server", "--bind", &addr]);
    let first_line = again.next_line(Duration::from_secs(10));
    if first_line.as_deref() != Some(format!("listening on {addr}").as_str()) {
        let _ = again.wait_exit(Duration::from_millis(500));
        panic!(
            "stopped the server while a client was still connected, then started `server --bind {addr}` again at once; expected its first stdout line `listening on {addr}`, got {}; its stderr: {:?}\nHint: the old connection still holds port {} (its server end is in FIN_WAIT_2, later TIME_WAIT, for up to a minute). Set SO_REUSEADDR on the listening socket before bind, as every server here does (lesson 6, \"TIME_WAIT, and why SO_REUSEADDR exists\"; Python's socket.create_server sets it too).",
            first_line.map_or("no line".to_string(), |l| format!("{l:?}")),
            again.stderr_text(),
            first.addr.port()
        );
    }
    let out = tcp_echo().run(["client", &addr, "after the restart"], b"");
    out.assert_stdout(
        b"after the restart\n",
        "restarted the server on the port its old connection still holds, then sent \"after the restart\"",
        "the restarted server serves new clients on its old port",
    );
    drop(old);
}

#[test]
fn connection_refused_is_an_error_with_exit_status_1() {
    section("when-things-fail");
    let addr = blackbox::closed_port_addr().to_string();
    tcp_echo()
        .assert(["client", &addr, "anyone there?"])
        .code(1)
        .stderr(
            predicate::str::starts_with("error: ")
                .and(predicate::str::contains(addr.as_str()))
                .and(predicate::str::is_match("(?i)refused").expect("regex")),
        );
}

#[test]
fn server_closing_early_is_an_error_with_exit_status_1() {
    section("when-things-fail");
    // The test plays a broken server: it reads the message and hangs up
    // without echoing it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    listener.set_nonblocking(true).expect("set_nonblocking");
    step(format!(
        "play a server on {addr} that reads `hello` and closes without echoing"
    ));
    // It gives up when the client's run is over, connected or not.
    let client_done = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&client_done);
    let rude = thread::spawn(move || {
        while !done.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = [0u8; 5];
                    let _ = stream.read_exact(&mut buf);
                    return;
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let out = tcp_echo().run(["client", &addr.to_string(), "hello"], b"");
    client_done.store(true, Ordering::SeqCst);
    let _ = rude.join();
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&addr.to_string()),
        "the error should name {addr}: {line:?}"
    );
}

#[test]
fn bad_addresses_are_usage_errors_with_exit_status_2() {
    section("when-things-fail");
    for args in [
        vec!["server", "--bind", "127.0.0.1:99999"],
        vec!["server", "--bind", "not-an-address"],
        vec!["client", "300.0.0.1:9001", "x"],
        vec!["server", "--no-such-flag"],
    ] {
        tcp_echo().assert(&args).code(2).stderr(
            predicate::str::contains("panicked")
                .or(predicate::str::contains("Traceback"))
                .not(),
        );
    }
}

#[test]
fn holds_10000_open_connections_and_still_echoes() {
    section("many-clients-at-once");
    const CLIENTS: usize = 10_000;
    // Connecting all of them may take this long. A connection attempt the
    // server's full listen backlog drops is retried by the kernel only after
    // 1 s, then 3 s, 7 s…: with a small backlog this budget runs out.
    const BUDGET: Duration = Duration::from_secs(20);
    let limit = common::net::raise_fd_limit().unwrap_or(0);
    if limit < CLIENTS as u64 + 200 {
        eprintln!(
            "skipped: this test process may open only {limit} files; it needs {CLIENTS} sockets"
        );
        return;
    }
    // Declared before the server, so that it is dropped after it: the
    // server is stopped first, and a server that mishandles the clients'
    // closes (spinning on an empty recv) never sees 10,000 of them at once.
    let mut idle: Vec<TcpStream>;
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    let not_accepted = "Connections the server does not accept wait in its listen backlog; once the backlog is full the kernel drops new attempts and the client retries after 1 s, 3 s, 7 s… Hint: listen with a large backlog (the reference uses listen(4096); listen(5) or Python's default of 128 are too small for 10,000 clients arriving at once), accept in a loop that does nothing else, and raise the server's open-file limit (ulimit -n; in Python resource.setrlimit(RLIMIT_NOFILE, (hard, hard))): a server out of descriptors stops accepting. (A server that serves one client at a time accepts nobody else while the first stays connected: see serves_a_second_client_while_the_first_stays_open.)";
    idle = support::open_idle(server.addr, CLIENTS, BUDGET, not_accepted);
    // With all of them still open, a new client is echoed.
    let out = tcp_echo().run(["client", &server.addr.to_string(), "and one more"], b"");
    out.assert_stdout(
        b"and one more\n",
        &format!("with {CLIENTS} connections open, a new client sent \"and one more\""),
        "raise the open-file limit (ulimit -n), and do not cap clients at a thread pool's size",
    );
    // The idle ones are still served too: the first and the last.
    support::ping_idle(&mut idle, &[0, CLIENTS - 1]);
}
