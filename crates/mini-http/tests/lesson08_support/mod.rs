//! What the lesson 8 tests share: starting the server, speaking raw HTTP
//! over a `TcpStream`, and reading responses the way any client must —
//! head up to the blank line, then a body framed by Content-Length or
//! chunked encoding, or ended by the server closing.
//!
//! Nothing here knows how mini-http is written; `IMPL_MINI_HTTP` runs the
//! same tests against another implementation.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

pub use blackbox::Conn;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use blackbox::{program, Program, Server};

pub fn mini_http() -> Program {
    program!("mini-http")
}

/// `mini-http serve --bind 127.0.0.1:0 ARGS…`, started and announced.
pub fn serve(args: &[&str]) -> Server {
    let mut all = vec!["serve", "--bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    mini_http().start_server(all)
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "mini-http-test-{}-{}-{tag}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    pub fn arg(&self) -> &str {
        self.0.to_str().expect("temp path is UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn connect(addr: SocketAddr) -> Conn {
    let stream = Conn::connect(addr);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set_read_timeout");
    stream
}

/// One response as read off the wire.
#[derive(Debug)]
pub struct Response {
    /// `HTTP/1.1 200 OK`
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The head exactly as received, for messages.
    pub head: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn show(&self) -> String {
        let mut body = self.text();
        if body.len() > 600 {
            body.truncate(600);
            body.push('…');
        }
        format!("{}\n{}", self.head.trim_end(), body)
    }
}

/// A connection with a buffer, so pipelined responses can be read one by one.
pub struct Client {
    pub stream: Conn,
    buf: Vec<u8>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            stream: connect(addr),
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.stream
            .write_all(raw)
            .unwrap_or_else(|e| panic!("send {:?}: {e}", String::from_utf8_lossy(raw)));
    }

    /// Shut down the sending side: the server reads EOF after what was sent.
    pub fn shutdown_write(&mut self) {
        self.stream
            .shutdown(std::net::Shutdown::Write)
            .unwrap_or_else(|e| panic!("shutdown(SHUT_WR): {e}"));
    }

    /// Read more bytes; false at EOF (or reset).
    fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(false),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err("nothing came back within 5 s".into())
            }
            Err(e) => Err(format!("recv failed: {e}")),
        }
    }

    /// Read one response, skipping interim 1xx ones unless `keep_interim`.
    /// `head_request`: the response has no body whatever it says.
    pub fn try_response(&mut self, head_request: bool) -> Result<Response, String> {
        loop {
            let response = self.read_one(head_request)?;
            if (100..200).contains(&response.status) {
                continue;
            }
            return Ok(response);
        }
    }

    pub fn interim_or_final(&mut self) -> Result<Response, String> {
        self.read_one(false)
    }

    fn read_one(&mut self, head_request: bool) -> Result<Response, String> {
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if !self.fill()? {
                return Err(if self.buf.is_empty() {
                    "the server closed the connection without a response".into()
                } else {
                    format!(
                        "the connection closed after a partial response head: {:?}",
                        String::from_utf8_lossy(&self.buf)
                    )
                });
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("").to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut response = Response {
            status_line,
            status,
            headers,
            body: Vec::new(),
            head,
        };
        if head_request || status < 200 || status == 204 || status == 304 {
            return Ok(response);
        }
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            response.body = self.read_chunked()?;
        } else if let Some(len) = response.header("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| format!("bad Content-Length {len:?}"))?;
            while self.buf.len() < len {
                if !self.fill()? {
                    return Err(format!(
                        "connection closed with the body {} of {len} bytes",
                        self.buf.len()
                    ));
                }
            }
            response.body = self.buf.drain(..len).collect();
        } else {
            while self.fill()? {}
            response.body = std::mem::take(&mut self.buf);
        }
        Ok(response)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                if !self.fill()? {
                    return Err("closed inside a chunked body".into());
                }
            };
            let line = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {line:?}"))?;
            self.buf.drain(..line_end + 2);
            if size == 0 {
                // Trailer fields, then the blank line.
                loop {
                    if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        self.buf.drain(..p + 2);
                        if p == 0 {
                            return Ok(body);
                        }
                    } else if !self.fill()? {
                        return Err("closed inside a chunked trailer".into());
                    }
                }
            }
            while self.buf.len() < size + 2 {
                if !self.fill()? {
                    return Err("closed inside a chunk".into());
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }

    /// Read one response or fail the test, saying what was sent.
    pub fn response(&mut self, sent: &str) -> Response {
        self.try_response(sent.starts_with("HEAD "))
            .unwrap_or_else(|e| panic!("sent {sent:?}; expected a response; {e}"))
    }

    /// Does the server close the connection (EOF or reset) within 3 s,
    /// with nothing more to say?
    pub fn closes(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(3);
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(200)));
        loop {
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    return Err(format!(
                        "more bytes came instead of a close: {:?}",
                        String::from_utf8_lossy(&chunk[..n])
                    ))
                }
                Err(e)
                    if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) =>
                {
                    return Ok(())
                }
                Err(_) if Instant::now() < deadline => {}
                Err(_) => return Err("the connection is still open after 3 s".into()),
            }
        }
    }
}

/// Send one raw request on a new connection and read one response.
pub fn exchange(addr: SocketAddr, raw: &str) -> Response {
    let mut client = Client::new(addr);
    client.send(raw.as_bytes());
    client.response(raw)
}

/// `GET PATH HTTP/1.1` with a Host header and Connection: close.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// Assert the status, showing the request and the whole response otherwise.
pub fn expect_status(response: &Response, status: u16, sent: &str, hint: &str) {
    assert_eq!(
        response.status,
        status,
        "sent {sent:?}; expected status {status}, got:\n{}\nhint: {hint}",
        response.show()
    );
}

/// Assert the status and a text the body must contain, showing the request
/// and the whole response otherwise.
pub fn expect_answer(response: &Response, status: u16, text: &str, sent: &str, hint: &str) {
    expect_status(response, status, sent, hint);
    assert!(
        response.text().contains(text),
        "sent {sent:?}; expected `{text}` in the body, got:\n{}\nhint: {hint}",
        response.show()
    );
}
