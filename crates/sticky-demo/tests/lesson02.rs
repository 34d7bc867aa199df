//! Lesson 2 — TCP sticky packets (粘包) and message framing: black-box tests
//! of `sticky-demo`.
//!
//! Every test starts the program through `blackbox` and talks to it over
//! loopback sockets, checking only what README "Conventions" and the lesson
//! promise: the `recv N: K bytes: TEXT`, `message N: TEXT` and
//! `summary PEER: R reads, M messages` lines, `error:` lines and exit
//! statuses, and the bytes on the wire. Set `IMPL_STICKY_DEMO` to grade
//! another implementation:
//!
//! ```text
//! IMPL_STICKY_DEMO='python3 my_sticky.py' cargo test -p sticky-demo --test lesson02
//! ```
//!
//! Where the test itself is the client, it sends each message with its own
//! write and TCP_NODELAY, so every message leaves in its own segment: any
//! merging seen by the server happened in its receive buffer, not ours.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use blackbox::{program, Conn, Program, Server};
use common::show_bytes;

fn sticky() -> Program {
    program!("sticky-demo")
}

/// Start `sticky-demo server` on a free loopback port with `args`.
fn server(args: &[&str]) -> Server {
    let mut all = vec!["server", "--bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    sticky().start_server(all)
}

/// Connect from the test, as a client whose writes leave at once.
/// The test's connection to the server: every read and write is recorded
/// (a failure draws the conversation), each send without Nagle's delay so
/// that separate writes leave as separate segments.
fn connect(addr: SocketAddr) -> Conn {
    let conn = Conn::connect(addr);
    conn.set_nodelay(true).expect("TCP_NODELAY");
    conn
}

fn length_frame(message: &[u8]) -> Vec<u8> {
    let mut frame = (message.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(message);
    frame
}

/// A line frame: the message, then `\n`.
fn line_frame(message: &[u8]) -> Vec<u8> {
    let mut frame = message.to_vec();
    frame.push(b'\n');
    frame
}

/// `summary PEER: R reads, M messages` → (PEER, R, M). A count of one may be
/// singular (`1 read`, `1 message`), as the reference prints it, or not.
fn parse_summary(line: &str) -> Option<(String, u64, u64)> {
    let rest = line.strip_prefix("summary ")?;
    let (peer, counts) = rest.split_once(": ")?;
    let (reads, messages) = counts.split_once(", ")?;
    let count = |text: &str, word: &str| -> Option<u64> {
        let (n, unit) = text.trim().split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        (unit == format!("{word}s") || (n == 1 && unit == word)).then_some(n)
    };
    Some((
        peer.to_string(),
        count(reads, "read")?,
        count(messages, "message")?,
    ))
}

/// Everything the server logged about one connection, up to its summary.
struct Connection {
    /// TEXT of each `recv N: K bytes: TEXT` line, with K.
    recvs: Vec<(usize, String)>,
    /// TEXT of each `message N: TEXT` line, in order.
    messages: Vec<String>,
    reads: u64,
    message_count: u64,
    lines: Vec<String>,
}

/// Read the server's lines until the summary of the connection from `peer`
/// (or of any connection when `peer` is `None`). With one client at a time,
/// every recv and message line before it belongs to that client.
fn until_summary(server: &mut Server, peer: Option<SocketAddr>) -> Connection {
    let what = match peer {
        Some(peer) => format!("`summary {peer}: R reads, M messages`"),
        None => "a `summary PEER: R reads, M messages` line".to_string(),
    };
    let lines = server.lines_until(&what, |line| match (parse_summary(line), peer) {
        (Some((p, _, _)), Some(peer)) => p == peer.to_string(),
        (Some(_), None) => true,
        _ => false,
    });
    let (_, reads, message_count) = parse_summary(lines.last().map(String::as_str).unwrap_or(""))
        .expect("lines_until returned a summary line last");
    let mut recvs = Vec::new();
    let mut messages = Vec::new();
    for line in &lines {
        if let Some((n, text)) = parse_recv(line) {
            recvs.push((n, text));
        } else if let Some(text) = parse_message(line, messages.len() + 1) {
            messages.push(text);
        }
    }
    Connection {
        recvs,
        messages,
        reads,
        message_count,
        lines,
    }
}

/// `recv N: K bytes: TEXT` → (K, TEXT).
fn parse_recv(line: &str) -> Option<(usize, String)> {
    let rest = line.strip_prefix("recv ")?;
    let (_, rest) = rest.split_once(": ")?;
    let (count, text) = rest.split_once(" bytes:")?;
    let text = text.strip_prefix(' ').unwrap_or(text);
    Some((count.parse().ok()?, text.to_string()))
}

/// `message N: TEXT` with the expected N → TEXT (an empty TEXT may lose the
/// space after the colon).
fn parse_message(line: &str, n: usize) -> Option<String> {
    let rest = line.strip_prefix(&format!("message {n}:"))?;
    Some(rest.strip_prefix(' ').unwrap_or(rest).to_string())
}

fn shown(messages: &[&[u8]]) -> Vec<String> {
    messages.iter().map(|m| show_bytes(m)).collect()
}

/// Wait until `stream` is closed by the server: read returns 0, or the
/// connection is reset (closing with unread bytes sends RST).
fn assert_closed_by_server(stream: &mut Conn, what: &str) {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ) => {}
        Ok(n) => panic!("{what}: expected the server to close the connection; it sent {n} bytes"),
        Err(err) => {
            panic!("{what}: expected the server to close the connection; the read failed: {err}")
        }
    }
}

