//! Lesson 9 — ten thousand clients: black-box tests of `tcp-echo server
//! --model threads|poll|async`.
//!
//! Every behaviour is tested once per model, the same way: the echo contract
//! of lesson 1, 10,000 connections, a client that never reads its echo, a
//! client that floods. What tells the models apart is how many threads the
//! server runs while 100 clients are connected (Linux: /proc). Each test
//! starts the program through `blackbox`; set `IMPL_TCP_ECHO` to grade
//! another implementation.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use blackbox::{program, see, step, Conn, Program, Server};

mod support;

fn tcp_echo() -> Program {
    program!("tcp-echo")
}

const LESSON: &str = "lessons/09-many-clients/README.md";

/// Point a failure at a section of the lesson (GitHub's heading anchor).
fn section(anchor: &str) {
    see(&format!("{LESSON}#{anchor}"));
}

/// `server --model MODEL --bind 127.0.0.1:0` and `extra`.
fn start(model: &str, extra: &[&str]) -> Server {
    let mut args = vec!["server", "--model", model, "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    tcp_echo().start_server(args)
}

/// How long another client's echo may take while one client never reads.
const NOT_DELAYED: Duration = Duration::from_secs(1);
/// How long another client's echo may take while one client floods.
const NOT_STARVED: Duration = Duration::from_secs(2);
/// What a server may keep for one client that does not read its echo.
const SERVER_BUFFER_ALLOWED: u64 = 16 << 20;

// ------------------------------------------------------------------ echoes

fn echoes(model: &str) {
    section("what-the-tests-check");
    // Ten bytes in one segment, read four at a time: on an edge-triggered
    // socket epoll reports them once, so a loop that reads once per report
    // echoes 4 and leaves 6 in the receive buffer for ever.
    let server = start(model, &["--buf-size", "4", "--quiet"]);
    let mut first = Conn::connect_named(server.addr, "client 1");
    first.send(b"0123456789");
    first.expect(
        b"0123456789",
        "with --buf-size 4 one recv takes 4 of these 10 bytes; epoll (edge-triggered, as mio and tokio use it) reports the socket once, when the bytes arrive: read until recv says WouldBlock, or the other 6 wait for ever",
    );
    let mut second = Conn::connect_named(server.addr, "client 2");
    second.send("你好, second".as_bytes());
    second.expect("你好, second".as_bytes(), "");
    first.send(b"first again");
    first.expect(b"first again", "client 1 must still be served");

    // 4 MiB of every byte value, then the FIN: everything comes back in
    // order, then the server closes.
    let server = start(model, &["--quiet"]);
    let data = blackbox::random_bytes(4 << 20, 9);
    let stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    step("client 3: send 4 MiB of random bytes, then FIN, while reading the echo");
    let mut writer = stream.try_clone().expect("clone");
    let sending = data.clone();
    let sender = thread::spawn(move || {
        let result = writer.write_all(&sending);
        let _ = writer.shutdown(Shutdown::Write);
        result
    });
    let mut back = Vec::with_capacity(data.len());
    let mut reader = &stream;
    let why = match reader.read_to_end(&mut back) {
        Ok(_) => String::new(),
        Err(err) => format!(" (then the read failed: {err})"),
    };
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sender.join();
    blackbox::assert_bytes(
        &format!("client 3 sent 4 MiB and its FIN; the echo until the server closed{why}"),
        &data,
        &back,
        "echo every byte in order (bytes the kernel cannot take yet wait in the connection's write buffer, before any read later), and after the client's FIN (recv returns empty) send what is left, then close",
    );
}

#[test]
fn threads_echoes() {
    echoes("threads");
}

#[test]
fn poll_echoes() {
    echoes("poll");
}

#[test]
fn async_echoes() {
    echoes("async");
}

// -------------------------------------------------------- 10,000 connections

fn holds_10000(model: &str) {
    section("what-the-tests-check");
    const CLIENTS: usize = 10_000;
    const BUDGET: Duration = Duration::from_secs(20);
    let limit = common::net::raise_fd_limit().unwrap_or(0);
    if limit < CLIENTS as u64 + 200 {
        eprintln!(
            "skipped: this test process may open only {limit} files; it needs {CLIENTS} sockets"
        );
        return;
    }
    let server = start(model, &["--quiet"]);
    let hint = "listen with a large backlog (listen(4096)), accept until accept says WouldBlock (one readiness report can stand for many waiting clients), and raise the open-file limit (RLIMIT_NOFILE): a server out of descriptors stops accepting";
    let mut idle = support::open_idle(server.addr, CLIENTS, BUDGET, &format!("Hint: {hint}"));
    let mut newcomer = Conn::connect_named(server.addr, "a newcomer");
    newcomer.send(b"and one more");
    newcomer.expect(
        b"and one more",
        &format!("with {CLIENTS} idle connections open, a new client must be served: {hint}"),
    );
    support::ping_idle(&mut idle, &[0, CLIENTS / 2, CLIENTS - 1]);
}

#[test]
fn threads_holds_10000_connections_and_answers_a_newcomer() {
    holds_10000("threads");
}

#[test]
fn poll_holds_10000_connections_and_answers_a_newcomer() {
    holds_10000("poll");
}

#[test]
fn async_holds_10000_connections_and_answers_a_newcomer() {
    holds_10000("async");
}

// ------------------------------------------------------------------ threads

/// The most threads any one process of the server's process group runs
/// (the program, and a shell or interpreter that started it), or None where
/// there is no /proc to read.
fn most_threads_in_group(group: u32) -> Option<u64> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let mut most = None;
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command's `(name)`: state ppid pgrp … num_threads is
        // the 18th field from there (proc(5)).
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) != Some(group) {
            continue;
        }
        if let Some(threads) = fields.get(17).and_then(|n| n.parse::<u64>().ok()) {
            most = Some(most.map_or(threads, |m: u64| m.max(threads)));
        }
    }
    most
}

