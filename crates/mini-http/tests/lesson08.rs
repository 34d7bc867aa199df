//! Lesson 8 — HTTP over TCP: black-box tests of `mini-http`, the methods,
//! the status codes, keep-alive and pipelining, the access log, and the
//! client. Malformed input and limits are in `lesson08_strict.rs`, files and
//! the document root in `lesson08_files.rs`.
//!
//! Every test talks to the real binary over loopback sockets. Set
//! `IMPL_MINI_HTTP` to grade another implementation.

mod lesson08_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use lesson08_support::*;

#[test]
fn help_lists_server_and_client_flags_with_defaults() {
    let out = mini_http().run(["serve", "--help"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let help = out.stdout_text();
    for needle in [
        "--bind",
        "127.0.0.1:8000",
        "--root",
        "--auth",
        "--allow-write",
        "--max-connections",
        "--head-timeout",
    ] {
        assert!(
            help.contains(needle),
            "`serve --help` should mention {needle}\n{}",
            out.describe()
        );
    }
    for sub in ["get", "request"] {
        let out = mini_http().run([sub, "--help"], b"");
        assert_eq!(out.code(), Some(0), "{}", out.describe());
        assert!(
            out.stdout_text().contains("-v"),
            "`{sub} --help` should list -v\n{}",
            out.describe()
        );
    }
}

#[test]
fn bad_arguments_exit_2_and_a_missing_root_or_busy_port_exit_1() {
    let out = mini_http().run(["serve", "--bind", "127.0.0.1:99999"], b"");
    out.assert_usage_error("serve --bind 127.0.0.1:99999 (port out of range)");
    let out = mini_http().run(["serve", "--allow-write"], b"");
    out.assert_usage_error("serve --allow-write without --root (nothing to write to)");
    let out = mini_http().run(
        [
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--root",
            "/no/such/dir/for/mini-http",
        ],
        b"",
    );
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains("/no/such/dir/for/mini-http"),
        "the error line should name the missing root: {line}"
    );
    let first = serve(&[]);
    let busy = first.addr.to_string();
    let out = mini_http().run(["serve", "--bind", busy.as_str()], b"");
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&busy),
        "a second server on {busy} must fail naming the address: {line}"
    );
}

#[test]
fn no_arguments_serves_the_demo_site_on_port_8000() {
    let mut running = mini_http().start(Vec::<String>::new());
    let first = running
        .next_line(blackbox::START_TIMEOUT)
        .unwrap_or_default();
    if first.is_empty() {
        // No line: did it fail to bind because 8000 is taken? Its stderr is
        // read by another thread, so give the line a moment to arrive.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline && !running.stderr_text().contains("in use") {
            thread::sleep(std::time::Duration::from_millis(10));
        }
        if running.stderr_text().contains("in use") {
            eprintln!("port 8000 is busy on this machine; cannot check the default");
            return;
        }
    }
    assert_eq!(
        first,
        "listening on 127.0.0.1:8000",
        "started with no arguments: expected the demo site on the default address\n{}",
        running.describe()
    );
    let addr = "127.0.0.1:8000".parse().expect("addr");
    let page = get(addr, "/");
    expect_status(&page, 200, "GET /", "the demo page lives at /");
    let html = page.text();
    assert!(
        html.contains("method=\"get\"")
            && html.contains("method=\"post\"")
            && html.contains("/echo"),
        "the demo page should carry a GET form and a POST form aimed at /echo; got:\n{}",
        page.show()
    );
}

#[test]
fn echo_get_returns_the_parsed_query_parameters() {
    let server = serve(&[]);
    let response = get(server.addr, "/echo?a=1&b=2&name=%E4%BD%A0%E5%A5%BD");
    expect_status(
        &response,
        200,
        "GET /echo?a=1&b=2&name=…",
        "/echo is always there",
    );
    let text = response.text();
    for pair in ["a = 1", "b = 2", "name = 你好"] {
        assert!(
            text.contains(pair),
            "GET /echo?a=1&b=2&name=%E4%BD%A0%E5%A5%BD: expected the line `{pair}` (decoded query parameter); got:\n{text}"
        );
    }
}

