//! Reading an HTTP/1.1 request off a byte stream: the request line, the
//! headers, the blank line, and where the body ends (notes, section 8.1.3:
//! 请求行 / 请求头 / 空行 / 请求正文).
//!
//! TCP has no message boundaries (lesson 2), so everything here is a pure
//! function over a buffer that answers "need more bytes" until a whole head
//! has arrived — the web server ([`crate::server`]) calls it again after each
//! `recv`. httparse does the tokenising; this module adds the rules of
//! RFC 9112 that keep two programs from disagreeing about where one request
//! ends and the next begins (request smuggling): every such doubt is a
//! `400 Bad Request` and the connection is closed, never a guess.

use std::fmt;
use std::mem::MaybeUninit;

/// How much a client may send; set from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest request line, CRLF excluded (longer: 414 URI Too Long).
    pub max_request_line: usize,
    /// Largest header section after the request line (larger: 431).
    pub max_header_bytes: usize,
    /// Most header fields (more: 431).
    pub max_headers: usize,
    /// Largest request body (larger: 413 Content Too Large).
    pub max_body: u64,
}

/// Hard ceiling on header fields, whatever `--max-headers` says: httparse
/// parses into a fixed array.
pub const HEADER_ARRAY: usize = 256;

/// Where the body of a request ends (RFC 9112, section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No Content-Length, no Transfer-Encoding: no body at all.
    None,
    /// `Content-Length: N`: exactly N bytes follow the blank line.
    Length(u64),
    /// `Transfer-Encoding: chunked`: size-prefixed chunks, then a 0 chunk.
    Chunked,
}

/// A parsed request head: what the web server hands to the application,
/// together with the body once it has arrived.
#[derive(Clone, Debug)]
pub struct Head {
    pub method: String,
    /// The request target as sent (`/echo?a=1`, `http://host/x`, `*`).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Header fields in the order they came; names keep their case.
    pub headers: Vec<(String, Vec<u8>)>,
    pub framing: Framing,
    /// Will the connection stay open after the response? HTTP/1.1: yes
    /// unless `Connection: close`; HTTP/1.0: only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a go-ahead before the body.
    pub expect_continue: bool,
}

impl Head {
    /// The first value of header `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// `GET /index.html HTTP/1.1`, as the access log shows it.
    pub fn request_line(&self) -> String {
        format!("{} {} HTTP/1.{}", self.method, self.target, self.minor)
    }
}

/// Why a request cannot be served. The web server answers with `status` and
/// closes the connection: after a framing error nobody knows where the next
/// request would start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub reason: String,
}

impl Reject {
    fn new(status: u16, reason: impl Into<String>) -> Reject {
        Reject {
            status,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.status)
    }
}

/// Parse a request head from the start of `buf`.
///
/// `Ok(None)`: not all of it has arrived yet — read more and call again.
/// `Ok(Some((head, n)))`: the head took the first `n` bytes; the body (if
/// any) starts at `buf[n]`. `Err`: answer with that status and close.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, Reject> {
    // Limits first, before httparse looks at anything: a client must not
    // make us buffer an endless request line or header section.
    let line_end = buf.iter().position(|&b| b == b'\n');
    let line_len = line_end.unwrap_or(buf.len());
    let line = &buf[..line_len];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > limits.max_request_line {
        return Err(Reject::new(
            414,
            format!("request line longer than {} bytes", limits.max_request_line),
        ));
    }
    if let Some(end) = line_end {
        if check_version(line)? == Version::LaterOne {
            // `HTTP/1.2`: same major version, so RFC 9110 (section 2.5)
            // says to answer as the highest 1.x we speak. httparse only
            // knows 1.0 and 1.1: parse a copy whose version reads 1.1.
            let mut copy = buf.to_vec();
            copy[line.len() - 1] = b'1';
            return parse_head(&copy, limits);
        }
        check_header_size(&buf[end + 1..], limits)?;
    }

    // region: httparse-head
    // Slots httparse fills in; left uninitialised, since writing 256 empty
    // fields cost more than parsing a typical head.
    let mut fields = [const { MaybeUninit::<httparse::Header>::uninit() }; HEADER_ARRAY];
    let mut request = httparse::Request::new(&mut []);
    let len = match request.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Partial) => return Ok(None),
        Ok(httparse::Status::Complete(len)) => len,
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Reject::new(
                431,
                format!("more than {} header fields", limits.max_headers),
            ))
        }
        Err(err) => return Err(Reject::new(400, format!("malformed request: {err}"))),
    };
    // endregion: httparse-head
    if request.headers.len() > limits.max_headers {
        return Err(Reject::new(
            431,
            format!("more than {} header fields", limits.max_headers),
        ));
    }
    check_head_bytes(&buf[..len])?;
    Ok(Some((head_of(&request, limits)?, len)))
}