/// Start `model` with 100 clients connected and each echoed once; then the
/// most threads one of its processes runs.
fn threads_with_100_clients(model: &str) -> Option<(u64, Server, Vec<Conn>)> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        eprintln!("skipped: no /proc to count the server's threads in");
        return None;
    }
    let server = start(model, &["--quiet"]);
    let mut conns = Conn::connect_many(server.addr, 100);
    step("each of the 100 clients sends `hi` and reads its echo; all stay connected");
    blackbox::quietly(|| {
        for conn in &mut conns {
            conn.send(b"hi");
            conn.expect(b"hi", "");
        }
    });
    let threads = most_threads_in_group(server.pid()).unwrap_or(0);
    step(format!(
        "the busiest process of the server's process group runs {threads} threads"
    ));
    Some((threads, server, conns))
}

#[test]
fn threads_serves_each_client_on_a_thread_of_its_own() {
    section("what-the-tests-check");
    let Some((threads, _server, _conns)) = threads_with_100_clients("threads") else {
        return;
    };
    assert!(
        threads >= 100,
        "--model threads with 100 clients connected runs only {threads} threads in its busiest process; a thread per client means at least 100.\nHint: start a thread for each accepted client (lesson 1's model), not a fixed pool, nor an event loop"
    );
}

#[test]
fn poll_serves_every_client_on_one_thread() {
    section("what-the-tests-check");
    let Some((threads, _server, _conns)) = threads_with_100_clients("poll") else {
        return;
    };
    assert!(
        threads == 1,
        "--model poll with 100 clients connected runs {threads} threads in its busiest process; the model is one thread that serves every client from a readiness loop (select, poll, epoll: Python's selectors, Rust's mio)"
    );
}

#[test]
fn async_threads_do_not_grow_with_clients() {
    section("what-the-tests-check");
    let Some((threads, _server, _conns)) = threads_with_100_clients("async") else {
        return;
    };
    assert!(
        threads < 50,
        "--model async with 100 clients connected runs {threads} threads in its busiest process; async tasks share the runtime's few threads (tokio, Python's asyncio), so threads must not grow with clients"
    );
}

// -------------------------------------------------- a client that never reads

