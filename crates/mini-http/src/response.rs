//! What the application hands back to the web server: a status, header
//! fields and a body (notes, section 8.1.4: 响应行 / 响应头 / 空行 / 响应体).
//!
//! The web server ([`crate::server`]) turns it into bytes: the status line
//! `HTTP/1.1 200 OK`, the fields it always adds (Date, Server,
//! Content-Length, Connection), a blank line, and the body — in one buffer,
//! so a small response leaves in one `send` and never waits on Nagle.

use std::borrow::Cow;
use std::fs::File;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A response body.
#[derive(Debug)]
pub enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// A file's contents kept in memory, shared between requests.
    Shared(Arc<[u8]>),
    /// A file too large to keep: sent in pieces as the socket takes them.
    File(File, u64),
}

impl Body {
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::Shared(b) => b.len() as u64,
            Body::File(_, len) => *len,
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Name and value; a value known when the program was built (a
    /// content type, `bytes`) is borrowed rather than copied per request.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    pub body: Body,
    /// Close the connection after this response even if the client wanted
    /// to keep it (used for errors that leave the byte stream in doubt).
    pub close: bool,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
            close: false,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        self.headers
            .push(("Content-Type", Cow::Borrowed(content_type)));
        self.body = Body::Bytes(body.into());
        self
    }

    /// Replace the body (the Content-Type header is the caller's business).
    pub fn with_body(mut self, body: Body) -> Response {
        self.body = body;
        self
    }

    /// A plain-text error page: `404 Not Found: no such file /x`.
    pub fn error(status: u16, detail: &str) -> Response {
        let text = if detail.is_empty() {
            format!("{status} {}\n", reason(status))
        } else {
            format!("{status} {}: {detail}\n", reason(status))
        };
        Response::new(status).body("text/plain; charset=utf-8", text)
    }
}

/// The reason phrase after the status code (RFC 9110, section 15).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Does a response with this status carry a body at all? 1xx, 204 and 304
/// never do (RFC 9110), whatever Content-Length would say.
pub fn status_has_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// Seconds since the Unix epoch as an HTTP date: `Sun, 06 Nov 1994 08:49:37 GMT`
/// (IMF-fixdate, the one form a sender may generate; the httpdate crate).
pub fn http_date(secs: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parse an HTTP date — IMF-fixdate, or the obsolete RFC 850 and asctime
/// forms a recipient must still read (RFC 9110, section 5.6.7) — into
/// seconds since the epoch.
pub fn parse_http_date(text: &str) -> Option<u64> {
    httpdate::parse_http_date(text.trim()).ok().map(unix_secs)
}

/// Whole seconds since the epoch of a file time.
pub fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The `Date` header value, formatted at most once a second: every response
/// carries one, and formatting a date per request is work nginx avoids too.
pub struct DateCache {
    secs: u64,
    text: String,
}

impl DateCache {
    pub fn new() -> DateCache {
        let secs = unix_secs(SystemTime::now());
        DateCache {
            secs,
            text: http_date(secs),
        }
    }

    /// Read the clock; the event loop calls this once per turn.
    pub fn tick(&mut self) {
        let secs = unix_secs(SystemTime::now());
        if secs != self.secs {
            self.secs = secs;
            self.text = http_date(secs);
        }
    }

    /// The `Date` value as of the last [`DateCache::tick`].
    pub fn now(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_match_the_rfc_example_and_round_trip() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_http_date(&http_date(secs)), Some(secs));
        }
        assert_eq!(parse_http_date("yesterday"), None);
        // The two obsolete forms a recipient must still accept.
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
    }

    #[test]
    fn no_body_for_204_and_304() {
        assert!(!status_has_body(204));
        assert!(!status_has_body(304));
        assert!(status_has_body(404));
    }
}
