//! Lesson 1 — TCP data transfer: black-box tests of `tcp-echo`.
//!
//! Each test starts the program through `blackbox` and talks to it over real
//! loopback sockets, checking only what README "Conventions" and the lesson
//! promise. Set `IMPL_TCP_ECHO` to grade another implementation.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use blackbox::{program, Program};

fn tcp_echo() -> Program {
    program!("tcp-echo")
}

/// Connect from the test itself, with a deadline on every read.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set_read_timeout");
    stream
}

/// Read exactly `len` bytes, panicking with `what` if they do not come.
fn read_exactly(stream: &mut TcpStream, len: usize, what: &str) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    if let Err(err) = stream.read_exact(&mut buf) {
        panic!("{what}: expected {len} bytes back; {}", why_no_echo(&err));
    }
    buf
}

/// A failed read, in the words of the lesson.
fn why_no_echo(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            "nothing (more) came back within 10 s".to_string()
        }
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection first".to_string(),
        _ => format!("the read failed: {err}"),
    }
}

#[test]
fn help_lists_every_flag_with_its_default() {
    let out = tcp_echo().run(["server", "--help"], b"");
    let help = out.stdout_text();
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    for flag in ["--bind", "--buf-size", "--max-clients"] {
        assert!(
            help.contains(flag),
            "`server --help` should list {flag}\n{}",
            out.describe()
        );
    }
    for default in ["127.0.0.1:9001", "1024"] {
        assert!(
            help.contains(default),
            "`server --help` should show the default {default}\n{}",
            out.describe()
        );
    }
    let out = tcp_echo().run(["client", "--help"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert!(
        out.stdout_text().contains("--bench"),
        "`client --help` should list --bench\n{}",
        out.describe()
    );
}

#[test]
fn server_announces_the_port_the_os_chose() {
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    assert_ne!(
        server.addr.port(),
        0,
        "`listening on` must show the real port, not 0"
    );
    assert!(server.addr.ip().is_loopback());
    // The announced address really accepts connections.
    let _ = connect(server.addr);
}

#[test]
fn client_prints_the_echo_of_each_message() {
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let out = tcp_echo().run(["client", &addr, "hello", "你好, TCP"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert_eq!(
        out.stdout_text(),
        "hello\n你好, TCP\n",
        "sent two messages; expected each echo on its own line\n{}",
        out.describe()
    );
}

#[test]
fn echoes_over_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
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
    assert_eq!(out.stdout_text(), "six\n", "{}", out.describe());
}

#[test]
fn pipe_mode_round_trips_16_mib_of_binary() {
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    let data = blackbox::random_bytes(16 << 20, 20180510);
    let out = tcp_echo().run(["client", &server.addr.to_string()], &data);
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert!(
        out.stdout.len() == data.len() && out.stdout == data,
        "piped 16 MiB of random bytes through the client; expected exactly the same bytes on stdout, got {} bytes{}.\nHint: read and write at the same time, and never treat the data as text.\nstderr: {}",
        out.stdout.len(),
        match out.stdout.iter().zip(&data).position(|(a, b)| a != b) {
            Some(at) => format!(", first difference at byte {at}"),
            None => String::new(),
        },
        out.stderr
    );
}

#[test]
fn partial_recv_continues_on_next_call() {
    let mut server =
        tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--buf-size", "4"]);
    let mut stream = connect(server.addr);
    let me = stream.local_addr().expect("local_addr");
    stream.write_all(b"0123456789").expect("send");
    let echo = read_exactly(
        &mut stream,
        10,
        "sent 10 bytes to a server with --buf-size 4",
    );
    assert_eq!(echo, b"0123456789");

    server.wait_for_line(&format!("`connected {me}`"), |l| {
        l == format!("connected {me}")
    });
    let mut sizes = Vec::new();
    while sizes.len() < 3 {
        let line = server.wait_for_line("three `recv N bytes` lines", |l| l.starts_with("recv "));
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
    let mut server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let mut stream = connect(server.addr);
    let me = stream.local_addr().expect("local_addr");
    stream.write_all(b"bye").expect("send");
    read_exactly(&mut stream, 3, "sent 3 bytes");
    drop(stream);
    let line = server.wait_for_line(&format!("a `closed {me} after 3 bytes` line"), |l| {
        l.starts_with("closed ")
    });
    assert_eq!(
        line,
        format!("closed {me} after 3 bytes"),
        "closed a connection after sending 3 bytes.\nHint: recv returns empty (0 bytes) only when the peer has closed (notes 1.3)."
    );
}

#[test]
fn serves_100_clients_at_once() {
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    // All 100 connect first and stay open; a server that served one client
    // at a time would never answer the second while the first is connected.
    let streams: Vec<TcpStream> = (0..100).map(|_| connect(server.addr)).collect();
    let workers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .rev()
        .map(|(i, mut stream)| {
            thread::spawn(move || -> Result<(), String> {
                let message = format!("client {i} says hello");
                stream
                    .write_all(message.as_bytes())
                    .map_err(|e| format!("client {i}: send failed: {e}"))?;
                let mut echo = vec![0u8; message.len()];
                match stream.read_exact(&mut echo) {
                    Ok(()) if echo == message.as_bytes() => Ok(()),
                    Ok(()) => Err(format!(
                        "client {i} sent {message:?} and got {:?}",
                        String::from_utf8_lossy(&echo)
                    )),
                    Err(e) => Err(format!(
                        "client {i} sent {message:?}; no full echo: {}",
                        why_no_echo(&e)
                    )),
                }
            })
        })
        .collect();
    let failures: Vec<String> = workers
        .into_iter()
        .filter_map(|w| match w.join() {
            Ok(Ok(())) => None,
            Ok(Err(why)) => Some(why),
            Err(_) => Some("a client thread failed".to_string()),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "100 clients connected at once and each sent one message; expected 100 echoes, {} clients got none or a wrong one, e.g.\n  {}\nHint: serve each client on its own thread (or use select/epoll).",
        failures.len(),
        failures.iter().take(3).cloned().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn one_reset_connection_does_not_stop_the_server() {
    let mut server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0"]);
    let reset_peer = {
        // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        let stream = connect(server.addr);
        let me = stream.local_addr().expect("local_addr");
        let socket = socket2::SockRef::from(&stream);
        socket.set_linger(Some(Duration::ZERO)).expect("SO_LINGER");
        let _ = stream.shutdown(Shutdown::Read);
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
    assert_eq!(
        out.stdout_text(),
        "still here\n",
        "reset one connection, then sent \"still here\" on another; expected the echo.\nHint: one connection's failure must never stop the server.\n{}",
        out.describe()
    );
    assert!(server.is_running());
}

#[test]
fn max_clients_exits_after_that_many_disconnect() {
    let mut server =
        tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--max-clients", "2"]);
    let addr = server.addr.to_string();
    for message in ["one", "two"] {
        let out = tcp_echo().run(["client", &addr, message], b"");
        assert_eq!(out.code(), Some(0), "{}", out.describe());
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
fn connection_refused_is_an_error_with_exit_status_1() {
    let addr = blackbox::closed_port_addr().to_string();
    let out = tcp_echo().run(["client", &addr, "anyone there?"], b"");
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&addr) && line.to_lowercase().contains("refused"),
        "connected to {addr}, where nothing listens; expected `error: connect {addr}: Connection refused …`, got {line:?}"
    );
}

#[test]
fn server_closing_early_is_an_error_with_exit_status_1() {
    // The test plays a broken server: it reads the message and hangs up
    // without echoing it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    listener.set_nonblocking(true).expect("set_nonblocking");
    let rude = thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
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
    let _ = rude.join();
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&addr.to_string()),
        "the error should name {addr}: {line:?}"
    );
}

#[test]
fn bad_addresses_are_usage_errors_with_exit_status_2() {
    for args in [
        vec!["server", "--bind", "127.0.0.1:99999"],
        vec!["server", "--bind", "not-an-address"],
        vec!["client", "300.0.0.1:9001", "x"],
        vec!["server", "--no-such-flag"],
    ] {
        let out = tcp_echo().run(&args, b"");
        assert_eq!(
            out.code(),
            Some(2),
            "bad usage must exit 2\n{}",
            out.describe()
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.describe());
    }
}

#[test]
fn holds_10000_open_connections_and_still_echoes() {
    const CLIENTS: usize = 10_000;
    let limit = common::net::raise_fd_limit().unwrap_or(0);
    if limit < CLIENTS as u64 + 200 {
        eprintln!(
            "skipped: this test process may open only {limit} files; it needs {CLIENTS} sockets"
        );
        return;
    }
    let server = tcp_echo().start_server(["server", "--bind", "127.0.0.1:0", "--quiet"]);
    let mut idle = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        match TcpStream::connect(server.addr) {
            Ok(stream) => idle.push(stream),
            Err(err) => panic!(
                "opened {i} connections that stay open; connection {} failed: {err}",
                i + 1
            ),
        }
    }
    // With all of them still open, a new client is echoed.
    let out = tcp_echo().run(["client", &server.addr.to_string(), "and one more"], b"");
    assert_eq!(
        out.stdout_text(),
        "and one more\n",
        "with {CLIENTS} connections open, a new client sent \"and one more\"; expected its echo.\nHint: raise the open-file limit (ulimit -n), and do not cap clients at a thread pool's size.\n{}",
        out.describe()
    );
    // The idle ones are still served too: the first and the last.
    for i in [0, CLIENTS - 1] {
        let stream = &mut idle[i];
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(b"ping").expect("send");
        assert_eq!(
            read_exactly(stream, 4, &format!("idle connection {i}")),
            b"ping"
        );
    }
}
