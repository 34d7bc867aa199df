//! Lesson 8 — what a server must refuse (RFC 9112) and how it protects
//! itself: malformed and ambiguous requests get 400 and a closed
//! connection; limits get 414, 431, 413 and 408; too many connections get
//! 503. Raw bytes over `TcpStream`, because a well-behaved client cannot
//! send any of this.

mod lesson08_support;

use std::time::Duration;

use lesson08_support::*;

/// Send `raw`, expect `status`, and expect the server to close afterwards.
fn refused_and_closed(server: &blackbox::Server, raw: &str, status: u16, hint: &str) {
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let response = client.response(raw);
    expect_status(&response, status, raw, hint);
    if let Err(e) = client.closes() {
        panic!(
            "sent {raw:?}; after a {status} the server must close the connection (the byte stream can no longer be trusted); {e}"
        );
    }
}

#[test]
fn each_malformed_or_ambiguous_request_gets_400_and_a_close() {
    let server = serve(&[]);
    let cases = [
        ("Content-Length and Transfer-Encoding together",
         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two different Content-Length headers",
         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        ("a Content-Length list that disagrees",
         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!"),
        ("a Content-Length that is not a number",
         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: five\r\n\r\nhello"),
        ("a negative Content-Length",
         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nhello"),
        ("a chunk size that is not hexadecimal",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        ("a chunk longer than its size",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"),
        ("a folded header line (obs-fold)",
         "GET /echo HTTP/1.1\r\nHost: x\r\nX-Long: part one\r\n part two\r\n\r\n"),
        ("a space between the header name and the colon",
         "GET /echo HTTP/1.1\r\nHost: x\r\nX-Bad : 1\r\n\r\n"),
        ("a NUL byte in a header value",
         "GET /echo HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n"),
        ("a bare CR inside a header value",
         "GET /echo HTTP/1.1\r\nHost: x\r\nX-Cr: a\rb\r\n\r\n"),
        ("an HTTP/1.1 request without Host",
         "GET /echo HTTP/1.1\r\nUser-Agent: test\r\n\r\n"),
        ("two Host headers",
         "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("Transfer-Encoding in an HTTP/1.0 request",
         "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("Transfer-Encoding that does not end with chunked",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"),
        ("a request line that is not METHOD TARGET VERSION",
         "GET\r\nHost: x\r\n\r\n"),
    ];
    for (what, raw) in cases {
        refused_and_closed(
            &server,
            raw,
            400,
            &format!("{what}: two programs could read this request differently (request smuggling), so RFC 9112 says 400 and close"),
        );
    }
    // And the server is still there for everyone else.
    expect_status(
        &get(server.addr, "/echo"),
        200,
        "GET /echo after all that",
        "one bad client never stops a server",
    );
}

#[test]
fn host_must_be_one_valid_host_and_optional_port() {
    let server = serve(&[]);
    for (what, host_lines) in [
        ("a Host with a path", "Host: 127.0.0.1:8000/path\r\n"),
        ("an empty Host", "Host:\r\n"),
        ("a Host that is a list", "Host: a, b\r\n"),
        ("a Host with user information", "Host: user@127.0.0.1\r\n"),
        ("a Host with a port that is not a number", "Host: h:80x\r\n"),
        ("two Host fields", "Host: a\r\nHost: a\r\n"),
        ("no Host at all", ""),
    ] {
        let raw = format!("GET /echo HTTP/1.1\r\n{host_lines}\r\n");
        refused_and_closed(
            &server,
            &raw,
            400,
            &format!("{what}: RFC 9112 section 3.2 says 400 for a missing, repeated or invalid Host in HTTP/1.1"),
        );
    }
    for host in ["127.0.0.1:8000", "[::1]:8000", "localhost", "example.com"] {
        let raw = format!("GET /echo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        expect_status(
            &exchange(server.addr, &raw),
            200,
            &raw,
            "Host: name or address, an optional :port",
        );
    }
}

#[test]
fn http_1_minor_versions_above_1_are_served_as_1_1() {
    let server = serve(&[]);
    for version in ["HTTP/1.2", "HTTP/1.9"] {
        let raw = format!("GET /echo?v=1 {version}\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = exchange(server.addr, &raw);
        expect_status(
            &response,
            200,
            &raw,
            "a later minor version of HTTP/1 is answered as HTTP/1.1 (RFC 9110, section 2.5), not refused",
        );
        assert!(
            response.status_line.starts_with("HTTP/1.1 "),
            "sent {raw:?}; the answer's version should be HTTP/1.1; got:\n{}",
            response.show()
        );
    }
}

#[test]
fn lower_case_http_version_gets_400_and_a_close() {
    let server = serve(&[]);
    // RFC 9112 (section 2.3): the HTTP-name `HTTP` is case-sensitive. The
    // notes write `http/1.1`; a server that lets it through reads the
    // request line more loosely than the programs it talks to.
    for version in ["http/1.1", "Http/1.1"] {
        let raw = format!("GET /echo {version}\r\nHost: x\r\n\r\n");
        refused_and_closed(
            &server,
            &raw,
            400,
            &format!("{version} is not HTTP/1.1: the version's name is case-sensitive (RFC 9112, section 2.3), so the request line is malformed"),
        );
    }
    expect_status(
        &get(server.addr, "/echo"),
        200,
        "GET /echo HTTP/1.1 after the refused ones",
        "one bad client never stops a server",
    );
}

#[test]
fn bare_lf_line_ends_in_a_request_head_are_accepted() {
    let server = serve(&[]);
    // What `nc` (or bash's /dev/tcp with echo) sends: `\n`, not `\r\n`.
    // RFC 9112 (section 2.2) lets a server take a bare LF as a line end, and
    // lesson 8 section 8.6 says mini-http does — in the head as in a body.
    let mut client = Client::new(server.addr);
    // Three requests on one connection: a body right after the LF-only
    // empty line, Content-Length bytes long, and the request after it its own.
    let requests = [
        (
            "GET /echo?lf=1 HTTP/1.1\nHost: x\n\n",
            "lf = 1",
            "a bare LF ends a head line and an empty line ends the head (RFC 9112, section 2.2)",
        ),
        (
            "POST /echo HTTP/1.1\nHost: x\nContent-Length: 5\n\nhello",
            "hello",
            "the body starts right after the empty line `\\n` and is Content-Length bytes long",
        ),
        (
            "GET /echo?third=3 HTTP/1.1\nHost: x\nConnection: close\n\n",
            "third = 3",
            "the request after the POST's 5-byte body is a request of its own, on the same connection",
        ),
    ];
    for (sent, text, hint) in requests {
        client.send(sent.as_bytes());
        let response = client.response(sent);
        expect_answer(&response, 200, text, sent, hint);
    }
}

#[test]
fn chunked_trailer_never_swallows_the_next_request() {
    let server = serve(&[]);
    // The last chunk, then a bare LF: the trailer section is over (a bare
    // LF ends a line in the body as in the head), and the GET that follows
    // is the next request, answered on the same connection.
    let raw = "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\nGET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let first = client.response(raw);
    expect_status(&first, 200, raw, "the chunked POST is answered");
    assert!(first.text().contains("hello"), "got:\n{}", first.show());
    let second = client.try_response(false).unwrap_or_else(|e| {
        panic!("sent {raw:?}; expected a second response, to GET /nowhere — the bytes after the bare LF are the next request, never trailer fields; {e}")
    });
    expect_status(
        &second,
        404,
        raw,
        "the pipelined GET /nowhere is a request of its own",
    );
}

#[test]
fn chunked_line_ends_follow_the_same_rules_as_the_head() {
    let server = serve(&["--max-header-bytes", "1024"]);
    // LF-only line ends everywhere in the body decode as CRLF ones do.
    let raw = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\nhello\n6;ext=1\n world\n0\nX-Trailer: 1\n\n";
    let response = exchange(server.addr, raw);
    expect_status(
        &response,
        200,
        raw,
        "a bare LF ends a chunk line or trailer line, as it ends a head line",
    );
    assert!(
        response.text().contains("hello world"),
        "the body is hello world; got:\n{}",
        response.show()
    );
    let cases = [
        ("a bare CR after a chunk size",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n", 400),
        ("a bare CR after chunk data",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n\r\n", 400),
        ("a folded trailer line (obs-fold)",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n folded\r\n\r\n", 400),
        ("a trailer line that is not Name: value",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nGET / HTTP/1.1\r\n\r\n", 400),
        ("a bare CR in a trailer field",
         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\rb\r\n\r\n", 400),
    ];
    for (what, raw, status) in cases {
        refused_and_closed(
            &server,
            raw,
            status,
            &format!("{what}: the body's lines follow the head's rules"),
        );
    }
    let big = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Big: {}\r\n\r\n",
        "t".repeat(2000)
    );
    refused_and_closed(
        &server,
        &big,
        431,
        "a trailer section is limited like a header section (--max-header-bytes 1024)",
    );
}

#[test]
fn get_body_never_becomes_the_next_request() {
    let mut server = serve(&[]);
    let smuggled = "GET /echo?smuggled=yes HTTP/1.1\r\nHost: x\r\n\r\n";
    let raw = format!(
        "GET /echo?first=1 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let first = client.response(&raw);
    expect_status(
        &first,
        200,
        &raw,
        "a GET may carry a body; Content-Length says how long it is",
    );
    let follow = "GET /echo?second=2 HTTP/1.1\r\nHost: x\r\n\r\n";
    client.send(follow.as_bytes());
    let second = client.response(follow);
    assert!(
        second.text().contains("second = 2"),
        "sent a GET whose {}-byte body looked like a request, then GET /echo?second=2; the second response must answer /echo?second=2, got:\n{}\nhint: the body belongs to the first request — it is never parsed as a request",
        smuggled.len(),
        second.show()
    );
    let log = server.wait_for_line("the access-log line of /echo?second=2", |l| {
        l.contains("second=2")
    });
    assert!(
        !server.seen().iter().any(|l| l.contains("smuggled")),
        "the access log shows a request that was only a body: {:?} (last line: {log})",
        server.seen()
    );
}

#[test]
fn long_request_line_is_414() {
    let server = serve(&["--max-request-line", "1024"]);
    let raw = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(2000));
    refused_and_closed(
        &server,
        &raw,
        414,
        "the request line is limited (--max-request-line)",
    );
}

#[test]
fn large_or_many_headers_are_431() {
    let server = serve(&["--max-header-bytes", "2048", "--max-headers", "20"]);
    let raw = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(4000)
    );
    refused_and_closed(
        &server,
        &raw,
        431,
        "the header section is limited (--max-header-bytes)",
    );
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..30 {
        raw.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    raw.push_str("\r\n");
    refused_and_closed(
        &server,
        &raw,
        431,
        "the number of header fields is limited (--max-headers)",
    );
}

#[test]
fn large_body_is_413_without_reading_it() {
    let server = serve(&["--max-body", "1000"]);
    let raw = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n";
    refused_and_closed(
        &server,
        raw,
        413,
        "Content-Length over --max-body is refused before the body is read",
    );
    let raw = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n{}\r\n400\r\n{}\r\n0\r\n\r\n",
        "c".repeat(1024),
        "c".repeat(1024)
    );
    refused_and_closed(
        &server,
        &raw,
        413,
        "a chunked body is counted as it arrives",
    );
}

#[test]
fn slow_request_head_gets_408_and_a_close() {
    let server = serve(&["--head-timeout", "0.3"]);
    let mut client = Client::new(server.addr);
    let partial = "GET /echo HTTP/1.1\r\nHost: x\r\n"; // no blank line: head never ends
    client.send(partial.as_bytes());
    let response = client.response(partial);
    expect_status(
        &response,
        408,
        partial,
        "a client that does not finish its head in --head-timeout must not hold the connection forever",
    );
    if let Err(e) = client.closes() {
        panic!("after 408 the server closes; {e}");
    }
}

#[test]
fn silent_idle_connection_is_closed() {
    let server = serve(&["--idle-timeout", "0.3", "--head-timeout", "0.3"]);
    let mut client = Client::new(server.addr);
    let raw = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    client.send(raw.as_bytes());
    expect_status(&client.response(raw), 200, raw, "first request served");
    std::thread::sleep(Duration::from_millis(50));
    match client.closes() {
        Ok(()) => {}
        Err(e) => {
            panic!("an idle keep-alive connection should be closed after --idle-timeout 0.3; {e}")
        }
    }
}

/// A request stuck in the middle of its body: the head is in, 5 of 10
/// body bytes are not. Such a connection is busy, never evicted.
fn mid_body(addr: std::net::SocketAddr) -> Client {
    let mut client = Client::new(addr);
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
    client
}

#[test]
fn full_server_503s_only_when_every_connection_is_mid_request() {
    let server = serve(&["--max-connections", "2"]);
    let mut held = vec![mid_body(server.addr), mid_body(server.addr)];
    // Both heads must have reached the server before the third arrives.
    std::thread::sleep(Duration::from_millis(150));
    let raw = "GET /echo?third HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut third = Client::new(server.addr);
    third.send(raw.as_bytes());
    let response = third.response(raw);
    expect_status(
        &response,
        503,
        raw,
        "two connections are open, both in the middle of a request body, and --max-connections is 2: nobody can make room",
    );
    assert!(
        response.header("retry-after").is_some(),
        "503 should say when to come back (Retry-After); got:\n{}",
        response.show()
    );
    // The held requests are not harmed: finish one and it is answered.
    held[0].send(b" body");
    let done = held[0].response("POST /echo (10-byte body, finished late)");
    expect_status(
        &done,
        200,
        "POST /echo",
        "a slow body within --head-timeout is served",
    );
    drop(held);
    // Once the others have gone, there is room again (the server notices
    // the closes asynchronously, so allow it a few tries).
    let mut last = None;
    for _ in 0..50 {
        let response = get(server.addr, "/echo?later");
        if response.status == 200 {
            return;
        }
        last = Some(response);
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "after the two held connections closed, a new one should be served; last answer:\n{}",
        last.map(|r| r.show()).unwrap_or_default()
    );
}

/// A newcomer connects to a full server and sends a request: it must be
/// answered 200 within 2 s.
fn newcomer_is_served_within_2s(addr: std::net::SocketAddr, while_what: &str) {
    let started = std::time::Instant::now();
    let raw = "GET /echo?newcomer=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut client = Client::new(addr);
    client.send(raw.as_bytes());
    let response = client.response(raw);
    let took = started.elapsed();
    expect_status(
        &response,
        200,
        raw,
        &format!(
            "the server is full ({while_what}): it must close one of those to serve a newcomer"
        ),
    );
    assert!(
        took <= Duration::from_secs(2),
        "sent {raw:?} to a full server ({while_what}); the answer took {took:?}, more than 2 s"
    );
}

#[test]
fn full_server_closes_the_longest_idle_connection_for_a_newcomer() {
    let server = serve(&["--max-connections", "3", "--idle-timeout", "60"]);
    let mut idle = Vec::new();
    for i in 0..3 {
        let mut client = Client::new(server.addr);
        let raw = format!("GET /echo?idle={i} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.send(raw.as_bytes());
        expect_status(
            &client.response(&raw),
            200,
            &raw,
            "within --max-connections",
        );
        idle.push(client);
        std::thread::sleep(Duration::from_millis(30)); // the first is the longest idle
    }
    newcomer_is_served_within_2s(
        server.addr,
        "3 idle keep-alive connections, --max-connections 3",
    );
    if let Err(e) = idle[0].closes() {
        panic!(
            "the longest-idle keep-alive connection (the first) should be closed to make room; {e}"
        );
    }
    // The other two are still open and served.
    for (i, client) in idle.iter_mut().enumerate().skip(1) {
        let raw = format!("GET /echo?again={i} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.send(raw.as_bytes());
        expect_status(
            &client.response(&raw),
            200,
            &raw,
            "only the longest-idle connection is closed; the others keep their place",
        );
    }
}

#[test]
fn full_server_evicts_the_oldest_unfinished_head_for_a_newcomer() {
    let server = serve(&["--max-connections", "3", "--head-timeout", "30"]);
    // Three slow clients (slowloris): each sends its head one byte at a
    // time, a byte every 300 ms, and never finishes in the test's time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut slow = Vec::new();
    for i in 0..3 {
        let mut client = Client::new(server.addr);
        client.send(format!("GET /echo?slow={i} HTTP/1.1\r\nHost: x\r\nX-Pad: ").as_bytes());
        let stream = client.stream.try_clone().expect("clone the socket");
        let stop = std::sync::Arc::clone(&stop);
        let trickle = std::thread::spawn(move || {
            let mut stream = stream;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if std::io::Write::write_all(&mut stream, b"a").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        slow.push((client, trickle));
        std::thread::sleep(Duration::from_millis(30)); // the first is the oldest
    }
    newcomer_is_served_within_2s(
        server.addr,
        "3 connections trickling their heads a byte at a time, --max-connections 3",
    );
    // The oldest unfinished head was the one to go: it is told why (503)
    // and closed, or just closed.
    let oldest = &mut slow[0].0;
    match oldest.try_response(false) {
        Ok(response) => expect_status(
            &response,
            503,
            "the oldest unfinished head",
            "the evicted slow client may be told 503 before the close",
        ),
        Err(e) if e.contains("closed") => {}
        Err(e) => panic!("the oldest unfinished head should be closed to make room; {e}"),
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for (_, trickle) in slow {
        let _ = trickle.join();
    }
}

#[test]
fn a_new_connection_may_wait_head_timeout_before_its_first_byte() {
    // A person connects with nc and thinks before typing: the wait for the
    // first byte is --head-timeout, not the (shorter) --idle-timeout that
    // applies between requests on a keep-alive connection.
    let server = serve(&["--idle-timeout", "0.2", "--head-timeout", "5"]);
    let mut client = Client::new(server.addr);
    std::thread::sleep(Duration::from_millis(700));
    let raw = "GET /echo?late=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    client.send(raw.as_bytes());
    let response = client.try_response(false).unwrap_or_else(|e| {
        panic!("connected, waited 0.7 s (more than --idle-timeout 0.2, less than --head-timeout 5), then sent {raw:?}; expected 200; {e}")
    });
    expect_status(
        &response,
        200,
        raw,
        "before its first request a connection gets --head-timeout",
    );
    // Between requests, --idle-timeout applies: now it is closed.
    std::thread::sleep(Duration::from_millis(50));
    if let Err(e) = client.closes() {
        panic!(
            "after its first response the connection is idle: closed after --idle-timeout 0.2; {e}"
        );
    }
}

#[test]
fn head_timeout_default_lets_a_person_type_and_the_408_names_the_flag() {
    let out = mini_http().run(["serve", "--help"], b"");
    let help = out.stdout_text();
    let lines: Vec<&str> = help.lines().collect();
    // Wherever the flag is named (a usage synopsis names it too), its entry
    // and the lines after it must give the default: 60 seconds, as clap
    // writes it (`[default: 60]`) or as argparse does (`(default: 60.0)`).
    let windows: Vec<String> = (0..lines.len())
        .filter(|&i| lines[i].contains("--head-timeout"))
        .map(|i| lines[i..lines.len().min(i + 4)].join(" "))
        .collect();
    assert!(
        windows.iter().any(|w| default_is(w, 60.0)),
        "`serve --help` should show --head-timeout's default, 60 (seconds: time for a person typing into nc; nginx allows 60 s too), as `[default: 60]` or `(default: 60)`; its entries: {windows:?}\n{}",
        out.describe()
    );
    let server = serve(&["--head-timeout", "0.3"]);
    let mut client = Client::new(server.addr);
    let partial = "GET /echo HTTP/1.1\r\nHost: x\r\n";
    client.send(partial.as_bytes());
    let response = client.response(partial);
    expect_status(
        &response,
        408,
        partial,
        "the head did not end within --head-timeout",
    );
    assert!(
        response.text().contains("--head-timeout"),
        "the 408's body should name the flag that sets the limit (--head-timeout); got:\n{}",
        response.show()
    );
}

/// Does `text` say `default` followed by the number `value` (`[default: 60]`,
/// `(default: 60.0)`, `default 60`)?
fn default_is(text: &str, value: f64) -> bool {
    text.match_indices("default").any(|(at, word)| {
        let rest = text[at + word.len()..].trim_start_matches([':', ' ', '=']);
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        number.parse::<f64>() == Ok(value)
    })
}
