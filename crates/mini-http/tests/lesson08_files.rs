//! Lesson 8 — serving files under `--root`: Content-Type, Content-Length,
//! Last-Modified, 301 for a directory without its slash, 304 for a copy
//! that is still current, PUT and DELETE with `--allow-write`, and the rule
//! that matters most: nothing outside the root is ever served or written.

mod lesson08_support;

use std::time::{Duration, Instant};

use lesson08_support::*;

const SECRET: &str = "TOP-SECRET-7f3a";

/// A root `www/` with a few files, and a secret file beside it (outside).
fn site(tag: &str) -> (TempDir, String) {
    let dir = TempDir::new(tag);
    dir.write("secret.txt", SECRET.as_bytes());
    dir.write("www/hello.txt", b"hello, file\n");
    dir.write("www/page.html", b"<h1>page</h1>\n");
    dir.write("www/docs/index.html", b"<h1>docs index</h1>\n");
    dir.write("www/list/a.txt", b"a\n");
    dir.write("www/list/b c.txt", b"b\n");
    let root = dir.path().join("www").to_str().expect("utf-8").to_string();
    (dir, root)
}

#[test]
fn file_comes_with_type_length_and_dates() {
    let (_dir, root) = site("type");
    let server = serve(&["--root", &root]);
    let response = get(server.addr, "/hello.txt");
    expect_status(&response, 200, "GET /hello.txt", "a file under --root");
    assert_eq!(
        response.body, b"hello, file\n",
        "GET /hello.txt: expected the file's bytes, `hello, file\\n`, as the body"
    );
    assert_eq!(
        response.header("content-length"),
        Some("12"),
        "GET /hello.txt (12 bytes): expected `Content-Length: 12`:\n{}",
        response.show()
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "GET /hello.txt: expected a `Content-Type` starting `text/plain`:\n{}",
        response.show()
    );
    assert!(
        response
            .header("last-modified")
            .is_some_and(|d| d.ends_with("GMT")),
        "GET /hello.txt: expected a `Last-Modified` date in GMT (`… GMT`):\n{}",
        response.show()
    );
    assert!(
        response.header("date").is_some_and(|d| d.ends_with("GMT")),
        "GET /hello.txt: expected a `Date` header in GMT (`… GMT`):\n{}",
        response.show()
    );
    let html = get(server.addr, "/page.html");
    assert!(
        html.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "GET /page.html: expected a `Content-Type` starting `text/html`:\n{}",
        html.show()
    );
}

#[test]
fn large_file_arrives_whole() {
    let (dir, root) = site("large");
    let bytes = blackbox::random_bytes(700_000, 8);
    dir.write("www/big.bin", &bytes);
    let server = serve(&["--root", &root]);
    let response = get(server.addr, "/big.bin");
    expect_status(&response, 200, "GET /big.bin", "a 700 kB file");
    assert!(
        response.body == bytes,
        "GET /big.bin: expected the 700000 bytes of the file; got {} bytes that differ",
        response.body.len()
    );
}