/// 431 when the header section (what follows the request line) is longer
/// than --max-header-bytes, whether or not its end has arrived.
fn check_header_size(headers: &[u8], limits: &Limits) -> Result<(), Reject> {
    let too_large = match find_head_end(headers) {
        Some(len) => len > limits.max_header_bytes,
        None => headers.len() > limits.max_header_bytes,
    };
    if too_large {
        return Err(Reject::new(
            431,
            format!(
                "header section larger than {} bytes",
                limits.max_header_bytes
            ),
        ));
    }
    Ok(())
}

/// httparse tolerates some bytes RFC 9112 says to reject: a NUL anywhere,
/// or a CR that does not start a CRLF (some programs treat a bare CR as a
/// line end, others do not — a smuggling vector).
fn check_head_bytes(head: &[u8]) -> Result<(), Reject> {
    for (i, &b) in head.iter().enumerate() {
        if b == 0 {
            return Err(Reject::new(400, "NUL byte in the request head"));
        }
        if b == b'\r' && head.get(i + 1) != Some(&b'\n') {
            return Err(Reject::new(400, "bare CR in the request head"));
        }
    }
    Ok(())
}

/// The [`Head`] of a request httparse has read: its target, Host, framing
/// and connection checked.
fn head_of(request: &httparse::Request<'_, '_>, limits: &Limits) -> Result<Head, Reject> {
    let method = request.method.unwrap_or("").to_string();
    let target = request.path.unwrap_or("").to_string();
    let minor = request.version.unwrap_or(1);
    let headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect();
    check_target(&method, &target)?;
    check_host(&headers, minor)?;
    let framing = framing(&headers, minor, limits)?;
    // Connection is a comma-separated list of tokens. `close` wins over
    // anything else ("keep-alive, close" closes); HTTP/1.0 stays open only
    // when it asks for `keep-alive`.
    let tokens: Vec<String> = values(&headers, "connection")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let keep_alive = !tokens.iter().any(|t| t == "close")
        && (minor == 1 || tokens.iter().any(|t| t == "keep-alive"));
    let expect_continue = minor == 1
        && values(&headers, "expect").any(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    Ok(Head {
        method,
        target,
        minor,
        headers,
        framing,
        keep_alive,
        expect_continue,
    })
}

/// Host: exactly one in HTTP/1.1 (RFC 9112, section 3.2); never two.
fn check_host(headers: &[(String, Vec<u8>)], minor: u8) -> Result<(), Reject> {
    let hosts = count(headers, "host");
    if hosts > 1 {
        return Err(Reject::new(400, "more than one Host header"));
    }
    if hosts == 0 && minor == 1 {
        return Err(Reject::new(400, "HTTP/1.1 request without a Host header"));
    }
    if let Some(host) = values(headers, "host").next() {
        if !valid_host(host) {
            return Err(Reject::new(
                400,
                format!("Host {host:?} is not HOST[:PORT] (RFC 9112, section 3.2)"),
            ));
        }
    }
    Ok(())
}

/// Length of a header section that ends with an empty line, if it does.
fn find_head_end(headers: &[u8]) -> Option<usize> {
    if headers.starts_with(b"\r\n") {
        return Some(2);
    }
    if headers.starts_with(b"\n") {
        return Some(1);
    }
    let crlf = headers
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let lf = headers.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What the version at the end of a request line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Version {
    /// HTTP/1.0, HTTP/1.1, or something httparse will judge.
    Known,
    /// HTTP/1.2 … HTTP/1.9: a later minor version of the one we speak.
    LaterOne,
}

/// `HTTP/2.0` or `HTTP/3` on an HTTP/1 connection: 505, not 400 — the
/// request is well formed, we just do not speak that version. `HTTP/1.2`
/// is served as 1.1: a minor version promises to be understood by a
/// recipient of an earlier one (RFC 9110, section 2.5).
fn check_version(line: &[u8]) -> Result<Version, Reject> {
    let Some(version) = line.rsplit(|&b| b == b' ').next() else {
        return Ok(Version::Known);
    };
    if let Some(rest) = version.strip_prefix(b"HTTP/") {
        if let Some(&major) = rest.first() {
            let tail_ok = rest[1..].is_empty()
                || (rest.len() == 3 && rest[1] == b'.' && rest[2].is_ascii_digit());
            if major.is_ascii_digit() && major != b'1' && tail_ok {
                return Err(Reject::new(
                    505,
                    format!(
                        "HTTP/{} is not supported: only HTTP/1.0 and HTTP/1.1",
                        String::from_utf8_lossy(rest)
                    ),
                ));
            }
            if major == b'1' && tail_ok && rest.len() == 3 && rest[2] > b'1' {
                return Ok(Version::LaterOne);
            }
        }
    }
    Ok(Version::Known)
}

/// The four forms of request target (RFC 9112, section 3.2).
fn check_target(method: &str, target: &str) -> Result<(), Reject> {
    if target.starts_with('/') {
        return Ok(()); // origin-form: /path?query
    }
    if target == "*" {
        return if method == "OPTIONS" {
            Ok(()) // asterisk-form: the server as a whole
        } else {
            Err(Reject::new(400, "target * is only for OPTIONS"))
        };
    }
    if method == "CONNECT" {
        return Ok(()); // authority-form: host:port (answered with 405)
    }
    if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        if !rest.is_empty() && !rest.starts_with('/') {
            return Ok(()); // absolute-form: what a client sends to a proxy
        }
    }
    Err(Reject::new(
        400,
        format!("request target {target:?} is neither /path nor http://host/path"),
    ))
}

/// `Host: uri-host [ ":" port ]` (RFC 9112, section 3.2; RFC 3986,
/// section 3.2.2): a name or IPv4 address, or an IPv6 address in brackets,
/// then optional digits. No path (`h/x`), no user (`u@h`), no list
/// (`a, b`), and not empty: an `http` URI must have a host (RFC 9110,
/// section 4.2.1), so an empty one cannot name what the client wants.
pub fn valid_host(value: &str) -> bool {
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let Some((literal, after)) = rest.split_once(']') else {
            return false;
        };
        let literal_ok = !literal.is_empty()
            && literal
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !literal_ok {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => ("x", port),
            None if after.is_empty() => ("x", ""),
            None => return false,
        }
    } else {
        value.split_once(':').unwrap_or((value, ""))
    };
    // reg-name: unreserved / pct-encoded / sub-delims (an IPv4 address is one).
    let name_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b));
    name_ok && port.bytes().all(|b| b.is_ascii_digit()) && port.len() <= 5
}