#[test]
fn echo_post_returns_the_body_and_the_form_fields() {
    let server = serve(&[]);
    let body = "greeting=hello+world&who=%E4%B8%96%E7%95%8C";
    let raw = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(server.addr, &raw);
    expect_status(
        &response,
        200,
        &raw,
        "POST /echo answers with what it received",
    );
    let text = response.text();
    assert!(
        text.contains(body),
        "POST /echo should show the raw body {body:?}; got:\n{text}"
    );
    for pair in ["greeting = hello world", "who = 世界"] {
        assert!(
            text.contains(pair),
            "POST /echo with a urlencoded body: expected the form field line `{pair}` ('+' is a space, %XX are UTF-8 bytes); got:\n{text}"
        );
    }
}

#[test]
fn head_gets_the_same_headers_as_get_and_no_body() {
    let server = serve(&[]);
    let get_response = get(server.addr, "/");
    let mut client = Client::new(server.addr);
    let raw = "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
    client.send(raw.as_bytes());
    let head = client.response(raw);
    expect_status(&head, 200, raw, "HEAD is GET without the body");
    assert_eq!(
        head.header("content-length"),
        get_response.header("content-length"),
        "HEAD should announce the Content-Length a GET gets"
    );
    assert_eq!(
        head.header("content-type"),
        get_response.header("content-type"),
        "HEAD should announce the Content-Type a GET gets"
    );
    // If the server had sent a body, it would now be read as the next response.
    let raw2 = "GET /echo?after=head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    client.send(raw2.as_bytes());
    let next = client.response(raw2);
    assert!(
        next.status_line.starts_with("HTTP/1.1 200") && next.text().contains("after = head"),
        "after a HEAD, the next bytes must be the next response, not a body; got:\n{}",
        next.show()
    );
}

#[test]
fn options_answers_with_allow() {
    let server = serve(&[]);
    for target in ["*", "/echo", "/"] {
        let raw = format!("OPTIONS {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = exchange(server.addr, &raw);
        assert!(
            response.status == 200 || response.status == 204,
            "sent {raw:?}; expected 200 or 204; got:\n{}",
            response.show()
        );
        let allow = response.header("allow").unwrap_or("");
        assert!(
            allow.contains("GET"),
            "OPTIONS {target}: expected an Allow header listing GET; got:\n{}",
            response.show()
        );
    }
}

#[test]
fn trace_echoes_the_request_as_message_http() {
    let server = serve(&[]);
    let raw = "TRACE /anything HTTP/1.1\r\nHost: x\r\nX-Probe: 42\r\nConnection: close\r\n\r\n";
    let response = exchange(server.addr, raw);
    expect_status(
        &response,
        200,
        raw,
        "TRACE is for testing: it sends back what arrived",
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("message/http")),
        "TRACE answers with Content-Type: message/http; got:\n{}",
        response.show()
    );
    let text = response.text();
    assert!(
        text.starts_with("TRACE /anything HTTP/1.1") && text.contains("X-Probe: 42"),
        "TRACE should return the request line and headers it received; got:\n{text}"
    );
}

#[test]
fn connect_gets_405_or_501_and_unknown_methods_501() {
    let server = serve(&[]);
    let raw = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    let response = exchange(server.addr, raw);
    assert!(
        response.status == 405 || response.status == 501,
        "sent {raw:?}; expected 405 or 501 (this is not a proxy); got:\n{}",
        response.show()
    );
    let raw = "BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let response = exchange(server.addr, raw);
    expect_status(
        &response,
        501,
        raw,
        "a method the server does not know is 501 Not Implemented",
    );
}

#[test]
fn unknown_path_is_404() {
    let server = serve(&[]);
    let response = get(server.addr, "/no/such/page");
    expect_status(
        &response,
        404,
        "GET /no/such/page",
        "4xx: the client asked for something wrong",
    );
}

#[test]
fn private_needs_basic_auth_401_then_200() {
    let server = serve(&["--auth", "alice:secret"]);
    let response = get(server.addr, "/private/");
    expect_status(
        &response,
        401,
        "GET /private/ without Authorization",
        "--auth protects /private/",
    );
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic")),
        "401 must say how to authenticate: WWW-Authenticate: Basic …; got:\n{}",
        response.show()
    );
    let wrong = exchange(
        server.addr,
        "GET /private/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWxpY2U6d3Jvbmc=\r\nConnection: close\r\n\r\n",
    );
    expect_status(
        &wrong,
        401,
        "GET /private/ with alice:wrong",
        "a wrong password is still 401",
    );
    // base64("alice:secret")
    let raw = "GET /private/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\nConnection: close\r\n\r\n";
    let right = exchange(server.addr, raw);
    expect_status(&right, 200, raw, "the right credentials open /private/");
}

