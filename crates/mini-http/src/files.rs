//! Static files under `--root`: the part of the application that maps a URL
//! path onto the file system — and never off it.
//!
//! A URL path is untrusted input. Before any file is opened:
//!
//! 1. each `/`-separated segment is percent-decoded exactly once (so
//!    `%2e%2e` is `..`, but `%252e%252e` is the harmless name `%2e%2e`);
//! 2. a segment that decodes to `..`, or contains `/`, `\` or NUL, is refused
//!    with 400 — no legitimate link needs them;
//! 3. the joined path is canonicalised (symlinks followed, as the kernel
//!    would) and must still lie inside the canonical root — a symlink that
//!    points out of the root is 403, whatever it is called.
//!
//! Small files are kept in memory per worker thread. An entry is used again
//! only while `stat` shows the very same file (device, inode, size, change
//! and modification times), and only files last modified more than two
//! seconds before they were read are kept at all — the "racy git" rule: a
//! write within the clock's granularity could otherwise go unseen.
//!
//! One `stat` answers for many requests. A change to the file that was
//! complete before a request's bytes reached us is seen by any `stat` made
//! after we `recv`d them. So each worker thread numbers its `recv`s and
//! `stat`s on one counter ([`tick`]); a request carries the number of the
//! last `recv` that brought its bytes, and a kept copy whose last `stat` is
//! numbered higher needs no new one for it. The server reads every ready
//! connection first and answers second, so a busy worker makes one `stat`
//! per file per turn of its event loop, and a request never gets a copy
//! older than the file was when it was sent (test
//! `changed_file_is_never_served_stale`). One exception to "read before":
//! a PUT or DELETE this thread makes itself, between a `stat` and a
//! request pipelined behind the PUT on the same connection; after its own
//! write a thread `stat`s again (test
//! `pipelined_get_after_put_or_delete_sees_the_change`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::percent::{self, encode_segment, html_escape};
use crate::request::Head;
use crate::response::{http_date, parse_http_date, unix_secs, Body, Response};

/// Files up to this size are served from memory after the first request.
const CACHE_FILE_MAX: u64 = 64 * 1024;
/// Entries per worker thread before the cache starts over.
const CACHE_ENTRIES: usize = 1024;

thread_local! {
    /// This worker thread's count of `recv`s and `stat`s (see the module
    /// documentation).
    static TICKS: Cell<u64> = const { Cell::new(0) };
}

/// Number the `recv` or `stat` this thread is about to make (or has just
/// made, for a `recv`: nothing else happens on the thread in between).
pub fn tick() -> u64 {
    TICKS.with(|ticks| {
        let next = ticks.get() + 1;
        ticks.set(next);
        next
    })
}

thread_local! {
    /// The [`tick`] of this thread's last PUT or DELETE.
    static LAST_WRITE: Cell<u64> = const { Cell::new(0) };
}

/// This thread has just changed the files itself (PUT, DELETE). Requests
/// pipelined behind that one were read before it, yet must see the change:
/// from now on a kept copy needs a `stat` made after this point.
fn note_write() {
    let now = tick();
    LAST_WRITE.with(|last| last.set(now));
}

/// The kept copy of the file at `path`, if it is still the file there.
/// `received`: the [`tick`] of the `recv` that completed the request.
fn cached(path: &Path, conditions: &Conditions<'_>, received: u64) -> Option<Response> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let entry = cache.entries.get_mut(path)?;
        if entry.checked < received || entry.checked < LAST_WRITE.with(Cell::get) {
            // Its last `stat` came before this request was read, or before
            // this thread's own last write: look again.
            let checked = tick();
            let meta = fs::metadata(path).ok()?;
            if identity(&meta) != entry.identity {
                return None;
            }
            entry.checked = checked;
        }
        Some(file_response(
            entry.content_type,
            &entry.validators,
            Body::Shared(Arc::clone(&entry.bytes)),
            conditions,
        ))
    })
}

/// A decoded, checked URL path: its segments, and whether it ended in `/`.
#[derive(Debug, PartialEq, Eq)]
pub struct UrlPath {
    pub segments: Vec<String>,
    pub trailing_slash: bool,
}