fn count(headers: &[(String, Vec<u8>)], name: &str) -> usize {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .count()
}

fn values<'a>(headers: &'a [(String, Vec<u8>)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| std::str::from_utf8(v).unwrap_or("\u{fffd}"))
}

/// Decide where the body ends — the question request smuggling is about.
fn framing(headers: &[(String, Vec<u8>)], minor: u8, limits: &Limits) -> Result<Framing, Reject> {
    let has_te = count(headers, "transfer-encoding") > 0;
    let has_cl = count(headers, "content-length") > 0;
    if has_te {
        if has_cl {
            return Err(Reject::new(
                400,
                "both Content-Length and Transfer-Encoding: which one ends the body?",
            ));
        }
        if minor == 0 {
            return Err(Reject::new(400, "Transfer-Encoding in an HTTP/1.0 request"));
        }
        let codings: Vec<String> = values(headers, "transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        if codings.last().map(String::as_str) != Some("chunked") {
            return Err(Reject::new(
                400,
                "Transfer-Encoding does not end with chunked: the body has no end",
            ));
        }
        if codings.len() > 1 {
            return Err(Reject::new(
                501,
                format!("transfer coding {:?} is not supported", codings.join(", ")),
            ));
        }
        return Ok(Framing::Chunked);
    }
    if has_cl {
        let mut length: Option<u64> = None;
        for value in values(headers, "content-length") {
            for part in value.split(',') {
                let part = part.trim();
                let valid = !part.is_empty()
                    && part.len() <= 19
                    && part.bytes().all(|b| b.is_ascii_digit());
                let n = match part.parse::<u64>() {
                    Ok(n) if valid => n,
                    _ => return Err(Reject::new(400, format!("invalid Content-Length {part:?}"))),
                };
                match length {
                    Some(seen) if seen != n => {
                        return Err(Reject::new(400, "conflicting Content-Length values"))
                    }
                    _ => length = Some(n),
                }
            }
        }
        let n = length.unwrap_or(0);
        if n > limits.max_body {
            return Err(Reject::new(
                413,
                format!("body of {n} bytes is larger than {} bytes", limits.max_body),
            ));
        }
        return Ok(if n == 0 {
            Framing::None
        } else {
            Framing::Length(n)
        });
    }
    Ok(Framing::None)
}