// ---------------------------------------------------------------------------
// Conventions

#[test]
fn help_lists_every_flag_with_its_default() {
    sticky()
        .assert(["server", "--help"])
        .success()
        .stdout(blackbox::mentions_all(&[
            "--bind",
            "--framing",
            "--buf-size",
            "--read-delay",
            "--max-frame",
            "--max-clients",
            "--quiet",
            "127.0.0.1:9002",
        ]));
    sticky()
        .assert(["client", "--help"])
        .success()
        .stdout(blackbox::mentions_all(&[
            "--framing",
            "--delay",
            "--bench",
            "--size",
        ]));
}

#[test]
fn server_announces_the_port_the_os_chose() {
    let server = server(&[]);
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
    let _ = connect(server.addr);
}

#[test]
fn an_unknown_framing_mode_is_a_usage_error() {
    for args in [
        vec!["server", "--framing", "fancy"],
        vec!["client", "127.0.0.1:9002", "--framing", "fancy", "hi"],
    ] {
        let out = sticky().run(&args, b"");
        // Exit status 2 and an error message; an argument parser may print
        // its usage line first (Python's argparse does).
        assert_eq!(
            out.code(),
            Some(2),
            "`{}`: an unknown --framing is bad usage, exit status 2\n{}",
            args.join(" "),
            out.describe()
        );
        assert!(
            out.stderr.contains("error") && !out.stderr.contains("panicked"),
            "`{}`: expected an error message on stderr, not a panic\n{}",
            args.join(" "),
            out.describe()
        );
    }
}

#[test]
fn a_port_in_use_is_one_error_line() {
    let first = server(&[]);
    let addr = first.addr.to_string();
    let out = sticky().run(["server", "--bind", &addr], b"");
    let line = out.assert_error(1);
    assert!(
        line.contains(&addr),
        "a second server on {addr} must fail naming the address\n{}",
        out.describe()
    );
}