/// The kernel's largest TCP receive and send buffers (`tcp_rmem`,
/// `tcp_wmem`): what the server's socket may hold for a client whatever the
/// server does.
fn kernel_buffers() -> u64 {
    let max = |path: &str, default: u64| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
            .unwrap_or(default)
    };
    max("/proc/sys/net/ipv4/tcp_rmem", 6 << 20) + max("/proc/sys/net/ipv4/tcp_wmem", 4 << 20)
}

/// What a client that never reads got into the connection.
struct Stalled {
    sent: u64,
    stalled: bool,
    seconds: f64,
}

/// The never-reader's writes: 64 KiB of random bytes, the same each time.
const NEVER_READER_CHUNK: usize = 64 << 10;
const NEVER_READER_SEED: u64 = 3;
/// How long the never-reader waits for the first bytes of its echo once it reads.
const FIRST_ECHO: Duration = Duration::from_secs(3);

/// A client with small socket buffers that sends 64 KiB writes and never
/// reads its echo, until a write makes no progress for 1 s (the server
/// stopped reading from it) or `limit` bytes are in. Returns its stream
/// (still open) and what happened.
/// A client's connection to `addr`, its socket set up by `configure` before
/// it connects (options a handshake carries, or sizes it fixes).
fn connect_configured(addr: SocketAddr, configure: impl FnOnce(&socket2::Socket)) -> TcpStream {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .expect("socket");
    configure(&socket);
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(10))
        .expect("connect");
    socket.into()
}