/// Decoder for `Transfer-Encoding: chunked` bodies (RFC 9112, section 7.1):
///
/// ```text
/// 5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n[trailer fields]\r\n
/// ```
///
/// It is fed the bytes as they arrive and keeps its place between calls, so a
/// chunk cut anywhere by TCP decodes the same. Strict on purpose: a size that
/// is not hex, too long, or not followed by a line end is an error, because a
/// lenient decoder in front of a strict one is how smuggling starts.
///
/// Line ends follow the same rule as the request head, everywhere in the
/// body: CRLF, or a bare LF (which the head parser accepts too, RFC 9112
/// section 2.2); a CR not followed by LF is a 400. A trailer field is
/// checked like a header field (a token name, a colon, no control bytes, no
/// folded continuation line), so a request that follows a body can never be
/// swallowed as "trailer": it is either the next request or a 400.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: ChunkState,
    size: u64,
    digits: usize,
    total: u64,
    /// The trailer line being read, and the trailer's size so far.
    line: Vec<u8>,
    trailer_bytes: usize,
    max_trailer: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> ChunkedDecoder {
        ChunkedDecoder::new(16 * 1024)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    SizeSpace,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerLine,
    TrailerLf,
    Done,
}

/// What a call to [`ChunkedDecoder::feed`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Fed {
    /// Input bytes used (the rest belongs to the next request).
    pub consumed: usize,
    /// The last chunk and the trailer have arrived.
    pub done: bool,
}

impl ChunkedDecoder {
    /// `max_trailer`: the largest trailer section (431 past it); the server
    /// passes `--max-header-bytes`.
    pub fn new(max_trailer: usize) -> ChunkedDecoder {
        ChunkedDecoder {
            state: ChunkState::Size,
            size: 0,
            digits: 0,
            total: 0,
            line: Vec::new(),
            trailer_bytes: 0,
            max_trailer,
        }
    }

    /// A size line is over: start the chunk's data, or the trailer.
    fn size_line_done(&mut self, max_body: u64) -> Result<(), Reject> {
        self.total += self.size;
        if self.total > max_body {
            return Err(Reject::new(
                413,
                format!("chunked body larger than {max_body} bytes"),
            ));
        }
        self.state = if self.size == 0 {
            ChunkState::TrailerLine
        } else {
            ChunkState::Data
        };
        Ok(())
    }