#[test]
fn client_reports_a_refused_connection() {
    let addr = blackbox::closed_port_addr().to_string();
    let out = sticky().run(["client", &addr, "hello"], b"");
    let line = out.assert_error(1);
    assert!(
        line.contains(&addr),
        "the error must name the address it could not reach ({addr})\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// The problem: TCP keeps no message boundaries

#[test]
fn quick_messages_merge_when_the_server_reads_slowly() {
    let mut server = server(&["--framing", "none", "--read-delay", "300"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let sent: [&[u8]; 5] = [b"one", b"two", b"three", b"four", b"five"];
    stream.send_pieces(&sent);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert!(
        !conn.recvs.is_empty() && conn.recvs.len() < 5,
        "sent 5 messages in 5 writes while the server waited 300 ms before each recv; expected fewer than 5 `recv` lines (the messages pile up in the receive buffer and come out together: 粘包), got {}:\n{}",
        conn.recvs.len(),
        conn.lines.join("\n")
    );
    let joined: String = conn.recvs.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        joined, "onetwothreefourfive",
        "the recv lines together must hold every byte sent, in order"
    );
    assert_eq!(
        conn.reads,
        conn.recvs.len() as u64,
        "the summary must count the same reads as the `recv` lines\n{}",
        conn.lines.join("\n")
    );
}

#[test]
fn one_send_arrives_in_several_recvs_with_a_small_buf_size() {
    let mut server = server(&[
        "--framing",
        "none",
        "--buf-size",
        "4",
        "--read-delay",
        "100",
    ]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    stream.send_pieces(&[b"abcdefghij"]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert!(
        conn.recvs.iter().all(|(k, _)| *k <= 4) && conn.recvs.len() >= 3,
        "sent 10 bytes in one write to a server reading 4 bytes per recv; expected at least 3 `recv` lines of at most 4 bytes (recv takes what fits and leaves the rest for the next call), got:\n{}",
        conn.lines.join("\n")
    );
    let joined: String = conn.recvs.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        joined, "abcdefghij",
        "the `recv` lines' TEXT, joined, must be the 10 bytes sent, in order: nothing lost, nothing repeated"
    );
    for (k, text) in &conn.recvs {
        assert_eq!(
            *k,
            text.len(),
            "`recv N: K bytes: TEXT`: K must be the number of bytes shown"
        );
    }
}

#[test]
fn delay_is_no_cure_when_the_reader_is_slower_than_the_pauses() {
    let mut server = server(&["--framing", "delay", "--read-delay", "700"]);
    let addr = server.addr.to_string();
    let out = sticky().run(
        [
            "client",
            &addr,
            "--framing",
            "delay",
            "--delay",
            "50",
            "A",
            "B",
            "C",
        ],
        b"",
    );
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let conn = until_summary(&mut server, None);
    assert!(
        conn.recvs.len() < 3,
        "the client paused 50 ms between 3 sends, the server waited 700 ms before each recv; expected fewer than 3 `recv` lines (a delay between sends only helps if the reader is quicker than the delay), got:\n{}",
        conn.lines.join("\n")
    );
    let joined: String = conn.recvs.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        joined, "ABC",
        "the `recv` lines' TEXT, joined, must be the 3 bytes sent, in order"
    );
}

// ---------------------------------------------------------------------------
// Remedy 1: an end marker (line framing)

#[test]
fn line_mode_recovers_each_message_despite_merging() {
    let mut server = server(&["--framing", "line", "--read-delay", "300"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let sent: [&[u8]; 5] = [
        b"hello",
        b"",
        "你好，粘包".as_bytes(),
        b"tab\there",
        b"back\\slash",
    ];
    let frames: Vec<Vec<u8>> = sent.iter().map(|m| line_frame(m)).collect();
    let pieces: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    stream.send_pieces(&pieces);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        shown(&sent),
        "sent 5 lines in 5 writes (merged by the server's --read-delay); expected 5 `message N: TEXT` lines, one per line sent, in order\n{}",
        conn.lines.join("\n")
    );
    assert_eq!(
        conn.message_count,
        5,
        "5 lines sent: expected the summary line to count 5 messages; the connection's lines:\n{}",
        conn.lines.join("\n")
    );
}

#[test]
fn line_mode_joins_a_message_split_across_small_reads() {
    let mut server = server(&["--framing", "line", "--buf-size", "3"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let message = "粘包 means sticky packets".as_bytes();
    stream.send_pieces(&[&line_frame(message), b"x\n"]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        shown(&[message, b"x"]),
        "sent a {}-byte line to a server reading 3 bytes per recv; expected it back whole as `message 1`, its Chinese characters intact (a read boundary is not a message boundary)\n{}",
        message.len() + 1,
        conn.lines.join("\n")
    );
    assert!(
        conn.reads >= 10,
        "{} bytes read 3 at a time take at least 10 reads; the summary says {}",
        message.len() + 3,
        conn.reads
    );
}

#[test]
fn line_mode_client_refuses_a_message_containing_a_newline() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("local_addr").to_string();
    let out = sticky().run(
        ["client", &addr, "--framing", "line", "fine", "two\nlines"],
        b"",
    );
    out.assert_error(1);
    // Nothing may have been sent: not even the good message before it.
    if let Ok(mut conn) = Conn::accept(&listener, "the test's server", Duration::ZERO) {
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut got = Vec::new();
        let _ = conn.read_to_end(&mut got);
        assert!(
            got.is_empty(),
            "a message with \\n cannot be sent in line framing, so the client must refuse before sending anything; the server received {:?}",
            show_bytes(&got)
        );
    }
}

// ---------------------------------------------------------------------------
// Remedy 2: a header that describes the message (length framing)

#[test]
fn length_mode_recovers_each_message_despite_merging() {
    let mut server = server(&["--framing", "length", "--read-delay", "300"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let binary = blackbox::random_bytes(40, 2);
    let sent: [&[u8]; 5] = [
        b"hello",
        b"",
        "你好，粘包".as_bytes(),
        b"two\nlines",
        &binary,
    ];
    let frames: Vec<Vec<u8>> = sent.iter().map(|m| length_frame(m)).collect();
    let pieces: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    stream.send_pieces(&pieces);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        shown(&sent),
        "sent 5 length-prefixed frames in 5 writes (merged by the server's --read-delay); expected 5 `message N: TEXT` lines, one per frame, in order — including the empty one and 40 binary bytes\n{}",
        conn.lines.join("\n")
    );
    assert_eq!(
        conn.message_count,
        5,
        "5 frames sent: expected the summary line to count 5 messages; the connection's lines:\n{}",
        conn.lines.join("\n")
    );
}

#[test]
fn length_mode_recovers_frames_sent_in_a_single_write() {
    let mut server = server(&["--framing", "length"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let sent: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
    let all: Vec<u8> = sent.iter().flat_map(|m| length_frame(m)).collect();
    stream.send_pieces(&[&all]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        shown(&sent),
        "sent 3 length-prefixed frames in one write; expected 3 `message` lines\n{}",
        conn.lines.join("\n")
    );
}

#[test]
fn length_mode_joins_a_frame_read_one_byte_at_a_time() {
    let mut server = server(&["--framing", "length", "--buf-size", "1"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let message = "头部 header, 正文 body".as_bytes();
    let frame = length_frame(message);
    stream.send_pieces(&[&frame, &length_frame(b"")]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        shown(&[message, b""]),
        "sent a {}-byte frame and an empty one to a server reading 1 byte per recv; expected both messages whole\n{}",
        frame.len(),
        conn.lines.join("\n")
    );
    assert_eq!(
        conn.reads,
        (frame.len() + 4) as u64,
        "with --buf-size 1 every byte is one read"
    );
}

#[test]
fn empty_messages_are_messages_too() {
    for (mode, wire) in [("line", b"\n\n\n".to_vec()), ("length", vec![0u8; 12])] {
        let mut server = server(&["--framing", mode]);
        let mut stream = connect(server.addr);
        let peer = stream.local_addr();
        stream.send_pieces(&[&wire]);
        drop(stream);
        let conn = until_summary(&mut server, Some(peer));
        assert_eq!(
            conn.messages,
            vec![String::new(); 3],
            "{mode} framing: sent 3 empty messages ({}); expected 3 `message N: ` lines with empty TEXT\n{}",
            show_bytes(&wire),
            conn.lines.join("\n")
        );
        assert_eq!(
            conn.message_count, 3,
            "{mode} framing: 3 empty messages sent; expected the summary line to count 3 messages"
        );
    }
}

#[test]
fn every_byte_value_survives_length_framing() {
    let mut server = server(&["--framing", "length"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let every: Vec<u8> = (0..=255u8).collect();
    stream.send_pieces(&[&length_frame(&every)]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        vec![show_bytes(&every)],
        "sent one frame holding the bytes 0x00..=0xff; expected it shown by the TEXT rule (README, Conventions, rule 6)\n{}",
        conn.lines.join("\n")
    );
}

#[test]
fn oversize_frame_ends_that_connection_only() {
    let mut server = server(&["--framing", "length", "--max-frame", "100"]);
    // A client that behaves, connected before and after the bad one.
    let mut good = connect(server.addr);
    good.send_pieces(&[&length_frame(b"before")]);
    server.wait_for_line("`message 1: before`", |l| l == "message 1: before");

    let mut bad = connect(server.addr);
    let bad_peer = bad.local_addr();
    bad.send_pieces(&[&101u32.to_be_bytes(), b"abc"]);
    let expected = format!("error: {bad_peer}: frame of 101 bytes exceeds --max-frame 100");
    let stderr = server.wait_for_stderr(&expected);
    assert!(
        stderr.lines().any(|l| l == expected),
        "a header declaring 101 bytes with --max-frame 100 must be logged as exactly `{expected}`; stderr:\n{stderr}"
    );
    assert_closed_by_server(&mut bad, "after an oversize frame header");

    good.send_pieces(&[&length_frame(b"after")]);
    server.wait_for_line(
        "`message 2: after` from the first client, still served",
        |l| l == "message 2: after",
    );
    let mut next = connect(server.addr);
    next.send_pieces(&[&length_frame(&[b'z'; 100])]);
    let hundred = "z".repeat(100);
    server.wait_for_line(
        "a 100-byte message (exactly --max-frame) from a new client",
        |l| l == format!("message 1: {hundred}"),
    );
}

#[test]
fn peer_closing_mid_message_is_reported() {
    for (mode, wire) in [
        (
            "length",
            [length_frame(b"whole"), b"\x00\x00\x00\x0aabc".to_vec()].concat(),
        ),
        ("line", b"whole\npartial".to_vec()),
    ] {
        let mut server = server(&["--framing", mode]);
        let mut stream = connect(server.addr);
        let peer = stream.local_addr();
        stream.send_pieces(&[&wire]);
        drop(stream);
        let conn = until_summary(&mut server, Some(peer));
        assert_eq!(
            conn.messages,
            vec!["whole".to_string()],
            "{mode} framing: sent {} then closed; expected only the complete message",
            show_bytes(&wire)
        );
        assert_eq!(
            conn.message_count, 1,
            "{mode} framing: one whole message, then a cut one; expected the summary line to count 1 message (a cut message is not a message)"
        );
        let stderr = server.wait_for_stderr(&peer.to_string());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("error: ") && l.contains(&peer.to_string())),
            "{mode} framing: sent {} and closed in the middle of the second message; expected an `error: …` line naming {peer} (a cut message must be reported, not silently dropped), stderr:\n{stderr}",
            show_bytes(&wire)
        );
    }
}

// ---------------------------------------------------------------------------
// The server as a server

#[test]
fn each_client_is_served_while_another_waits_mid_message() {
    let mut server = server(&["--framing", "length"]);
    let mut slow = connect(server.addr);
    let frame = length_frame(b"slow one");
    slow.send_pieces(&[&frame[..6]]);
    let mut quick = connect(server.addr);
    quick.send_pieces(&[&length_frame(b"quick one")]);
    server.wait_for_line(
        "`message 1: quick one` while another client sits in the middle of a frame",
        |l| l == "message 1: quick one",
    );
    slow.send_pieces(&[&frame[6..]]);
    server.wait_for_line(
        "`message 1: slow one` once the first client finishes its frame",
        |l| l == "message 1: slow one",
    );
}

#[test]
fn summary_counts_reads_and_messages() {
    let mut server = server(&["--framing", "length", "--buf-size", "4"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let all: Vec<u8> = [
        length_frame(b"ab"),
        length_frame(b""),
        length_frame(b"cdefgh"),
    ]
    .concat();
    stream.send_pieces(&[&all]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.message_count,
        3,
        "3 length frames sent: expected the summary line to count 3 messages; the connection's lines:\n{}",
        conn.lines.join("\n")
    );
    assert!(
        conn.reads >= 5,
        "20 bytes read at most 4 at a time take at least 5 reads; the summary says {}",
        conn.reads
    );
}

#[test]
fn quiet_logs_only_the_summary() {
    let mut server = server(&["--framing", "length", "--quiet"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let all: Vec<u8> = [length_frame(b"a"), length_frame(b"b")].concat();
    stream.send_pieces(&[&all]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.message_count, 2,
        "--quiet: sent 2 length frames; expected the summary line to count 2 messages (quiet hides the `message` lines, it still counts them)"
    );
    assert!(
        conn.lines.len() == 1 && parse_summary(&conn.lines[0]).is_some(),
        "with --quiet the only stdout line of a connection is its summary; got {:?}",
        conn.lines
    );
}

#[test]
fn max_clients_exits_zero_after_that_many_clients() {
    let mut server = server(&["--framing", "line", "--max-clients", "2"]);
    for _ in 0..2 {
        let mut stream = connect(server.addr);
        stream.send_pieces(&[b"hi\n"]);
    }
    assert_eq!(
        server.expect_exit(),
        Some(0),
        "--max-clients 2: the server must exit 0 after its second client disconnects"
    );
}

#[test]
fn unbuffered_server_never_reads_past_the_current_message() {
    let mut server = server(&["--framing", "length", "--unbuffered", "--read-delay", "200"]);
    let mut stream = connect(server.addr);
    let peer = stream.local_addr();
    let all: Vec<u8> = [length_frame(b"ab"), length_frame(b""), length_frame(b"cde")].concat();
    stream.send_pieces(&[&all]);
    drop(stream);
    let conn = until_summary(&mut server, Some(peer));
    assert_eq!(
        conn.messages,
        shown(&[b"ab", b"", b"cde"]),
        "--unbuffered: sent frames `ab`, empty and `cde` in one write; expected those 3 `message N: TEXT` lines, in order"
    );
    assert_eq!(
        conn.reads,
        5,
        "--unbuffered reads each 4-byte header, then each body (none for the empty one): 5 reads for 3 frames already waiting\n{}",
        conn.lines.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The client and the wire format

/// Run the client against a listener of the test's own; return the bytes it
/// sent, read until it half-closed.
fn bytes_sent_by_client(args: &[&str]) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr").to_string();
    let mut all = vec!["client", addr.as_str()];
    all.extend_from_slice(args);
    let mut client = sticky().start(all);
    let mut conn = Conn::accept_from(&listener, &mut client, "the test's server");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    if let Err(err) = conn.read_to_end(&mut got) {
        panic!("reading what `client {}` sent: {err}", args.join(" "));
    }
    drop(conn);
    assert_eq!(
        client.expect_exit(),
        Some(0),
        "the client must exit 0 once the server has closed\n{}",
        client.describe()
    );
    got
}

#[test]
fn client_writes_length_frames_byte_by_byte_as_the_lesson_says() {
    let got = bytes_sent_by_client(&["--framing", "length", "hello", "", "你好"]);
    let expected = b"\x00\x00\x00\x05hello\x00\x00\x00\x00\x00\x00\x00\x06\xe4\xbd\xa0\xe5\xa5\xbd";
    blackbox::assert_bytes(
        "`client --framing length hello '' 你好`: what the client sent",
        expected,
        &got,
        "each message goes out as a 4-byte big-endian length, then the message's bytes",
    );
}

#[test]
fn client_writes_lines_ending_in_newline() {
    let got = bytes_sent_by_client(&["--framing", "line", "hello", "", "你好"]);
    blackbox::assert_bytes(
        "`client --framing line hello '' 你好`: what the client sent",
        "hello\n\n你好\n".as_bytes(),
        &got,
        "each message goes out followed by \\n",
    );
}

#[test]
fn client_writes_raw_bytes_without_framing() {
    let got = bytes_sent_by_client(&["--framing", "none", "ab", "cd"]);
    blackbox::assert_bytes(
        "`client --framing none ab cd`: what the client sent",
        b"abcd",
        &got,
        "without framing the messages go out as they are, nothing added",
    );
}

#[test]
fn delay_mode_pauses_between_sends() {
    let started = Instant::now();
    let got = bytes_sent_by_client(&["--framing", "delay", "--delay", "150", "a", "b", "c"]);
    blackbox::assert_bytes(
        "`client --framing delay --delay 150 a b c`: what the client sent",
        b"abc",
        &got,
        "",
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "--delay 150 between 3 sends must take at least 300 ms; took {:?}",
        started.elapsed()
    );
}

#[test]
fn client_and_server_agree_end_to_end() {
    for mode in ["line", "length"] {
        let mut server = server(&["--framing", mode, "--read-delay", "100"]);
        let addr = server.addr.to_string();
        let out = sticky().run(
            ["client", &addr, "--framing", mode, "一", "", "two words"],
            b"",
        );
        assert_eq!(out.code(), Some(0), "{}", out.describe());
        let conn = until_summary(&mut server, None);
        assert_eq!(
            conn.messages,
            vec!["一".to_string(), String::new(), "two words".to_string()],
            "{mode}: the program's own client and server must agree\n{}",
            conn.lines.join("\n")
        );
    }
}

#[test]
fn bench_reports_messages_per_second_and_the_server_counts_them() {
    for extra in [None, Some("--unbuffered")] {
        let mut server = server(&["--framing", "length", "--quiet"]);
        let addr = server.addr.to_string();
        let mut args = vec![
            "client",
            &addr,
            "--framing",
            "length",
            "--bench",
            "5000",
            "--size",
            "32",
        ];
        args.extend(extra);
        let out = sticky().run(&args, b"");
        assert_eq!(out.code(), Some(0), "{}", out.describe());
        assert!(
            out.stdout_text().contains("messages/s"),
            "`{}` must print its rate in messages/s\n{}",
            args.join(" "),
            out.describe()
        );
        let conn = until_summary(&mut server, None);
        assert_eq!(
            conn.message_count, 5000,
            "the server must count every one of the 5000 benchmark messages"
        );
    }
}
