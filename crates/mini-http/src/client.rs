//! The client side of the notes' flow (网站访问流程, step 1: 客户端发起http请求):
//! open a TCP connection, write a request, read the response.
//!
//! `mini-http get -v URL` shows the exact request bytes it sent (`> ` lines)
//! and the response head it received (`< ` lines), then the body. The body
//! can end three ways, and the client follows whichever the response uses:
//! `Content-Length: N`, `Transfer-Encoding: chunked`, or — neither — the
//! server closing the connection.
//!
//! Several URLs on one server are fetched over ONE connection (HTTP/1.1
//! keep-alive): `mini-http get -v http://127.0.0.1:8000/ http://127.0.0.1:8000/echo`
//! — the server's access log shows the same client port twice.
//!
//! Run it against the server: `cargo run -p mini-http -- serve` in one
//! terminal, `cargo run -p mini-http -- get -v http://127.0.0.1:8000/` in another.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

use crate::request::ChunkedDecoder;

/// What to send.
pub struct ClientRequest {
    pub method: String,
    pub urls: Vec<String>,
    pub data: Option<Vec<u8>>,
    pub headers: Vec<String>,
    pub verbose: bool,
    pub timeout: Duration,
    pub http10: bool,
}

/// A parsed `http://host:port/path?query` URL.
#[derive(Debug, PartialEq, Eq)]
pub struct Url {
    /// As written, for the Host header: `127.0.0.1:8000`, `[::1]:8000`.
    pub authority: String,
    pub host: String,
    pub port: u16,
    /// Path and query: `/echo?a=1`.
    pub target: String,
}

pub fn parse_url(text: &str) -> anyhow::Result<Url> {
    let bad = |why: &str| anyhow!("bad URL {text:?}: {why}");
    let Some(rest) = text.strip_prefix("http://") else {
        if text.starts_with("https://") {
            return Err(bad(
                "https needs TLS, which mini-http does not speak; use http://",
            ));
        }
        return Err(bad("expected http://HOST[:PORT]/PATH"));
    };
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let target = if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_string()
    };
    let target = target.split('#').next().unwrap_or("/").to_string();
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad("spaces and control characters must be %-encoded"));
    }
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("expected a host such as 127.0.0.1:8000"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in the host"))?;
        let port = match after.strip_prefix(':') {
            Some(port) => port,
            None if after.is_empty() => "80",
            None => return Err(bad("junk after ]")),
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), port),
            None => (authority.to_string(), "80"),
        }
    };
    let port: u16 = port.parse().map_err(|_| bad("port must be 0-65535"))?;
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    Ok(Url {
        authority: authority.to_string(),
        host,
        port,
        target,
    })
}

fn resolve(url: &Url) -> anyhow::Result<SocketAddr> {
    let host = if url.host.eq_ignore_ascii_case("localhost") {
        "127.0.0.1"
    } else {
        url.host.as_str()
    };
    (host, url.port)
        .to_socket_addrs()
        .with_context(|| format!("resolve {}", url.authority))?
        .next()
        .ok_or_else(|| anyhow!("resolve {}: no address", url.authority))
}

/// The request head and body bytes for one URL.
fn build_request(req: &ClientRequest, url: &Url, last: bool) -> Vec<u8> {
    let version = if req.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), url.authority.clone()),
        (
            "User-Agent".into(),
            concat!("mini-http/", env!("CARGO_PKG_VERSION")).into(),
        ),
        ("Accept".into(), "*/*".into()),
    ];
    if let Some(data) = &req.data {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        headers.push(("Content-Length".into(), data.len().to_string()));
    } else if matches!(req.method.as_str(), "POST" | "PUT") {
        headers.push(("Content-Length".into(), "0".into()));
    }
    if last && !req.http10 {
        headers.push(("Connection".into(), "close".into()));
    } else if !last && req.http10 {
        headers.push(("Connection".into(), "keep-alive".into()));
    }
    // -H 'Name: value' replaces a default of that name; -H 'Name:' removes it.
    for line in &req.headers {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let (name, value) = (name.trim(), value.trim());
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if !value.is_empty() {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    let mut bytes = format!("{} {} {version}\r\n", req.method, url.target).into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    if let Some(data) = &req.data {
        bytes.extend_from_slice(data);
    }
    bytes
}

/// Show bytes line by line with a prefix: `> GET / HTTP/1.1`.
fn show_lines(out: &mut impl Write, prefix: &str, bytes: &[u8]) -> io::Result<()> {
    let text = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            writeln!(out, "{}", prefix.trim_end())?;
        } else {
            writeln!(out, "{prefix}{}", common::show_bytes(line))?;
        }
    }
    Ok(())
}

