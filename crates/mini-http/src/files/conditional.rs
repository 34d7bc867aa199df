//! Conditional requests and ranges (RFC 9110, sections 13 and 14): a
//! file's validators, the request's preconditions, and the part it asks for.

use std::fs::Metadata;
use std::io::{self, Seek, SeekFrom};
use std::time::{SystemTime, UNIX_EPOCH};

use super::cache::identity;
use crate::request::Head;
use crate::response::{http_date, parse_http_date, unix_secs, Body, Response};

/// A file's validators (RFC 9110, section 8.8): its modification time, and
/// an entity tag made from its identity — inode, size and modification
/// time to the nanosecond. A PUT writes a new file and renames it into
/// place, so every change gives a new inode and a new tag: a strong
/// validator, good for ranges and for `If-Match`.
#[derive(Clone, Debug)]
pub struct Validators {
    pub etag: String,
    pub modified: u64,
    pub last_modified: String,
}

impl Validators {
    pub fn of(meta: &Metadata) -> Validators {
        let id = identity(meta);
        let nanos = id
            .mtime
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let modified = meta.modified().map(unix_secs).unwrap_or(0);
        Validators {
            etag: format!("\"{:x}-{:x}-{nanos:x}\"", id.ino, id.len),
            modified,
            last_modified: http_date(modified),
        }
    }
}

/// The request fields that make a request conditional (RFC 9110, section
/// 13) or ask for part of a file (section 14).
#[derive(Clone, Copy, Debug, Default)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub if_unmodified_since: Option<&'a str>,
    pub range: Option<&'a str>,
    pub if_range: Option<&'a str>,
    /// Ranges apply to GET only (RFC 9110, section 14.2).
    pub get: bool,
}

impl<'a> Conditions<'a> {
    pub fn of(head: &'a Head) -> Conditions<'a> {
        Conditions {
            if_match: head.header("if-match"),
            if_none_match: head.header("if-none-match"),
            if_modified_since: head.header("if-modified-since"),
            if_unmodified_since: head.header("if-unmodified-since"),
            range: head.header("range"),
            if_range: head.header("if-range"),
            get: head.method == "GET",
        }
    }
}

/// Entity tags in an `If-Match` / `If-None-Match` list: `(weak, "opaque")`.
fn entity_tags(list: &str) -> Vec<(bool, &str)> {
    let mut tags = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return tags;
        }
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let Some(body) = rest.strip_prefix('"') else {
            return tags; // not a tag list: nothing in it can match
        };
        let Some(end) = body.find('"') else {
            return tags;
        };
        tags.push((weak, &rest[..end + 2]));
        rest = &body[end + 1..];
    }
}

/// Does `list` (`*` or entity tags) match the current tag? `strong`: a weak
/// tag never matches (If-Match); otherwise `W/` is ignored (If-None-Match).
fn tag_matches(list: &str, etag: &str, strong: bool) -> bool {
    list.trim() == "*"
        || entity_tags(list)
            .iter()
            .any(|&(weak, tag)| tag == etag && !(strong && weak))
}

/// The preconditions, in the order RFC 9110 (section 13.2.2) gives.
/// `current`: the file's validators, None if there is no file. `safe`: GET
/// or HEAD. Returns the status that replaces the normal answer: 412
/// Precondition Failed, or (for GET and HEAD) 304 Not Modified.
pub fn evaluate(
    current: Option<&Validators>,
    conditions: &Conditions<'_>,
    safe: bool,
) -> Option<u16> {
    if let Some(list) = conditions.if_match {
        if !current.is_some_and(|v| tag_matches(list, &v.etag, true)) {
            return Some(412);
        }
    } else if let Some(date) = conditions.if_unmodified_since.and_then(parse_http_date) {
        if !current.is_some_and(|v| v.modified <= date) {
            return Some(412);
        }
    }
    if let Some(list) = conditions.if_none_match {
        // It takes precedence: If-Modified-Since is then not looked at.
        if current.is_some_and(|v| tag_matches(list, &v.etag, false)) {
            return Some(if safe { 304 } else { 412 });
        }
    } else if safe {
        let since = conditions.if_modified_since.and_then(parse_http_date);
        // A date in the future is no date the client got from us: ignore it
        // (RFC 9110, section 13.1.3), or a wrong clock would freeze a cache.
        let now = unix_secs(SystemTime::now());
        if let (Some(v), Some(since)) = (current, since) {
            if since <= now && v.modified <= since {
                return Some(304);
            }
        }
    }
    None
}