    /// A trailer line is over. An empty one ends the body; any other must be
    /// a well-formed field line.
    fn trailer_line_done(&mut self) -> Result<(), Reject> {
        if self.line.is_empty() {
            self.state = ChunkState::Done;
            return Ok(());
        }
        let bad = |what: &str| Err(Reject::new(400, format!("bad chunked trailer: {what}")));
        if matches!(self.line[0], b' ' | b'\t') {
            return bad("a folded line (obs-fold)");
        }
        let Some(colon) = self.line.iter().position(|&b| b == b':') else {
            return bad("a line that is not Name: value");
        };
        if colon == 0 || !self.line[..colon].iter().all(|&b| is_token(b)) {
            return bad("a field name that is not a token");
        }
        if self.line[colon + 1..]
            .iter()
            .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            return bad("a control byte in a field value");
        }
        self.line.clear();
        self.state = ChunkState::TrailerLine;
        Ok(())
    }

    /// A byte of a chunk-size line's number.
    fn size_byte(&mut self, b: u8, max_body: u64) -> Result<(), Reject> {
        let bad = |what: &str| Err(Reject::new(400, format!("bad chunked body: {what}")));
        if let Some(d) = (b as char).to_digit(16) {
            self.digits += 1;
            if self.digits > 15 {
                return bad("chunk size has too many digits");
            }
            self.size = self.size * 16 + u64::from(d);
        } else if self.digits == 0 {
            return bad("chunk size is not a hexadecimal number");
        } else if b == b'\r' {
            self.state = ChunkState::SizeLf;
        } else if b == b'\n' {
            self.size_line_done(max_body)?;
        } else if b == b';' {
            self.state = ChunkState::Extension;
        } else if b == b' ' || b == b'\t' {
            self.state = ChunkState::SizeSpace;
        } else {
            return bad("chunk size is not a hexadecimal number");
        }
        Ok(())
    }

    /// A byte of a trailer field line (or of the empty line that ends them).
    fn trailer_byte(&mut self, b: u8) -> Result<(), Reject> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > self.max_trailer {
            return Err(Reject::new(
                431,
                format!("chunked trailer larger than {} bytes", self.max_trailer),
            ));
        }
        match b {
            b'\r' => self.state = ChunkState::TrailerLf,
            b'\n' => self.trailer_line_done()?,
            0 => return Err(Reject::new(400, "bad chunked body: NUL in a trailer field")),
            _ => self.line.push(b),
        }
        Ok(())
    }

    /// Decode as much of `input` as possible, appending body bytes to `body`.
    /// `max_body` bounds the decoded size (413 past it).
    pub fn feed(&mut self, input: &[u8], body: &mut Vec<u8>, max_body: u64) -> Result<Fed, Reject> {
        use ChunkState::*;
        let bad = |what: &str| Err(Reject::new(400, format!("bad chunked body: {what}")));
        let mut i = 0;
        while i < input.len() && self.state != Done {
            let b = input[i];
            match self.state {
                Size => self.size_byte(b, max_body)?,
                SizeSpace => match b {
                    b' ' | b'\t' => {}
                    b';' => self.state = Extension,
                    _ => return bad("space after the chunk size not followed by ;"),
                },
                Extension => match b {
                    b'\r' => self.state = SizeLf,
                    b'\n' => self.size_line_done(max_body)?,
                    b'\t' => {}
                    0..=31 | 127 => return bad("control character in a chunk extension"),
                    _ => {}
                },
                SizeLf => {
                    if b != b'\n' {
                        return bad("CR not followed by LF after the chunk size");
                    }
                    self.size_line_done(max_body)?;
                }
                Data => {
                    let take = (self.size as usize).min(input.len() - i);
                    body.extend_from_slice(&input[i..i + take]);
                    self.size -= take as u64;
                    i += take;
                    if self.size == 0 {
                        self.state = DataCr;
                    }
                    continue;
                }
                DataCr => match b {
                    b'\r' => self.state = DataLf,
                    b'\n' => self.next_chunk(),
                    _ => return bad("chunk data longer than its size"),
                },
                DataLf => {
                    if b != b'\n' {
                        return bad("CR not followed by LF after chunk data");
                    }
                    self.next_chunk();
                }
                TrailerLine => self.trailer_byte(b)?,
                TrailerLf => {
                    if b != b'\n' {
                        return bad("CR not followed by LF in the trailer");
                    }
                    self.trailer_line_done()?;
                }
                Done => {}
            }
            i += 1;
        }
        Ok(Fed {
            consumed: i,
            done: self.state == Done,
        })
    }

    fn next_chunk(&mut self) {
        self.state = ChunkState::Size;
        self.size = 0;
        self.digits = 0;
    }
}