/// A connection with the bytes read past the current response.
struct Conn {
    /// With --trace, its reads and writes are logged as recvs and sends.
    stream: common::trace::Traced,
    addr: SocketAddr,
    buffered: Vec<u8>,
}

impl Conn {
    /// Read more bytes; Ok(false) at end of stream.
    fn fill(&mut self) -> anyhow::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self
            .stream
            .read(&mut chunk)
            .with_context(|| format!("recv {}", self.addr))?;
        self.buffered.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }
}

/// Fetch every URL in order and print the bodies; exit status 0 once every
/// response has arrived, whatever its status code (as curl does).
pub fn run(req: &ClientRequest) -> anyhow::Result<()> {
    let urls = req
        .urls
        .iter()
        .map(|u| parse_url(u))
        .collect::<anyhow::Result<Vec<Url>>>()?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut conn: Option<(Conn, String)> = None;
    for (i, url) in urls.iter().enumerate() {
        let last = urls
            .get(i + 1)
            .map_or(true, |next| next.authority != url.authority);
        let reuse = matches!(&conn, Some((_, authority)) if *authority == url.authority);
        if !reuse {
            let addr = resolve(url)?;
            let stream = TcpStream::connect_timeout(&addr, req.timeout)
                .with_context(|| format!("connect {addr}"))?;
            let _ = stream.set_nodelay(true);
            stream
                .set_read_timeout(Some(req.timeout))
                .with_context(|| format!("setsockopt SO_RCVTIMEO {addr}"))?;
            if req.verbose {
                writeln!(out, "* connected to {addr} from {}", local(&stream))?;
            }
            conn = Some((
                Conn {
                    stream: common::trace::Traced::connected(stream),
                    addr,
                    buffered: Vec::new(),
                },
                url.authority.clone(),
            ));
        } else if req.verbose {
            writeln!(out, "* reusing the connection (keep-alive)")?;
        }
        let Some((c, _)) = conn.as_mut() else {
            bail!("internal: no connection");
        };
        let bytes = build_request(req, url, last);
        if req.verbose {
            let head_len = bytes.len() - req.data.as_ref().map_or(0, Vec::len);
            show_lines(&mut out, "> ", &bytes[..head_len])?;
            if head_len < bytes.len() {
                show_lines(&mut out, "> ", &bytes[head_len..])?;
            }
            out.flush()?;
        }
        c.stream
            .write_all(&bytes)
            .with_context(|| format!("send {}", c.addr))?;
        let keep = read_response(c, req, &mut out)?;
        if !keep || last {
            conn = None;
        }
    }
    out.flush()?;
    Ok(())
}