/// Step 1 and 2 above. `path` is the raw path of the target (no query).
pub fn decode_path(path: &str) -> Result<UrlPath, Response> {
    let bad = |what: &str| Err(Response::error(400, what));
    if path.contains('\\') {
        return bad("backslash in the path");
    }
    let mut segments = Vec::new();
    for raw in path.split('/') {
        let Some(bytes) = percent::decode(raw, false) else {
            return bad("malformed %-escape in the path");
        };
        let Ok(segment) = String::from_utf8(bytes) else {
            return bad("path is not UTF-8 after %-decoding");
        };
        if segment.contains(['/', '\\', '\0']) {
            return bad("encoded slash, backslash or NUL in the path");
        }
        match segment.as_str() {
            "" | "." => {}
            ".." => return bad("'..' in the path: nothing above the document root is served"),
            _ => segments.push(segment),
        }
    }
    Ok(UrlPath {
        segments,
        trailing_slash: path.ends_with('/'),
    })
}

/// The application's file half: the root, and whether PUT and DELETE may
/// change what is under it.
pub struct Files {
    root: PathBuf,
    allow_write: bool,
}

/// How a file-system error maps onto a status code.
fn fs_error(err: &io::Error, url: &str) -> Response {
    match err.kind() {
        ErrorKind::NotFound => Response::error(404, &format!("no such file {url}")),
        ErrorKind::PermissionDenied => Response::error(403, &format!("permission denied: {url}")),
        // `/notes.txt/x`: a path through something that is not a directory.
        _ if err.raw_os_error() == Some(libc_enotdir()) => {
            Response::error(404, &format!("no such file {url}"))
        }
        // A segment longer than a file name may be (255 bytes on Linux):
        // the client asked for a name no file can have — its mistake, not
        // the server's, so never a 5xx.
        _ if err.raw_os_error() == Some(libc_enametoolong()) => Response::error(
            404,
            &format!("no such file {url}: a name in it is longer than file names can be"),
        ),
        // Anything else is the server's own failure — a symlink loop, an
        // I/O error: 500, and the reason goes to the client and the log.
        _ => Response::error(500, &format!("{url}: {err}")),
    }
}

#[cfg(unix)]
fn libc_enotdir() -> i32 {
    libc::ENOTDIR
}

#[cfg(not(unix))]
fn libc_enotdir() -> i32 {
    20
}

#[cfg(unix)]
fn libc_enametoolong() -> i32 {
    libc::ENAMETOOLONG
}

#[cfg(not(unix))]
fn libc_enametoolong() -> i32 {
    36
}

/// One kept file: what identifies it on disk, and its bytes.
struct Cached {
    identity: Identity,
    /// The [`tick`] of the last `stat` that showed `identity`.
    checked: u64,
    content_type: &'static str,
    validators: Validators,
    bytes: Arc<[u8]>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: Option<SystemTime>,
    ctime: i64,
}

#[cfg(unix)]
fn identity(meta: &Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity {
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.len(),
        mtime: meta.modified().ok(),
        ctime: meta
            .ctime()
            .wrapping_mul(1_000_000_000)
            .wrapping_add(meta.ctime_nsec()),
    }
}

#[cfg(not(unix))]
fn identity(meta: &Metadata) -> Identity {
    Identity {
        dev: 0,
        ino: 0,
        len: meta.len(),
        mtime: meta.modified().ok(),
        ctime: 0,
    }
}

/// Kept files of one worker thread, and their total size.
#[derive(Default)]
struct Cache {
    entries: HashMap<PathBuf, Cached>,
    bytes: usize,
}

/// Bytes kept per worker thread before the cache starts over.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// Open a file without ever blocking the event loop: a FIFO opened for
/// reading would wait for a writer, so open non-blocking and check it is a
/// regular file before reading.
fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "text" | "log" | "rs" | "py" | "toml" | "sh" | "c" | "h" => {
            "text/plain; charset=utf-8"
        }
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