fn send_without_reading(addr: SocketAddr, limit: u64) -> (TcpStream, Stalled) {
    // Small buffers on the client's side: what fills up is the server's.
    let mut stream = connect_configured(addr, |socket| {
        let _ = socket.set_recv_buffer_size(64 << 10);
        let _ = socket.set_send_buffer_size(64 << 10);
    });
    stream
        .set_write_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let chunk = blackbox::random_bytes(NEVER_READER_CHUNK, NEVER_READER_SEED);
    let started = Instant::now();
    let mut sent = 0u64;
    let mut stalled = false;
    while sent < limit {
        match stream.write(&chunk) {
            Ok(n) => sent += n as u64,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                stalled = true;
                break;
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => panic!(
                "the client that never reads had sent {sent} bytes when its send failed: {err} (the server must not drop a client for not reading)"
            ),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    (
        stream,
        Stalled {
            sent,
            stalled,
            seconds,
        },
    )
}

fn never_reader_does_not_delay_others(model: &str) {
    section("what-the-tests-check");
    let server = start(model, &["--quiet"]);
    let mut other = Conn::connect_named(server.addr, "client B");
    other.send(b"before");
    other.expect(b"before", "");
    let limit = kernel_buffers() + SERVER_BUFFER_ALLOWED + (4 << 20);
    step(format!(
        "client A: small socket buffers, sends 64 KiB writes and never reads, until a write makes no progress for 1 s or {} MiB are in",
        limit >> 20
    ));
    let (_a, stalled) = send_without_reading(server.addr, limit);
    step(format!(
        "client A got {} bytes in within {:.1} s{}",
        stalled.sent,
        stalled.seconds,
        if stalled.stalled {
            ", then its send made no progress for 1 s"
        } else {
            ""
        }
    ));
    for round in 1..=3 {
        other.set_timeout(NOT_DELAYED);
        let message = format!("ping {round}");
        let sent_at = Instant::now();
        other.send(message.as_bytes());
        other.expect(
            message.as_bytes(),
            &format!(
                "while client A sends and never reads its echo, client B's echo must come within {NOT_DELAYED:?}. A server that waits for room in A's full send buffer (a blocking send, Python's sendall, in the loop) stops serving everyone: keep what the kernel does not take in A's write buffer and go on"
            ),
        );
        step(format!(
            "client B: echo of `{message}` after {:?}",
            sent_at.elapsed()
        ));
    }
}

#[test]
fn threads_a_client_that_never_reads_does_not_delay_others() {
    never_reader_does_not_delay_others("threads");
}

#[test]
fn poll_a_client_that_never_reads_does_not_delay_others() {
    never_reader_does_not_delay_others("poll");
}

#[test]
fn async_a_client_that_never_reads_does_not_delay_others() {
    never_reader_does_not_delay_others("async");
}

fn stops_reading_from_a_never_reader(model: &str) {
    section("what-the-tests-check");
    let server = start(model, &["--quiet"]);
    let kernel = kernel_buffers();
    let limit = kernel + SERVER_BUFFER_ALLOWED + (4 << 20);
    step(format!(
        "client A: small socket buffers, sends 64 KiB writes and never reads, until a write makes no progress for 1 s or {} MiB are in (the kernel's largest socket buffers here: {} MiB)",
        limit >> 20,
        kernel >> 20
    ));
    let (a, stalled) = send_without_reading(server.addr, limit);
    step(format!(
        "client A got {} bytes in within {:.1} s",
        stalled.sent, stalled.seconds
    ));
    assert!(
        stalled.stalled,
        "a client that never reads its echo got {} MiB into the connection in {:.1} s without its send ever stalling: the server kept reading and buffering its echo without bound (the kernel's socket buffers hold at most {} MiB of it; a server may keep at most {} MiB more).\nHint: bound each connection's write buffer, and once it is full stop reading from that client (backpressure): TCP's window then closes and the client's send blocks",
        stalled.sent >> 20,
        stalled.seconds,
        kernel >> 20,
        SERVER_BUFFER_ALLOWED >> 20
    );
    // A server that never reads stalls A too: the stall counts only if the
    // server was echoing A before it stopped.
    expect_first_echo(
        a,
        &blackbox::random_bytes(NEVER_READER_CHUNK, NEVER_READER_SEED),
    );
}

/// Client A, now reading: the first `sent.len()` bytes of its echo must come
/// within 3 s and be the bytes it sent first. They are already waiting in
/// A's receive buffer when A stalls behind a server that echoed it.
fn expect_first_echo(a: TcpStream, sent: &[u8]) {
    step(format!(
        "client A reads now: the first {} bytes of its echo",
        sent.len()
    ));
    let mut a = Conn::from_stream(a, "client A").expect("peer address");
    a.set_timeout(FIRST_ECHO);
    a.expect(
        sent,
        "client A's send stalled, but the first bytes of its echo did not all come back as sent: the server stopped reading A before it had echoed that much. A server that never reads stalls a client too, and so does an edge-triggered loop that leaves bytes unread (exercise 3); this test is about one that echoes a client until its write buffer is full, then stops reading from it",
    );
}

#[test]
fn threads_stops_reading_from_a_client_that_never_reads() {
    stops_reading_from_a_never_reader("threads");
}

#[test]
fn poll_stops_reading_from_a_client_that_never_reads() {
    stops_reading_from_a_never_reader("poll");
}

#[test]
fn async_stops_reading_from_a_client_that_never_reads() {
    stops_reading_from_a_never_reader("async");
}

// ------------------------------------------------------------------- floods

/// A read or write of client A that found nothing to do within its socket's
/// timeout, or was interrupted: it tries again (until `stop`).
fn try_again(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

/// The segment size client A asks for, as on Ethernet (on loopback a
/// segment may carry 64 KiB).
const FLOOD_MSS: u32 = 1400;

/// Client A's connection, its segments at most `FLOOD_MSS` bytes (TCP_MAXSEG,
/// set before connecting, where the system allows it).
///
/// Why: a receiver reopens a closed window only once it can offer the smaller
/// of a whole segment and half its buffer (RFC 9293 §3.8.6.2.2, receiver-side
/// silly window avoidance). With loopback's 64 KiB segments A's bytes come in
/// a few large refills, and between two of them the server's receive buffer
/// now and then runs dry: recv says WouldBlock, and even a loop without a
/// bound leaves A (after 0.4 to 6.5 s in a traced run; this test then let
/// that mistake pass on an idle machine). With small segments the window
/// reopens every segment or so of reading, and bytes always wait.
fn connect_in_small_segments(addr: SocketAddr) -> TcpStream {
    connect_configured(addr, |_socket| {
        #[cfg(all(unix, not(target_os = "redox")))]
        let _ = _socket.set_tcp_mss(FLOOD_MSS);
    })
}

/// Client A's writer: 64 KiB writes without pause until `stop`.
fn flood(mut stream: TcpStream, stop: Arc<AtomicBool>) -> thread::JoinHandle<()> {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    thread::spawn(move || {
        let chunk = blackbox::random_bytes(64 << 10, 4);
        while !stop.load(Ordering::SeqCst) {
            match stream.write(&chunk) {
                Ok(_) => {}
                Err(err) if try_again(&err) => {}
                Err(_) => return,
            }
        }
    })
}

/// Client A's reader: reads the echo until `stop`, adding its bytes to `echoed`.
fn count_echoes(
    mut stream: TcpStream,
    stop: Arc<AtomicBool>,
    echoed: Arc<AtomicU64>,
) -> thread::JoinHandle<()> {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    thread::spawn(move || {
        let mut buf = vec![0u8; 64 << 10];
        while !stop.load(Ordering::SeqCst) {
            match stream.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    echoed.fetch_add(n as u64, Ordering::SeqCst);
                }
                Err(err) if try_again(&err) => {}
                Err(_) => return,
            }
        }
    })
}

fn flood_does_not_starve_others(model: &str) {
    section("what-the-tests-check");
    // One byte per recv: the server, not the flooding client, is the
    // bottleneck, so bytes always wait in the flooder's receive buffer and a
    // loop that reads one socket until WouldBlock never leaves it.
    let server = start(model, &["--buf-size", "1", "--quiet"]);
    let flooder = connect_in_small_segments(server.addr);
    let stop = Arc::new(AtomicBool::new(false));
    let echoed = Arc::new(AtomicU64::new(0));
    step(format!("client A (segments of at most {FLOOD_MSS} bytes): send 64 KiB writes without pause from one thread, read the echo on another"));
    let sender = flood(flooder.try_clone().expect("clone"), Arc::clone(&stop));
    let reader = count_echoes(
        flooder.try_clone().expect("clone"),
        Arc::clone(&stop),
        Arc::clone(&echoed),
    );
    let finish = |stop: &AtomicBool| {
        stop.store(true, Ordering::SeqCst);
        let _ = flooder.shutdown(Shutdown::Both);
    };
    // The server is busy with the flood once echoes come back.
    let deadline = Instant::now() + Duration::from_secs(10);
    while echoed.load(Ordering::SeqCst) < 4096 {
        if Instant::now() > deadline {
            finish(&stop);
            panic!(
                "client A sent without pause for 10 s and got only {} bytes of echo back",
                echoed.load(Ordering::SeqCst)
            );
        }
        thread::sleep(Duration::from_millis(5));
    }
    step(format!(
        "client A has {} bytes of echo back: the flood is being served",
        echoed.load(Ordering::SeqCst)
    ));
    let mut other = Conn::connect_named(server.addr, "client B");
    other.set_timeout(NOT_STARVED);
    let sent_at = Instant::now();
    other.send(b"my turn?");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        other.expect(
            b"my turn?",
            &format!(
                "while client A floods, client B's echo must come within {NOT_STARVED:?}. A loop that reads one socket until WouldBlock never gets past a client whose bytes keep coming: bound what one wake-up reads from a connection (the reference: 16 recv calls), and if bytes may be left, serve it again next turn, after the others"
            ),
        );
    }));
    step(format!(
        "client B waited {:?}; client A had {} bytes of echo back",
        sent_at.elapsed(),
        echoed.load(Ordering::SeqCst)
    ));
    finish(&stop);
    let _ = sender.join();
    let _ = reader.join();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn threads_one_flood_does_not_starve_the_others() {
    flood_does_not_starve_others("threads");
}

#[test]
fn poll_one_flood_does_not_starve_the_others() {
    flood_does_not_starve_others("poll");
}

#[test]
fn async_one_flood_does_not_starve_the_others() {
    flood_does_not_starve_others("async");
}

// -------------------------------------------------------------------- usage

#[test]
fn unknown_model_is_a_usage_error() {
    section("what-the-tests-check");
    for model in ["fork", "Poll"] {
        let out = tcp_echo().run_with_timeout(
            ["server", "--model", model, "--bind", "127.0.0.1:0"],
            b"",
            Duration::from_secs(5),
        );
        out.assert_usage_error(&format!(
            "`server --model {model}` (the models are exactly threads, poll and async)"
        ));
    }
}