fn local(stream: &TcpStream) -> String {
    stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Read one response (skipping 1xx interim ones), print it, and say whether
/// the connection may be used again.
fn read_response(c: &mut Conn, req: &ClientRequest, out: &mut impl Write) -> anyhow::Result<bool> {
    loop {
        let ResponseHead {
            status,
            len: head_len,
            headers,
        } = read_head(c)?;
        if req.verbose {
            show_lines(out, "< ", &c.buffered[..head_len])?;
            out.flush()?;
        }
        c.buffered.drain(..head_len);
        if (100..200).contains(&status) && status != 101 {
            continue; // 100 Continue: the real response follows
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let closes = header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
        let no_body = req.method == "HEAD" || status == 204 || status == 304;
        if no_body {
            return Ok(!closes);
        }
        let chunked = header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().trim_end().ends_with("chunked"));
        if chunked {
            copy_chunked_body(c, out)?;
            return Ok(!closes);
        }
        if let Some(length) = header("content-length") {
            let length: u64 = length
                .parse()
                .map_err(|_| anyhow!("recv {}: bad Content-Length {length:?}", c.addr))?;
            copy_body(c, out, length)?;
            return Ok(!closes);
        }
        // Neither: the body is everything until the server closes.
        loop {
            out.write_all(&c.buffered)?;
            c.buffered.clear();
            if !c.fill()? {
                return Ok(false);
            }
        }
    }
}

/// A response head as [`read_head`] found it at the start of the buffer.
struct ResponseHead {
    status: u16,
    /// Its bytes, up to and including the empty line.
    len: usize,
    /// Its fields, names in lower case.
    headers: Vec<(String, String)>,
}

/// Receive until a whole response head is buffered.
fn read_head(c: &mut Conn) -> anyhow::Result<ResponseHead> {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; 128];
        let mut response = httparse::Response::new(&mut fields);
        match response.parse(&c.buffered) {
            Ok(httparse::Status::Complete(len)) => {
                let headers: Vec<(String, String)> = response
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).trim().to_string(),
                        )
                    })
                    .collect();
                return Ok(ResponseHead {
                    status: response.code.unwrap_or(0),
                    len,
                    headers,
                });
            }
            Ok(httparse::Status::Partial) => {
                if c.buffered.len() > 64 * 1024 {
                    bail!("recv {}: response head larger than 64 KiB", c.addr);
                }
                if !c.fill()? {
                    if c.buffered.is_empty() {
                        bail!(
                            "recv {}: the server closed the connection without a response",
                            c.addr
                        );
                    }
                    bail!("recv {}: the server closed the connection in the middle of the response head", c.addr);
                }
            }
            Err(err) => bail!("recv {}: malformed response: {err}", c.addr),
        }
    }
}

/// Copy a `Transfer-Encoding: chunked` body to `out`, decoded.
fn copy_chunked_body(c: &mut Conn, out: &mut impl Write) -> anyhow::Result<()> {
    let mut decoder = ChunkedDecoder::new(64 * 1024);
    let mut body = Vec::new();
    loop {
        let fed = decoder
            .feed(&c.buffered, &mut body, u64::MAX)
            .map_err(|e| anyhow!("recv {}: {}", c.addr, e.reason))?;
        c.buffered.drain(..fed.consumed);
        out.write_all(&body)?;
        body.clear();
        if fed.done {
            return Ok(());
        }
        if !c.fill()? {
            bail!(
                "recv {}: connection closed in the middle of a chunked body",
                c.addr
            );
        }
    }
}

/// Copy a body of Content-Length bytes to `out`.
fn copy_body(c: &mut Conn, out: &mut impl Write, mut left: u64) -> anyhow::Result<()> {
    loop {
        let take = left.min(c.buffered.len() as u64) as usize;
        out.write_all(&c.buffered[..take])?;
        c.buffered.drain(..take);
        left -= take as u64;
        if left == 0 {
            return Ok(());
        }
        if !c.fill()? {
            bail!(
                "recv {}: connection closed with {left} bytes of the body still to come",
                c.addr
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_host_port_and_target() {
        let url = parse_url("http://127.0.0.1:8000/echo?a=1").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.target.as_str()),
            ("127.0.0.1", 8000, "/echo?a=1")
        );
        let url = parse_url("http://[::1]:9/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 9));
        let url = parse_url("http://localhost?x").unwrap();
        assert_eq!(
            (url.port, url.target.as_str(), url.authority.as_str()),
            (80, "/?x", "localhost")
        );
    }

    #[test]
    fn bad_urls_say_why() {
        for bad in [
            "ftp://x/",
            "https://127.0.0.1/",
            "http://",
            "http://h:99999/",
            "127.0.0.1:80",
            "http://h/a b",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