/// tchar (RFC 9110, section 5.6.2): what a field name is made of.
pub fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_request_line: 100,
        max_header_bytes: 200,
        max_headers: 5,
        max_body: 1000,
    };

    fn parse(raw: &str) -> Result<Option<(Head, usize)>, Reject> {
        parse_head(raw.as_bytes(), &LIMITS)
    }

    fn status(raw: &str) -> u16 {
        match parse(raw) {
            Err(reject) => reject.status,
            Ok(Some(_)) => 200,
            Ok(None) => 0,
        }
    }

    #[test]
    fn complete_head_reports_its_length_and_framing() {
        let raw = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET";
        let (head, len) = parse(raw).unwrap().unwrap();
        assert_eq!(&raw[len..], "abcGET");
        assert_eq!(head.method, "POST");
        assert_eq!(head.framing, Framing::Length(3));
        assert!(head.keep_alive);
    }

    #[test]
    fn partial_head_needs_more_bytes() {
        assert_eq!(status("GET / HTTP/1.1\r\nHost: x\r\n"), 0);
        assert_eq!(status("GET / HT"), 0);
    }

    #[test]
    fn smuggling_shapes_are_400() {
        for raw in [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET x HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert_eq!(status(raw), 400, "{raw:?}");
        }
    }

    #[test]
    fn same_content_length_twice_is_one_length() {
        let raw = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(parse(raw).unwrap().unwrap().0.framing, Framing::Length(3));
    }

    #[test]
    fn limits_have_their_own_status_codes() {
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(200));
        assert_eq!(status(&long), 414);
        let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n", "a".repeat(300));
        assert_eq!(status(&big), 431);
        let many = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n";
        assert_eq!(status(many), 431);
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"),
            413
        );
        assert_eq!(status("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
        assert_eq!(status("GET / HTTP/3\r\n"), 505);
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            501
        );
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        let head = |raw: &str| parse(raw).unwrap().unwrap().0;
        assert!(head("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    }

    fn decode_in_pieces(raw: &[u8], piece: usize) -> Result<(Vec<u8>, usize), Reject> {
        let mut decoder = ChunkedDecoder::new(100);
        let mut body = Vec::new();
        let mut used = 0;
        for part in raw.chunks(piece) {
            let fed = decoder.feed(part, &mut body, 1000)?;
            used += fed.consumed;
            if fed.done {
                return Ok((body, used));
            }
        }
        Err(Reject::new(0, "incomplete"))
    }

    #[test]
    fn chunked_body_decodes_the_same_whatever_the_cuts() {
        let raw = b"5\r\nhello\r\n6;name=v\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        for piece in [1, 2, 3, 7, raw.len()] {
            let (body, used) = decode_in_pieces(raw, piece).unwrap();
            assert_eq!(body, b"hello world");
            assert_eq!(&raw[used..], b"NEXT");
        }
    }

    #[test]
    fn bad_chunk_sizes_are_rejected() {
        for raw in [
            &b"x\r\n"[..],
            b"-1\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"5\rhello\r\n0\r\n\r\n",
            b"5\r\nhello\r\n0\r\nX: 1\r\n folded\r\n\r\n",
            b"5\r\nhello\r\n0\r\nGET / HTTP/1.1\r\n\r\n",
            b"5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n",
            b"3\r\nhello\r\n0\r\n\r\n",
            b"ffffffffffffffffff\r\n",
            b"5 x\r\n",
        ] {
            let result = decode_in_pieces(raw, raw.len());
            assert!(
                matches!(&result, Err(r) if r.status == 400),
                "{:?}: {result:?}",
                String::from_utf8_lossy(raw)
            );
        }
        assert_eq!(decode_in_pieces(b"3e9\r\n", 5).unwrap_err().status, 413);
        let long_trailer = format!("0\r\nX: {}\r\n\r\n", "t".repeat(200));
        assert_eq!(
            decode_in_pieces(long_trailer.as_bytes(), 7)
                .unwrap_err()
                .status,
            431
        );
    }

    #[test]
    fn a_bare_lf_ends_a_line_in_the_body_as_in_the_head() {
        // The same body with LF-only line ends, and a bare LF ending the
        // trailer: the next request is left for the next parse.
        let raw = b"5\nhello\n6;x=1\n world\r\n0\nX-T: 1\n\nGET / HTTP/1.1\r\n";
        for piece in [1, 3, raw.len()] {
            let (body, used) = decode_in_pieces(raw, piece).unwrap();
            assert_eq!(body, b"hello world");
            assert_eq!(&raw[used..], b"GET / HTTP/1.1\r\n");
        }
        let (_, used) = decode_in_pieces(b"0\r\n\nNEXT", 1).unwrap();
        assert_eq!(used, 4);
    }
}
