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

#[test]
fn more_connections_than_max_get_503_with_retry_after() {
    let server = serve(&["--max-connections", "2"]);
    let mut held = Vec::new();
    for i in 0..2 {
        let mut client = Client::new(server.addr);
        let raw = format!("GET /echo?held={i} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.send(raw.as_bytes());
        expect_status(
            &client.response(&raw),
            200,
            &raw,
            "within --max-connections",
        );
        held.push(client);
    }
    let raw = "GET /echo?third HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut third = Client::new(server.addr);
    third.send(raw.as_bytes());
    let response = third.response(raw);
    expect_status(
        &response,
        503,
        raw,
        "two connections are open and --max-connections is 2",
    );
    assert!(
        response.header("retry-after").is_some(),
        "503 should say when to come back (Retry-After); got:\n{}",
        response.show()
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