/// What a `Range` header asks of a file `len` bytes long.
#[derive(Debug, PartialEq, Eq)]
pub enum Ranged {
    /// No range, one mini-http ignores (malformed, several ranges, a stale
    /// `If-Range`): the whole file, 200.
    Whole,
    /// Bytes `first..=last`: 206.
    Part(u64, u64),
    /// Starts past the end: 416.
    Unsatisfiable,
}

/// `Range: bytes=0-9`, `bytes=100-`, `bytes=-100` (the last 100). Several
/// ranges (`bytes=0-1,5-6`) are answered with the whole file: RFC 9110
/// lets a server ignore Range, and a multipart/byteranges body is more than
/// a course server needs.
pub fn byte_range(conditions: &Conditions<'_>, validators: &Validators, len: u64) -> Ranged {
    let Some(spec) = conditions.range.filter(|_| conditions.get) else {
        return Ranged::Whole;
    };
    if let Some(if_range) = conditions.if_range.map(str::trim) {
        // "Send the part only if the file is still the one I have part of."
        let same = if if_range.starts_with('"') || if_range.starts_with("W/") {
            if_range == validators.etag // strong comparison: W/ never matches
        } else {
            parse_http_date(if_range) == Some(validators.modified)
        };
        if !same {
            return Ranged::Whole;
        }
    }
    let Some((unit, set)) = spec.split_once('=') else {
        return Ranged::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return Ranged::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return Ranged::Whole;
    };
    let number = |text: &str| {
        (!text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (number(first), number(last)) {
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || len == 0 {
                Ranged::Unsatisfiable
            } else {
                Ranged::Part(len - suffix.min(len), len - 1)
            }
        }
        (Some(start), end) if end.is_some() || last.is_empty() => {
            if end.is_some_and(|end| end < start) {
                Ranged::Whole // invalid: ignored
            } else if start >= len {
                Ranged::Unsatisfiable
            } else {
                Ranged::Part(start, end.map_or(len - 1, |end| end.min(len - 1)))
            }
        }
        _ => Ranged::Whole,
    }
}

/// Bytes `first..=last` of a body.
fn slice(body: Body, first: u64, last: u64) -> io::Result<Body> {
    let (from, to) = (first as usize, last as usize + 1);
    Ok(match body {
        Body::Empty => Body::Empty,
        Body::Bytes(bytes) => Body::Bytes(bytes[from..to].to_vec()),
        Body::Shared(bytes) => Body::Bytes(bytes[from..to].to_vec()),
        Body::File(mut file, _) => {
            file.seek(SeekFrom::Start(first))?;
            Body::File(file, last - first + 1)
        }
    })
}

/// The answer to GET or HEAD of a file: 304 or 412 if a precondition says
/// so, 206 or 416 for a range, else 200 and the whole file.
pub fn file_response(
    content_type: &'static str,
    validators: &Validators,
    body: Body,
    conditions: &Conditions<'_>,
) -> Response {
    if let Some(status) = evaluate(Some(validators), conditions, true) {
        let response = if status == 304 {
            Response::new(304)
        } else {
            Response::error(status, "the file has changed since you read it")
        };
        return response
            .header("ETag", validators.etag.clone())
            .header("Last-Modified", validators.last_modified.clone());
    }
    let len = body.len();
    let response = Response::new(200)
        .header("Content-Type", content_type)
        .header("Last-Modified", validators.last_modified.clone())
        .header("ETag", validators.etag.clone())
        .header("Accept-Ranges", "bytes");
    match byte_range(conditions, validators, len) {
        Ranged::Whole => response.with_body(body),
        Ranged::Part(first, last) => match slice(body, first, last) {
            Ok(part) => {
                let mut partial = response.with_body(part);
                partial.status = 206;
                partial.header("Content-Range", format!("bytes {first}-{last}/{len}"))
            }
            Err(err) => Response::error(500, &format!("seek in the file: {err}")),
        },
        Ranged::Unsatisfiable => Response::error(
            416,
            &format!(
                "the range {:?} starts past the end of the file ({len} bytes)",
                conditions.range.unwrap_or("")
            ),
        )
        .header("Content-Range", format!("bytes */{len}"))
        .header("Accept-Ranges", "bytes"),
    }
}