impl Files {
    /// `root` must exist; it is canonicalised once, here.
    pub fn new(root: &Path, allow_write: bool) -> io::Result<Files> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(ErrorKind::InvalidInput, "not a directory"));
        }
        Ok(Files { root, allow_write })
    }

    pub fn allow_write(&self) -> bool {
        self.allow_write
    }

    fn join(&self, url: &UrlPath) -> PathBuf {
        let mut path = self.root.clone();
        for segment in &url.segments {
            path.push(segment);
        }
        path
    }

    /// Step 3: follow symlinks and insist on staying inside the root.
    fn contained(&self, path: &Path, url: &str) -> Result<PathBuf, Response> {
        let real = fs::canonicalize(path).map_err(|e| fs_error(&e, url))?;
        if !real.starts_with(&self.root) {
            return Err(Response::error(
                403,
                &format!("{url} leads outside the document root"),
            ));
        }
        Ok(real)
    }

    /// GET and HEAD. `url` is the path as sent (for messages and redirects),
    /// `query` is kept on a redirect.
    /// `received`: the [`tick`] of the `recv` that completed the request.
    pub fn get(
        &self,
        url: &str,
        query: Option<&str>,
        conditions: &Conditions<'_>,
        received: u64,
    ) -> Response {
        let decoded = match decode_path(url) {
            Ok(decoded) => decoded,
            Err(response) => return response,
        };
        let path = self.join(&decoded);

        // Fast path: the same file as last time, unchanged.
        if !decoded.trailing_slash {
            if let Some(response) = cached(&path, conditions, received) {
                return response;
            }
        }
        let real = match self.contained(&path, url) {
            Ok(real) => real,
            Err(response) => return response,
        };
        if real.is_dir() {
            if !decoded.trailing_slash {
                // `/docs` names a directory: send the browser to `/docs/`, so
                // that relative links in its index resolve inside it.
                let location = match query {
                    Some(q) => format!("{url}/?{q}"),
                    None => format!("{url}/"),
                };
                return Response::error(301, &format!("moved to {location}"))
                    .header("Location", location);
            }
            let index = real.join("index.html");
            return match self.contained(&index, url) {
                Ok(index) => self.serve_file(&index, &index, url, conditions),
                Err(response) if response.status == 404 => self.listing(&real, url),
                Err(response) => response,
            };
        }
        if decoded.trailing_slash {
            // `/notes.txt/`: a file is not a directory.
            return Response::error(404, &format!("no such directory {url}"));
        }
        self.serve_file(&real, &path, url, conditions)
    }

    fn serve_file(
        &self,
        real: &Path,
        key: &Path,
        url: &str,
        conditions: &Conditions<'_>,
    ) -> Response {
        let checked = tick();
        let (mut file, meta) = match open_regular(real) {
            Ok(opened) => opened,
            Err(err) => return fs_error(&err, url),
        };
        if !meta.is_file() {
            return Response::error(403, &format!("{url} is not a regular file"));
        }
        let content_type = content_type(real);
        let validators = Validators::of(&meta);
        let len = meta.len();
        if len > CACHE_FILE_MAX {
            return file_response(content_type, &validators, Body::File(file, len), conditions);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        if let Err(err) = file.read_to_end(&mut bytes) {
            return fs_error(&err, url);
        }
        if bytes.len() as u64 != len {
            // Changed while we read it: serve what we read, keep nothing.
            return file_response(content_type, &validators, Body::Bytes(bytes), conditions);
        }
        let bytes: Arc<[u8]> = bytes.into();
        let settled = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age.as_secs() >= 2);
        if settled {
            CACHE.with(|cache| {
                let mut cache = cache.borrow_mut();
                if cache.entries.len() >= CACHE_ENTRIES || cache.bytes + bytes.len() > CACHE_BYTES {
                    cache.entries.clear();
                    cache.bytes = 0;
                }
                cache.bytes += bytes.len();
                cache.entries.insert(
                    key.to_path_buf(),
                    Cached {
                        identity: identity(&meta),
                        checked,
                        content_type,
                        validators: validators.clone(),
                        bytes: Arc::clone(&bytes),
                    },
                );
            });
        }
        file_response(content_type, &validators, Body::Shared(bytes), conditions)
    }

    /// An HTML page listing a directory that has no index.html.
    fn listing(&self, dir: &Path, url: &str) -> Response {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) => return fs_error(&err, url),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|entry| {
                let mut name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    name.push('/');
                }
                name
            })
            .collect();
        names.sort();
        let title = html_escape(url);
        let mut page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n<body><h1>Index of {title}</h1>\n<ul>\n"
        );
        if url != "/" {
            page.push_str("<li><a href=\"../\">../</a></li>\n");
        }
        for name in names {
            let (stem, slash) = match name.strip_suffix('/') {
                Some(stem) => (stem, "/"),
                None => (name.as_str(), ""),
            };
            page.push_str(&format!(
                "<li><a href=\"{}{slash}\">{}{slash}</a></li>\n",
                encode_segment(stem),
                html_escape(stem)
            ));
        }
        page.push_str("</ul></body></html>\n");
        Response::new(200).body("text/html; charset=utf-8", page)
    }

    /// Where a PUT or DELETE acts: the real parent directory (inside the
    /// root) and the final name. The name itself is not followed if it is a
    /// symlink — PUT replaces, DELETE removes, the link itself.
    fn write_target(&self, url: &str) -> Result<(PathBuf, String), Response> {
        let decoded = decode_path(url)?;
        let Some((name, parents)) = decoded.segments.split_last() else {
            return Err(Response::error(
                403,
                "the root directory itself cannot be written",
            ));
        };
        if decoded.trailing_slash {
            return Err(Response::error(403, &format!("{url} names a directory")));
        }
        let mut parent = self.root.clone();
        for segment in parents {
            parent.push(segment);
        }
        let real_parent = self.contained(&parent, url)?;
        if !real_parent.is_dir() {
            return Err(Response::error(
                404,
                &format!("{url}: parent is not a directory"),
            ));
        }
        Ok((real_parent.join(name), name.clone()))
    }

    /// Everything a PUT or DELETE can be refused for before its body has
    /// arrived: the target's place (inside the root, not a directory) and
    /// the preconditions against the file there now. The web server asks
    /// this before it sends `100 Continue`; [`Files::put`] and
    /// [`Files::delete`] ask again when the body is in.
    pub fn check_write(
        &self,
        url: &str,
        conditions: &Conditions<'_>,
    ) -> Result<(PathBuf, bool), Response> {
        let (target, _) = self.write_target(url)?;
        let existing = match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                return Err(Response::error(403, &format!("{url} is a directory")))
            }
            // A symlink: its file's validators (what a GET showed) if it
            // leads to a file inside the root; else the link's own, so that
            // nothing about a file outside the root is ever told.
            Ok(link) if link.file_type().is_symlink() => Some(
                self.contained(&target, url)
                    .ok()
                    .and_then(|real| fs::metadata(real).ok())
                    .unwrap_or(link),
            ),
            Ok(meta) => Some(meta),
            Err(err) if err.kind() == ErrorKind::NotFound => None,
            Err(err) => return Err(fs_error(&err, url)),
        };
        let existed = existing.is_some();
        let current = existing.as_ref().map(Validators::of);
        if let Some(status) = evaluate(current.as_ref(), conditions, false) {
            let now = match &current {
                Some(v) => format!("the file is now {} modified {}", v.etag, v.last_modified),
                None => "there is no such file now".to_string(),
            };
            let mut refused = Response::error(
                status,
                &format!("{url} has changed since you read it: {now}"),
            );
            if let Some(v) = current {
                refused = refused.header("ETag", v.etag);
            }
            return Err(refused);
        }
        Ok((target, existed))
    }

    /// PUT: store the body as the file at `url` (201 if new, 204 if replaced).
    pub fn put(&self, url: &str, body: &[u8], conditions: &Conditions<'_>) -> Response {
        let (target, existed) = match self.check_write(url, conditions) {
            Ok(found) => found,
            Err(response) => return response,
        };
        // Write a temporary file beside it and rename: readers see the old
        // file or the new one, never half of it. (The check above and the
        // rename are not one atomic step: a third writer in between would
        // not be seen. Good enough for a course server; a real one locks.)
        static TEMP: AtomicU64 = AtomicU64::new(0);
        let temp = target.with_file_name(format!(
            ".mini-http-{}-{}.tmp",
            std::process::id(),
            TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let written = File::create(&temp)
            .and_then(|mut file| file.write_all(body).and_then(|()| file.sync_all()))
            .and_then(|()| fs::rename(&temp, &target));
        note_write();
        if let Err(err) = written {
            let _ = fs::remove_file(&temp);
            return fs_error(&err, url);
        }
        // The new file's validator, for the writer's next conditional PUT.
        let etag = fs::metadata(&target).map(|m| Validators::of(&m).etag);
        let response = if existed {
            Response::new(204)
        } else {
            Response::new(201).header("Location", url.to_string()).body(
                "text/plain; charset=utf-8",
                format!("201 Created: {url} ({} bytes)\n", body.len()),
            )
        };
        match etag {
            Ok(etag) => response.header("ETag", etag),
            Err(_) => response,
        }
    }

    /// DELETE: remove the file at `url` (204), never a directory.
    pub fn delete(&self, url: &str, conditions: &Conditions<'_>) -> Response {
        let (target, existed) = match self.check_write(url, conditions) {
            Ok(found) => found,
            Err(response) => return response,
        };
        if !existed {
            return Response::error(404, &format!("no such file {url}"));
        }
        let removed = fs::remove_file(&target);
        note_write();
        match removed {
            Ok(()) => Response::new(204),
            Err(err) => fs_error(&err, url),
        }
    }
}

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
    fn of(meta: &Metadata) -> Validators {
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
fn file_response(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        decode_path(path).unwrap().segments
    }

    fn refused(path: &str) -> bool {
        decode_path(path).is_err()
    }

    #[test]
    fn decoding_keeps_names_and_drops_dots() {
        assert_eq!(segments("/a/./b//c.txt"), ["a", "b", "c.txt"]);
        assert_eq!(segments("/%E4%BD%A0.txt"), ["你.txt"]);
        // Double encoding decodes once: a file literally named %2e%2e.
        assert_eq!(segments("/%252e%252e/x"), ["%2e%2e", "x"]);
    }

    #[test]
    fn traversal_shapes_are_refused() {
        for path in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2fx",
            "/a%2f..%2f..%2fx",
            "/a%5c..%5cx",
            "/a\\..\\x",
            "/a%00.txt",
            "/%zz",
            "/%ff",
        ] {
            assert!(refused(path), "{path}");
        }
    }

    /// The body of a response, whichever way it is held.
    fn body_of(response: &Response) -> Vec<u8> {
        match &response.body {
            Body::Bytes(bytes) => bytes.clone(),
            Body::Shared(bytes) => bytes.to_vec(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn one_stat_answers_only_for_requests_read_before_it() {
        let dir = std::env::temp_dir().join(format!("mini-http-tick-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        let write_old = |text: &[u8]| {
            fs::write(&path, text).unwrap();
            File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(old))
                .unwrap();
        };
        write_old(b"version one\n");
        let files = Files::new(&dir, false).unwrap();
        let get = |received| body_of(&files.get("/f.txt", None, &Conditions::default(), received));

        // A request read (tick) before the file is opened and kept.
        let early = tick();
        assert_eq!(get(early), b"version one\n");
        // The file changes after that stat. A request read before the stat
        // may still get the kept copy: the change came after it was sent.
        write_old(b"version two\n");
        assert_eq!(
            get(early),
            b"version one\n",
            "no new stat for a request read before the last one"
        );
        // A request read now, after the change, must see it.
        let late = tick();
        assert_eq!(
            get(late),
            b"version two\n",
            "a request read after the change got the old copy"
        );
        // And a request read before that second look still gets the new copy.
        assert_eq!(get(late), b"version two\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn content_type_follows_the_extension() {
        assert_eq!(
            content_type(Path::new("a.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.png")), "image/png");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
