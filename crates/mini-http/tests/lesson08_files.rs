//! Lesson 8 — serving files under `--root`: Content-Type, Content-Length,
//! Last-Modified, 301 for a directory without its slash, 304 for a copy
//! that is still current, PUT and DELETE with `--allow-write`, and the rule
//! that matters most: nothing outside the root is ever served or written.

mod lesson08_support;

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
    assert_eq!(response.body, b"hello, file\n");
    assert_eq!(
        response.header("content-length"),
        Some("12"),
        "{}",
        response.show()
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{}",
        response.show()
    );
    assert!(
        response
            .header("last-modified")
            .is_some_and(|d| d.ends_with("GMT")),
        "{}",
        response.show()
    );
    assert!(
        response.header("date").is_some_and(|d| d.ends_with("GMT")),
        "{}",
        response.show()
    );
    let html = get(server.addr, "/page.html");
    assert!(
        html.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{}",
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
        "{}",
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
        Some(&b"first"[..])
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
        assert_eq!(get(server.addr, "/old.txt").text(), "version one\n");
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