#[test]
fn http2_request_line_gets_505() {
    let server = serve(&[]);
    let raw = "GET / HTTP/2.0\r\nHost: x\r\n\r\n";
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let response = client.response(raw);
    expect_status(
        &response,
        505,
        raw,
        "HTTP/2 is a binary protocol: over this text protocol it is 505",
    );
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let mut server = serve(&[]);
    let mut client = Client::new(server.addr);
    let local = client.stream.local_addr();
    for i in 0..3 {
        let raw = format!("GET /echo?n={i} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.send(raw.as_bytes());
        let response = client.response(&raw);
        expect_status(
            &response,
            200,
            &raw,
            "HTTP/1.1 connections stay open (persistent connections)",
        );
        assert!(
            response
                .header("connection")
                .map_or(true, |v| !v.eq_ignore_ascii_case("close")),
            "request {i} on a keep-alive connection was answered with Connection: close"
        );
    }
    // The access log shows the same client port three times.
    for i in 0..3 {
        let line = server.wait_for_line(&format!("the access-log line of request {i}"), |l| {
            l.contains(&format!("/echo?n={i}"))
        });
        assert!(
            line.starts_with(&local.to_string()),
            "all three requests came from {local}; the log line says: {line}"
        );
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = serve(&[]);
    let mut client = Client::new(server.addr);
    let mut raw = String::new();
    for i in 0..5 {
        raw.push_str(&format!("GET /echo?n={i} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    client.send(raw.as_bytes()); // five requests in one send
    for i in 0..5 {
        let response = client.response(&raw);
        assert!(
            response.text().contains(&format!("n = {i}")),
            "sent 5 pipelined requests in one write; response {i} should answer /echo?n={i}; got:\n{}",
            response.show()
        );
    }
}

/// A client that sends its requests and then shuts down its sending side at
/// once (`printf … | nc -N`): the FIN arrives with the requests or right
/// behind them. Every request is answered, and then the server closes too —
/// at once, not after --idle-timeout.
#[test]
fn requests_followed_by_the_fin_are_answered_then_closed() {
    let server = serve(&[]);
    let mut client = Client::new(server.addr);
    // On Linux the FIN rides on the requests' own segment, however the
    // scheduler runs the two sides: corked (TCP_CORK), the kernel holds the
    // requests back, and shutdown puts its FIN on the held segment and sends
    // it. An event loop then hears of both in one event (EPOLLIN with
    // EPOLLRDHUP): a loop that skips the recv after a short one never sees
    // the FIN (exercise 8.8). Uncorked, a busy machine could let the server
    // read the requests before the FIN left, and a second event would come.
    #[cfg(target_os = "linux")]
    if let Err(e) = socket2::SockRef::from(client.stream.stream()).set_tcp_cork(true) {
        panic!("setsockopt(TCP_CORK) on the test's socket: {e}");
    }
    let mut raw = String::new();
    for i in 0..3 {
        raw.push_str(&format!("GET /echo?n={i} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    client.send(raw.as_bytes());
    client.shutdown_write(); // the FIN, right behind the three requests
    let what = "sent 3 keep-alive requests in one write, then shut down the sending side";
    for i in 0..3 {
        let response = client.response(&raw);
        assert!(
            response.text().contains(&format!("n = {i}")),
            "{what}: response {i} should answer /echo?n={i}; got:\n{}",
            response.show()
        );
    }
    if let Err(e) = client.closes() {
        panic!(
            "{what}: all 3 were answered, but {e}\n\
             hint: recv returning 0 (lesson 1) means the client has closed its side: \
             answer what came before it, then close"
        );
    }
}

/// Many pipelined requests whose responses add up to far more than the
/// socket buffers hold: the server must stop, wait until the client has read
/// some, and then go on answering the requests it has already received.
#[test]
fn answers_200_pipelined_requests_in_order() {
    const COUNT: usize = 200;
    let server = serve(&[]);
    let mut client = Client::new(server.addr);
    // Even requests fetch the demo page (a few kB each), odd ones
    // /echo?n=I, whose answer shows where in the order it came.
    let target = |i: usize| {
        if i % 2 == 0 {
            "/".to_string()
        } else {
            format!("/echo?n={i}")
        }
    };
    let mut raw = String::new();
    for i in 0..COUNT {
        raw.push_str(&format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", target(i)));
    }
    client.send(raw.as_bytes()); // all 200 in one write, before reading any
    let deadline = Instant::now() + Duration::from_secs(5);
    let what =
        format!("sent {COUNT} pipelined requests in one write (GET / and GET /echo?n=I by turns)");
    for i in 0..COUNT {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{what}: only {i} responses within 5 s");
        let _ = client.stream.set_read_timeout(Some(left));
        let response = client.try_response(false).unwrap_or_else(|e| {
            panic!(
                "{what}: response {i} (to GET {}) did not come after {i} answered: {e}\n\
                 hint: once the output has drained, answer the requests still buffered \
                 before waiting for more input",
                target(i)
            )
        });
        expect_status(
            &response,
            200,
            &format!("GET {}", target(i)),
            "request {i} of the pipeline",
        );
        let expected = if i % 2 == 0 {
            "method=\"post\"".to_string()
        } else {
            format!("n = {i}")
        };
        assert!(
            response.text().contains(&expected),
            "{what}: response {i} should answer GET {} and contain {expected:?}; got:\n{}",
            target(i),
            response.show()
        );
    }
}

#[test]
fn http10_closes_unless_it_asks_for_keep_alive() {
    let server = serve(&[]);
    let raw = "GET /echo HTTP/1.0\r\n\r\n";
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let response = client.response(raw);
    expect_status(&response, 200, raw, "HTTP/1.0 needs no Host");
    if let Err(e) = client.closes() {
        panic!("sent {raw:?}: an HTTP/1.0 connection closes after one response; {e}");
    }
    let raw = "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let response = client.response(raw);
    assert!(
        response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")),
        "sent {raw:?}; expected Connection: keep-alive in the response; got:\n{}",
        response.show()
    );
    let again = "GET /echo?second HTTP/1.0\r\n\r\n";
    client.send(again.as_bytes());
    expect_status(
        &client.response(again),
        200,
        again,
        "the connection stayed open",
    );
}

#[test]
fn connection_close_is_honoured() {
    let server = serve(&[]);
    let raw = "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let response = client.response(raw);
    assert!(
        response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close")),
        "sent {raw:?}; the response should say Connection: close; got:\n{}",
        response.show()
    );
    if let Err(e) = client.closes() {
        panic!("sent {raw:?}; expected the server to close; {e}");
    }
}

#[test]
fn expect_100_continue_gets_an_interim_response_before_the_body() {
    let server = serve(&[]);
    let mut client = Client::new(server.addr);
    let head =
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    client.send(head.as_bytes());
    let interim = client
        .interim_or_final()
        .unwrap_or_else(|e| panic!("sent {head:?} and waited for 100 Continue; {e}"));
    expect_status(
        &interim,
        100,
        head,
        "Expect: 100-continue asks the server for a go-ahead before the body",
    );
    client.send(b"hello");
    let response = client.response(head);
    expect_status(
        &response,
        200,
        head,
        "after 100 Continue the body is sent and answered",
    );
    assert!(
        response.text().contains("hello"),
        "got:\n{}",
        response.show()
    );
}

#[test]
fn expect_100_continue_is_not_sent_when_the_final_status_is_known() {
    let dir = TempDir::new("continue");
    dir.write("www/a.txt", b"a\n");
    let root = dir.path().join("www");
    let root = root.to_str().expect("utf-8");
    // Read-only root: a PUT is 405 whatever its body; /private/ without
    // credentials is 401. Neither may be invited to upload first.
    let server = serve(&["--root", root, "--auth", "alice:secret"]);
    for (head, status, why) in [
        (
            "PUT /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
            405,
            "PUT without --allow-write is refused whatever the body",
        ),
        (
            "POST /private/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
            401,
            "/private/ without credentials is refused whatever the body",
        ),
    ] {
        let mut client = Client::new(server.addr);
        client.send(head.as_bytes());
        let first = client
            .interim_or_final()
            .unwrap_or_else(|e| panic!("sent {head:?} (no body yet); expected an answer at once; {e}"));
        expect_status(
            &first,
            status,
            head,
            &format!("{why}: the final status comes first, instead of 100 Continue and a refusal after the whole upload"),
        );
    }
}

#[test]
fn chunked_request_body_is_decoded() {
    let server = serve(&[]);
    let raw = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n7;note=x\r\n, world\r\n0\r\n\r\n";
    let response = exchange(server.addr, raw);
    expect_status(
        &response,
        200,
        raw,
        "chunked: each chunk is a hex size, CRLF, the bytes, CRLF; 0 ends it",
    );
    assert!(
        response.text().contains("hello, world") && response.text().contains("12 bytes"),
        "sent a chunked body of 5+7 bytes; expected /echo to show `hello, world` (12 bytes); got:\n{}",
        response.show()
    );
}

#[test]
fn absolute_form_target_is_served() {
    let server = serve(&[]);
    let raw = format!(
        "GET http://{}/echo?via=absolute HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr, server.addr
    );
    let response = exchange(server.addr, &raw);
    expect_status(
        &response,
        200,
        &raw,
        "absolute-form (what clients send to a proxy) must be accepted",
    );
    assert!(
        response.text().contains("via = absolute"),
        "got:\n{}",
        response.show()
    );
}

#[test]
fn access_log_has_one_line_per_request() {
    let mut server = serve(&[]);
    let ok = get(server.addr, "/echo?x=1");
    let missing = get(server.addr, "/missing");
    let _head = exchange(
        server.addr,
        "HEAD /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let expected = [
        ("\"GET /echo?x=1 HTTP/1.1\" 200 ", ok.body.len()),
        ("\"GET /missing HTTP/1.1\" 404 ", missing.body.len()),
        ("\"HEAD /echo HTTP/1.1\" 200 ", 0),
    ];
    // Three connections: their lines may come in any order (each may be
    // logged by another thread), so wait until all three are there.
    let is_wanted = |l: &str| expected.iter().any(|(needle, _)| l.contains(needle));
    let count = std::cell::Cell::new(0);
    server.lines_until(
        "three access-log lines (GET /echo?x=1, GET /missing, HEAD /echo)",
        |l| {
            if is_wanted(l) {
                count.set(count.get() + 1);
            }
            count.get() == expected.len()
        },
    );
    for (needle, bytes) in expected {
        let lines: Vec<&String> = server
            .seen()
            .iter()
            .filter(|l| l.contains(needle))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "one request, one access-log line containing {needle}; stdout had: {:?}",
            server.seen()
        );
        let line = lines[0];
        let (peer, rest) = line.split_once(' ').unwrap_or(("", ""));
        assert!(
            peer.parse::<std::net::SocketAddr>().is_ok(),
            "access-log lines start with the client's address (PEER \"METHOD TARGET VERSION\" STATUS BYTES); got: {line}"
        );
        assert!(
            rest.ends_with(&format!(" {bytes}")),
            "BYTES is the body length sent ({bytes}); got: {line}"
        );
    }
}

#[test]
fn server_keeps_serving_after_a_client_resets() {
    let server = serve(&[]);
    {
        let mut client = Client::new(server.addr);
        client.send(b"GET /echo HTTP/1.1\r\nHo");
        // Dropped here, mid-request.
    }
    let response = get(server.addr, "/echo?still=up");
    expect_status(
        &response,
        200,
        "GET /echo?still=up",
        "one connection's failure never stops a server",
    );
}

// ---- the client ----

#[test]
fn client_get_prints_the_body() {
    let server = serve(&[]);
    let url = format!("http://{}/echo?a=1&b=2", server.addr);
    let out = mini_http().run(["get", url.as_str()], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let text = out.stdout_text();
    assert!(
        text.contains("a = 1") && text.contains("b = 2"),
        "`get {url}` should print the body\n{}",
        out.describe()
    );
}

#[test]
fn client_verbose_shows_request_and_response_heads() {
    let server = serve(&[]);
    let url = format!("http://{}/echo", server.addr);
    let out = mini_http().run(["get", "-v", url.as_str()], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let text = out.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    let sent_line = lines.iter().position(|l| *l == "> GET /echo HTTP/1.1");
    let host_line = lines
        .iter()
        .position(|l| *l == format!("> Host: {}", server.addr));
    let status_line = lines.iter().position(|l| l.starts_with("< HTTP/1.1 200"));
    assert!(
        sent_line.is_some()
            && host_line.is_some()
            && status_line.is_some()
            && sent_line < status_line,
        "`get -v` shows `> GET /echo HTTP/1.1`, `> Host: {}`, then `< HTTP/1.1 200 OK`\n{}",
        server.addr,
        out.describe()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.to_ascii_lowercase().starts_with("< content-length:")),
        "`get -v` shows the response headers with `< `\n{}",
        out.describe()
    );
}

#[test]
fn client_request_sends_method_data_and_headers() {
    let server = serve(&[]);
    let url = format!("http://{}/echo", server.addr);
    let out = mini_http().run(
        [
            "request",
            "POST",
            url.as_str(),
            "-d",
            "k=v&n=%E4%BD%A0",
            "-H",
            "X-Course: day28",
        ],
        b"",
    );
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let text = out.stdout_text();
    assert!(
        text.contains("k = v") && text.contains("n = 你"),
        "POST -d should arrive as form fields\n{}",
        out.describe()
    );
    let trace_out = mini_http().run(
        ["request", "TRACE", url.as_str(), "-H", "X-Course: day28"],
        b"",
    );
    assert!(
        trace_out.stdout_text().contains("X-Course: day28"),
        "-H 'X-Course: day28' should be sent (TRACE shows it back)\n{}",
        trace_out.describe()
    );
}

/// A one-shot raw server: accept, read the request head, write `reply`, close.
#[test]
fn client_rejects_a_malformed_header_as_usage_and_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    for bad in [
        "NoColon",
        "X: a\r\nEvil: 1",
        "Bad Name: 1",
        ": empty name",
        "X: a\nb",
    ] {
        let out = mini_http().run(["get", "-H", bad, url.as_str()], b"");
        out.assert_usage_error(&format!(
            "get -H {bad:?} (not 'Name: value' with a token name and no CR/LF)"
        ));
    }
    listener.set_nonblocking(true).expect("nonblocking");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, peer)) => {
            panic!("a usage error must send nothing, but {peer} connected to the test's listener")
        }
        Err(e) => panic!("accept: {e}"),
    }
}

fn raw_server(reply: &'static [u8]) -> (std::net::SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = blackbox::spawn(move || {
        // The test plays the server, its conversation recorded; it gives
        // up when nobody connects in time.
        if let Ok(mut stream) = Conn::accept(&listener, "the test's server", blackbox::RUN_TIMEOUT)
        {
            let mut seen = Vec::new();
            let mut chunk = [0u8; 1024];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = stream.write_all(reply);
        }
    });
    (addr, handle)
}

#[test]
fn client_reads_chunked_and_close_delimited_bodies() {
    let cases: [(&'static [u8], &str); 3] = [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n", "abcdefg"),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the server closes", "until the server closes"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nexactEXTRA", "exact"),
    ];
    for (reply, body) in cases {
        let (addr, handle) = raw_server(reply);
        let url = format!("http://{addr}/");
        let out = mini_http().run(["get", url.as_str()], b"");
        let _ = handle.join();
        assert_eq!(out.code(), Some(0), "{}", out.describe());
        assert_eq!(
            out.stdout_text(),
            body,
            "server replied {:?}; the client should print exactly the body\n{}",
            String::from_utf8_lossy(reply),
            out.describe()
        );
    }
}

#[test]
fn client_connection_refused_is_an_error_line_and_exit_1() {
    let addr = blackbox::closed_port_addr();
    let url = format!("http://{addr}/");
    let out = mini_http().run(["get", url.as_str()], b"");
    let line = out.assert_error(1).to_string();
    assert!(
        line.contains(&addr.to_string()),
        "the error line should name {addr}: {line}"
    );
}

#[test]
fn client_bad_url_is_an_error_line_and_exit_1() {
    for url in [
        "ftp://127.0.0.1/",
        "127.0.0.1:8000/",
        "http://127.0.0.1:99999/",
    ] {
        let out = mini_http().run(["get", url], b"");
        out.assert_error(1);
    }
}