/// Pipelined requests for large files: each response is more than the
/// socket buffers hold, so the server must finish sending one file and then
/// answer the next request it has already received.
#[test]
fn pipelined_large_files_arrive_whole_and_in_order() {
    const FILES: usize = 8;
    let (dir, root) = site("pipelined");
    let files: Vec<Vec<u8>> = (0..FILES)
        .map(|i| {
            let bytes = blackbox::random_bytes(200_000, 11 + 2 * i as u64);
            dir.write(&format!("www/f{i}.bin"), &bytes);
            bytes
        })
        .collect();
    let server = serve(&["--root", &root]);
    let mut client = Client::new(server.addr);
    let mut raw = String::new();
    for i in 0..FILES {
        raw.push_str(&format!("GET /f{i}.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    client.send(raw.as_bytes()); // all eight in one write, before reading any
    let deadline = Instant::now() + Duration::from_secs(5);
    let what = format!(
        "sent GET /f0.bin … /f{}.bin (200,000 bytes each) in one write",
        FILES - 1
    );
    for (i, bytes) in files.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{what}: only {i} files within 5 s");
        let _ = client.stream.set_read_timeout(Some(left));
        let response = client.try_response(false).unwrap_or_else(|e| {
            panic!(
                "{what}: the response to GET /f{i}.bin did not come after {i} answered: {e}\n\
                 hint: once a file is sent, answer the requests still buffered before \
                 waiting for more input"
            )
        });
        expect_status(
            &response,
            200,
            &format!("GET /f{i}.bin"),
            "request {i} of the pipeline",
        );
        assert!(
            response.body == *bytes,
            "{what}: response {i} should be the 200000 bytes of f{i}.bin; got {} bytes that differ",
            response.body.len()
        );
    }
}

#[test]
fn directory_without_slash_is_301_and_index_or_listing_is_served() {
    let (_dir, root) = site("dirs");
    let server = serve(&["--root", &root]);
    let response = get(server.addr, "/docs");
    expect_status(
        &response,
        301,
        "GET /docs",
        "a directory is addressed with its trailing slash",
    );
    assert_eq!(
        response.header("location"),
        Some("/docs/"),
        "GET /docs (a directory, no trailing slash): expected `Location: /docs/`:\n{}",
        response.show()
    );
    let index = get(server.addr, "/docs/");
    expect_status(
        &index,
        200,
        "GET /docs/",
        "index.html stands for its directory",
    );
    assert!(index.text().contains("docs index"), "{}", index.show());
    let listing = get(server.addr, "/list/");
    expect_status(
        &listing,
        200,
        "GET /list/",
        "a directory without index.html is listed",
    );
    let text = listing.text();
    assert!(
        text.contains("a.txt") && text.contains("b%20c.txt"),
        "the listing should link to a.txt and b%20c.txt:\n{text}"
    );
}

#[test]
fn if_modified_since_gets_304_without_a_body() {
    let (_dir, root) = site("304");
    let server = serve(&["--root", &root]);
    let first = get(server.addr, "/hello.txt");
    let stamp = first
        .header("last-modified")
        .unwrap_or_else(|| panic!("no Last-Modified:\n{}", first.show()))
        .to_string();
    let raw = format!("GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: {stamp}\r\nConnection: close\r\n\r\n");
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let response = client.response(&raw);
    expect_status(
        &response,
        304,
        &raw,
        "the client's copy is current: 304 Not Modified, no body",
    );
    if let Err(e) = client.closes() {
        panic!("a 304 carries no body: after its head the server should just close (Connection: close); {e}");
    }
    let old = "GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n";
    expect_status(
        &exchange(server.addr, old),
        200,
        old,
        "a copy from 1994 is stale",
    );
}

#[test]
fn traversal_attempts_never_leave_the_root() {
    let (dir, root) = site("traversal");
    let secret_path = dir.path().join("secret.txt");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        dir.path().join("secret.txt"),
        dir.path().join("www/link-out.txt"),
    )
    .expect("symlink");
    let server = serve(&["--root", &root]);
    let attempts = [
        "/../secret.txt",
        "/docs/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/docs%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/hello.txt%00/../../secret.txt",
        "/link-out.txt",
    ];
    for target in attempts {
        // Raw bytes: a URL library would "fix" these before sending.
        let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut client = Client::new(server.addr);
        client.send(raw.as_bytes());
        let response = client.try_response(false);
        if let Ok(response) = response {
            assert!(
                response.status >= 400 && !response.text().contains(SECRET),
                "sent {raw:?}; the file outside --root must never be served; got:\n{}\nhint: decode once, refuse `..` and encoded slashes, and check the canonical path is inside the root",
                response.show()
            );
        }
    }
    let raw = "GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let response = exchange(server.addr, raw);
    assert!(
        !response.text().contains(SECRET),
        "absolute-form traversal served the secret:\n{}",
        response.show()
    );
    assert_eq!(
        std::fs::read_to_string(&secret_path).ok().as_deref(),
        Some(SECRET),
        "the file outside the root must be left as it was"
    );
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_root_is_403_and_a_symlink_loop_is_500() {
    let (dir, root) = site("links");
    std::os::unix::fs::symlink(
        dir.path().join("secret.txt"),
        dir.path().join("www/out.txt"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink("loop.txt", dir.path().join("www/loop.txt")).expect("symlink");
    std::os::unix::fs::symlink("hello.txt", dir.path().join("www/in.txt")).expect("symlink");
    let server = serve(&["--root", &root]);
    let response = get(server.addr, "/out.txt");
    expect_status(
        &response,
        403,
        "GET /out.txt (a symlink to a file outside the root)",
        "forbidden: it exists, but outside --root",
    );
    let response = get(server.addr, "/loop.txt");
    expect_status(
        &response,
        500,
        "GET /loop.txt (a symlink to itself)",
        "the file system fails (ELOOP, too many levels of symbolic links): the server itself failed — 5xx",
    );
    let response = get(server.addr, "/in.txt");
    expect_status(
        &response,
        200,
        "GET /in.txt (a symlink inside the root)",
        "a link that stays inside is fine",
    );
}

#[test]
fn missing_file_is_404() {
    let (_dir, root) = site("404");
    let server = serve(&["--root", &root]);
    expect_status(
        &get(server.addr, "/nope.txt"),
        404,
        "GET /nope.txt",
        "404: no such resource",
    );
    expect_status(
        &get(server.addr, "/hello.txt/x"),
        404,
        "GET /hello.txt/x",
        "a file is not a directory",
    );
}

#[test]
fn put_and_delete_without_allow_write_are_405_with_allow() {
    let (dir, root) = site("readonly");
    let server = serve(&["--root", &root]);
    for raw in [
        "PUT /new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        "DELETE /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ] {
        let response = exchange(server.addr, raw);
        expect_status(&response, 405, raw, "writing needs --allow-write");
        let allow = response.header("allow").unwrap_or("");
        assert!(
            allow.contains("GET") && !allow.contains("PUT"),
            "405 must list what IS allowed (Allow: GET, HEAD, …), without PUT; got:\n{}",
            response.show()
        );
    }
    assert!(
        !dir.path().join("www/new.txt").exists(),
        "PUT without --allow-write created a file"
    );
    assert!(
        dir.path().join("www/hello.txt").exists(),
        "DELETE without --allow-write removed a file"
    );
}

#[test]
fn put_creates_201_replaces_204_and_delete_removes_204() {
    let (dir, root) = site("write");
    let server = serve(&["--root", &root, "--allow-write"]);
    let put = |body: &str| {
        format!(
            "PUT /notes/new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    std::fs::create_dir_all(dir.path().join("www/notes")).expect("mkdir");
    let raw = put("first");
    expect_status(
        &exchange(server.addr, &raw),
        201,
        &raw,
        "PUT of a new file: 201 Created",
    );
    assert_eq!(
        std::fs::read(dir.path().join("www/notes/new.txt"))
            .ok()
            .as_deref(),
        Some(&b"first"[..]),
        "PUT /notes/new.txt with body `first` answered 201: expected www/notes/new.txt to exist and hold exactly `first`"
    );
    let raw = put("second");
    let replaced = exchange(server.addr, &raw);
    assert!(
        replaced.status == 204 || replaced.status == 200,
        "sent {raw:?}; replacing a file is 204 No Content (or 200); got:\n{}",
        replaced.show()
    );
    let fetched = get(server.addr, "/notes/new.txt");
    assert_eq!(
        fetched.text(),
        "second",
        "GET after PUT must see the new content"
    );
    let raw = "DELETE /notes/new.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let deleted = exchange(server.addr, raw);
    assert!(
        deleted.status == 204 || deleted.status == 200,
        "sent {raw:?}; got:\n{}",
        deleted.show()
    );
    assert!(
        !dir.path().join("www/notes/new.txt").exists(),
        "DELETE did not remove the file"
    );
    expect_status(
        &get(server.addr, "/notes/new.txt"),
        404,
        "GET after DELETE",
        "it is gone",
    );
}

#[test]
fn put_and_delete_never_write_outside_the_root() {
    let (dir, root) = site("write-out");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("www/up")).expect("symlink");
    let server = serve(&["--root", &root, "--allow-write"]);
    for target in [
        "/../evil.txt",
        "/%2e%2e/evil.txt",
        "/..%2fevil.txt",
        "/up/evil.txt",
    ] {
        let raw = format!("PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil");
        let mut client = Client::new(server.addr);
        client.send(raw.as_bytes());
        if let Ok(response) = client.try_response(false) {
            assert!(
                response.status >= 400,
                "sent {raw:?}; expected a refusal; got:\n{}",
                response.show()
            );
        }
        assert!(
            !dir.path().join("evil.txt").exists(),
            "sent {raw:?}: a file was written outside --root"
        );
    }
    for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/up/secret.txt"] {
        let raw = format!("DELETE {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut client = Client::new(server.addr);
        client.send(raw.as_bytes());
        let _ = client.try_response(false);
        assert!(
            dir.path().join("secret.txt").exists(),
            "sent {raw:?}: a file outside --root was deleted"
        );
    }
}

#[test]
fn changed_file_is_never_served_stale() {
    let (dir, root) = site("stale");
    let path = dir.write("www/old.txt", b"version one\n");
    // An old modification time: a server may keep such a file in memory.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let set_old = |path: &std::path::Path| {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
    };
    set_old(&path);
    let server = serve(&["--root", &root]);
    for _ in 0..3 {
        assert_eq!(
            get(server.addr, "/old.txt").text(),
            "version one\n",
            "GET /old.txt, three times: expected its contents, `version one\\n`, each time"
        );
    }
    // Same length, same (old) modification time: only the content changed.
    std::fs::write(&path, b"version two\n").expect("rewrite");
    set_old(&path);
    let response = get(server.addr, "/old.txt");
    assert_eq!(
        response.text(),
        "version two\n",
        "the file changed on disk (same size, same mtime); GET must serve the new content, not a cached copy\n{}",
        response.show()
    );
}

/// Requests on one connection are answered in order, so a GET pipelined
/// behind a PUT or a DELETE must see what that PUT or DELETE did — even
/// when the file was read (and perhaps kept in memory) just before, and all
/// of them arrived in one write.
#[test]
fn pipelined_get_after_put_or_delete_sees_the_change() {
    let (dir, root) = site("pipewrite");
    let path = dir.write("www/old.txt", b"version one\n");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(old))
        .expect("set mtime");
    let server = serve(&["--root", &root, "--allow-write"]);
    let raw = "GET /old.txt HTTP/1.1\r\nHost: x\r\n\r\n\
               PUT /old.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\nversion two\n\
               GET /old.txt HTTP/1.1\r\nHost: x\r\n\r\n\
               DELETE /old.txt HTTP/1.1\r\nHost: x\r\n\r\n\
               GET /old.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let what =
        "sent GET, PUT (same length, new content), GET, DELETE, GET of /old.txt in one write";
    let mut client = Client::new(server.addr);
    client.send(raw.as_bytes());
    let first = client.response(raw);
    expect_status(&first, 200, what, "the first GET finds the file");
    assert_eq!(first.text(), "version one\n", "{what}: the first GET");
    let put = client.response(raw);
    assert!(
        matches!(put.status, 200 | 204),
        "{what}: the PUT replaces the file: 204 (or 200); got:\n{}",
        put.show()
    );
    let second = client.response(raw);
    assert_eq!(
        second.text(),
        "version two\n",
        "{what}: the GET behind the PUT must see the new content, not a copy kept from the first GET\n{}",
        second.show()
    );
    let delete = client.response(raw);
    assert!(
        matches!(delete.status, 200 | 204),
        "{what}: the DELETE removes the file: 204 (or 200); got:\n{}",
        delete.show()
    );
    let third = client.response(raw);
    expect_status(
        &third,
        404,
        what,
        "the GET behind the DELETE must find no file, not a copy kept from before",
    );
}

#[test]
fn long_path_segment_is_404_never_5xx() {
    let (_dir, root) = site("longname");
    let server = serve(&["--root", &root, "--allow-write"]);
    let long = format!("/{}", "a".repeat(300));
    let response = get(server.addr, &long);
    expect_status(
        &response,
        404,
        "GET /{300 × a}",
        "a name longer than the file system allows cannot exist: 404, never a 5xx (a client's path is the client's mistake)",
    );
    let deep = format!("/{}/x.txt", "b".repeat(300));
    expect_status(
        &get(server.addr, &deep),
        404,
        "GET /{300 × b}/x.txt",
        "the same inside a path",
    );
    let raw = format!(
        "PUT {long} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nz"
    );
    let put = exchange(server.addr, &raw);
    assert!(
        (400..500).contains(&put.status),
        "PUT /{{300 × a}}: a name the file system cannot hold is the client's error (4xx), never a 5xx; got:\n{}",
        put.show()
    );
}

#[test]
fn future_if_modified_since_is_ignored() {
    let (_dir, root) = site("future");
    let server = serve(&["--root", &root]);
    let raw = "GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\nConnection: close\r\n\r\n";
    let response = exchange(server.addr, raw);
    expect_status(
        &response,
        200,
        raw,
        "a date in the future is not one the server gave: it is ignored (RFC 9110, 13.1.3), so the file is sent",
    );
    assert_eq!(
        response.body,
        b"hello, file\n",
        "If-Modified-Since in the future is ignored: expected the whole file, `hello, file\\n`, as the body"
    );
}

/// `GET /PATH` with extra header lines, on a new connection.
fn get_with(addr: std::net::SocketAddr, path: &str, headers: &str) -> (String, Response) {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
    let response = exchange(addr, &raw);
    (raw, response)
}

#[test]
fn range_requests_get_206_with_content_range_or_416() {
    let (dir, root) = site("ranges");
    // A small file (kept in memory) and a large one (sent from disk).
    let small = b"0123456789abcdefghij".to_vec();
    let large = blackbox::random_bytes(200_000, 3);
    dir.write("www/small.txt", &small);
    dir.write("www/large.bin", &large);
    let server = serve(&["--root", &root]);
    for (path, bytes) in [("/small.txt", &small), ("/large.bin", &large)] {
        let len = bytes.len();
        let whole = get(server.addr, path);
        assert_eq!(
            whole.header("accept-ranges"),
            Some("bytes"),
            "GET {path}: a file answer says Accept-Ranges: bytes\n{}",
            whole.show()
        );
        for (range, first, last) in [
            ("bytes=0-9", 0, 9),
            ("bytes=5-", 5, len - 1),
            ("bytes=-4", len - 4, len - 1),
            ("bytes=10-999999", 10, len - 1),
        ] {
            let (raw, response) = get_with(server.addr, path, &format!("Range: {range}\r\n"));
            expect_status(
                &response,
                206,
                &raw,
                "one satisfiable range: 206 Partial Content",
            );
            let want = format!("bytes {first}-{last}/{len}");
            assert_eq!(
                response.header("content-range"),
                Some(want.as_str()),
                "sent {raw:?}\n{}",
                response.show()
            );
            assert!(
                response.body == bytes[first..=last],
                "sent {raw:?}: the body must be bytes {first}..={last} of the file; got {} bytes",
                response.body.len()
            );
        }
        let (raw, response) = get_with(server.addr, path, &format!("Range: bytes={len}-\r\n"));
        expect_status(
            &response,
            416,
            &raw,
            "a range that starts past the end cannot be satisfied",
        );
        let want = format!("bytes */{len}");
        assert_eq!(
            response.header("content-range"),
            Some(want.as_str()),
            "a range past the end: expected `Content-Range: bytes */LENGTH` naming the file's length:\n{}",
            response.show()
        );
        let (raw, response) = get_with(server.addr, path, "Range: bytes=0-1,5-6\r\n");
        expect_status(
            &response,
            200,
            &raw,
            "several ranges are answered with the whole file (200)",
        );
        assert!(
            response.body == *bytes,
            "sent {raw:?}: expected the whole file"
        );
    }
    let raw =
        "HEAD /small.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n";
    let head = exchange(server.addr, raw);
    expect_status(
        &head,
        200,
        raw,
        "Range applies to GET only; HEAD gets the whole file's head",
    );
}

#[test]
fn if_range_sends_the_part_only_while_the_validator_matches() {
    let (dir, root) = site("ifrange");
    dir.write("www/r.txt", b"0123456789");
    let server = serve(&["--root", &root]);
    let whole = get(server.addr, "/r.txt");
    let etag = whole
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag:\n{}", whole.show()))
        .to_string();
    let modified = whole.header("last-modified").unwrap_or("").to_string();
    for validator in [etag.as_str(), modified.as_str()] {
        let (raw, fresh) = get_with(
            server.addr,
            "/r.txt",
            &format!("Range: bytes=2-3\r\nIf-Range: {validator}\r\n"),
        );
        expect_status(
            &fresh,
            206,
            &raw,
            "If-Range with the current validator: the part",
        );
        assert_eq!(
            fresh.body,
            b"23",
            "If-Range with the current validator and Range: bytes=2-3: expected the body `23`, those two bytes only"
        );
    }
    let (raw, stale) = get_with(
        server.addr,
        "/r.txt",
        "Range: bytes=2-3\r\nIf-Range: \"not-the-tag\"\r\n",
    );
    expect_status(
        &stale,
        200,
        &raw,
        "If-Range with another validator: the file changed, so the whole new file",
    );
    assert_eq!(
        stale.body,
        b"0123456789",
        "If-Range with a validator the file no longer has: expected the whole new file, `0123456789`, not a part"
    );
}

#[test]
fn etag_and_if_none_match_get_304_before_if_modified_since() {
    let (_dir, root) = site("etag");
    let server = serve(&["--root", &root]);
    let first = get(server.addr, "/hello.txt");
    let etag = first
        .header("etag")
        .unwrap_or_else(|| panic!("a file answer carries an ETag:\n{}", first.show()))
        .to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "a strong entity tag is a quoted string (no W/): {etag}"
    );
    let stamp = first.header("last-modified").unwrap_or("").to_string();
    let (raw, same) = get_with(
        server.addr,
        "/hello.txt",
        &format!("If-None-Match: \"x\", {etag}\r\n"),
    );
    expect_status(
        &same,
        304,
        &raw,
        "the client has this very version (its tag is in the list)",
    );
    assert_eq!(
        same.header("etag"),
        Some(etag.as_str()),
        "a 304 repeats the ETag\n{}",
        same.show()
    );
    // If-None-Match decides; If-Modified-Since is not looked at then.
    let (raw, other) = get_with(
        server.addr,
        "/hello.txt",
        &format!("If-None-Match: \"another\"\r\nIf-Modified-Since: {stamp}\r\n"),
    );
    expect_status(
        &other,
        200,
        &raw,
        "If-None-Match takes precedence over If-Modified-Since (RFC 9110, 13.2.2)",
    );
}

#[test]
fn if_match_and_if_unmodified_since_guard_put_and_delete_with_412() {
    let (dir, root) = site("412");
    dir.write("www/shared.txt", b"version 1\n");
    let server = serve(&["--root", &root, "--allow-write"]);
    let first = get(server.addr, "/shared.txt");
    let etag = first
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag:\n{}", first.show()))
        .to_string();
    // Student A saves, with the tag of the version they read: allowed.
    let raw = format!("PUT /shared.txt HTTP/1.1\r\nHost: x\r\nIf-Match: {etag}\r\nContent-Length: 10\r\nConnection: close\r\n\r\nversion 2\n");
    let saved = exchange(server.addr, &raw);
    expect_status(
        &saved,
        204,
        &raw,
        "If-Match with the current tag: the PUT replaces the file",
    );
    // Student B saves with the same, now old, tag: refused, file unchanged.
    let raw = format!("PUT /shared.txt HTTP/1.1\r\nHost: x\r\nIf-Match: {etag}\r\nContent-Length: 10\r\nConnection: close\r\n\r\nversion B\n");
    let refused = exchange(server.addr, &raw);
    expect_status(
        &refused,
        412,
        &raw,
        "If-Match with a tag the file no longer has: 412, nothing written",
    );
    let now = std::fs::read(dir.path().join("www/shared.txt")).expect("read");
    assert_eq!(now, b"version 2\n", "a 412 PUT must not change the file");
    let raw = format!(
        "DELETE /shared.txt HTTP/1.1\r\nHost: x\r\nIf-Match: {etag}\r\nConnection: close\r\n\r\n"
    );
    expect_status(
        &exchange(server.addr, &raw),
        412,
        &raw,
        "DELETE with a stale If-Match: 412",
    );
    let raw = "DELETE /shared.txt HTTP/1.1\r\nHost: x\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n";
    expect_status(
        &exchange(server.addr, raw),
        412,
        raw,
        "modified after 1994: If-Unmodified-Since fails, 412",
    );
    assert!(
        dir.path().join("www/shared.txt").exists(),
        "a 412 DELETE must not remove the file"
    );
    let raw = "PUT /new.txt HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\nContent-Length: 1\r\nConnection: close\r\n\r\nn";
    expect_status(
        &exchange(server.addr, raw),
        412,
        raw,
        "If-Match: * on a file that does not exist: 412",
    );
    let raw = "PUT /hello.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\nContent-Length: 1\r\nConnection: close\r\n\r\nn";
    expect_status(
        &exchange(server.addr, raw),
        412,
        raw,
        "If-None-Match: * (create only) on a file that exists: 412",
    );
    let current = get(server.addr, "/shared.txt");
    let tag = current.header("etag").unwrap_or("").to_string();
    let raw = format!(
        "DELETE /shared.txt HTTP/1.1\r\nHost: x\r\nIf-Match: {tag}\r\nConnection: close\r\n\r\n"
    );
    expect_status(
        &exchange(server.addr, &raw),
        204,
        &raw,
        "DELETE with the current tag is done",
    );
}

/// What a load generator does each time it stops: a client with requests
/// still in flight closes with a reset (unread responses make its close an
/// RST). The server is then writing to a connection that no longer exists;
/// that send fails — for that connection alone. (A server that lets the
/// failed send raise SIGPIPE with its default action is killed whole: every
/// connection, every later client.)
#[test]
fn server_keeps_serving_after_clients_reset_while_files_are_sent() {
    let (_dir, root) = site("reset");
    let mut server = serve(&["--root", &root]);
    let addr = server.addr;
    let one = "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let pipelined = one.repeat(20);
    for round in 1..=10 {
        let what = format!(
            "round {round} of 10: 20 pipelined `GET /hello.txt`, the first bytes of the answer read, then a reset"
        );
        let mut stopped = |failure: String| -> ! {
            // A server killed a moment ago may not be reaped yet: allow it 1 s.
            let Some(status) = server.wait_exit(Duration::from_secs(1)) else {
                panic!("{what}: {failure}");
            };
            panic!(
                "{what}: {failure}; the server is no longer running ({status}): it stopped after a client reset its connection (round {}) — one connection's failure must never stop the server (a send to a reset connection raises SIGPIPE: is it ignored?)",
                round - 1
            );
        };
        let mut conn = match Conn::try_connect(addr, "the client", Duration::from_secs(5)) {
            Ok(conn) => conn,
            Err(e) => stopped(format!("connect failed: {e}")),
        };
        blackbox::quietly(|| conn.try_send(pipelined.as_bytes()))
            .unwrap_or_else(|e| stopped(format!("send failed: {e}")));
        match conn.recv_some(100) {
            Ok(bytes) if !bytes.is_empty() => {}
            Ok(_) => stopped("the server closed the connection before answering".into()),
            Err(e) => stopped(format!("recv failed: {e}")),
        }
        conn.reset();
    }
    let response = get(server.addr, "/hello.txt");
    expect_status(
        &response,
        200,
        "GET /hello.txt after 10 clients reset mid-answer",
        "a send that fails because the client reset the connection concerns that connection only",
    );
    assert_eq!(
        response.body, b"hello, file\n",
        "GET /hello.txt after the resets: expected the file's bytes"
    );
    assert!(
        server.is_running(),
        "after 10 clients reset their connections while files were being sent to them, the server must still be running"
    );
}
