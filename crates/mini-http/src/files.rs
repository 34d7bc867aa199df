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

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::percent::{self, encode_segment, html_escape};
use crate::response::{http_date, parse_http_date, unix_secs, Body, Response};

/// Files up to this size are served from memory after the first request.
const CACHE_FILE_MAX: u64 = 64 * 1024;
/// Entries per worker thread before the cache starts over.
const CACHE_ENTRIES: usize = 1024;

/// The kept copy of the file at `path`, if `stat` shows it unchanged.
fn cached(path: &Path, if_modified_since: Option<&str>) -> Option<Response> {
    let meta = fs::metadata(path).ok()?;
    let id = identity(&meta);
    let (content_type, modified, bytes) = CACHE.with(|cache| {
        let cache = cache.borrow();
        let entry = cache.entries.get(path)?;
        (entry.identity == id)
            .then(|| (entry.content_type, entry.modified, Arc::clone(&entry.bytes)))
    })?;
    Some(file_response(
        content_type,
        modified,
        Body::Shared(bytes),
        if_modified_since,
    ))
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

/// One kept file: what identifies it on disk, and its bytes.
struct Cached {
    identity: Identity,
    content_type: &'static str,
    modified: u64,
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
    pub fn get(&self, url: &str, query: Option<&str>, if_modified_since: Option<&str>) -> Response {
        let decoded = match decode_path(url) {
            Ok(decoded) => decoded,
            Err(response) => return response,
        };
        let path = self.join(&decoded);

        // Fast path: the same file as last time, unchanged.
        if !decoded.trailing_slash {
            if let Some(response) = cached(&path, if_modified_since) {
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
                Ok(index) => self.serve_file(&index, &index, url, if_modified_since),
                Err(response) if response.status == 404 => self.listing(&real, url),
                Err(response) => response,
            };
        }
        if decoded.trailing_slash {
            // `/notes.txt/`: a file is not a directory.
            return Response::error(404, &format!("no such directory {url}"));
        }
        self.serve_file(&real, &path, url, if_modified_since)
    }

    fn serve_file(
        &self,
        real: &Path,
        key: &Path,
        url: &str,
        if_modified_since: Option<&str>,
    ) -> Response {
        let (mut file, meta) = match open_regular(real) {
            Ok(opened) => opened,
            Err(err) => return fs_error(&err, url),
        };
        if !meta.is_file() {
            return Response::error(403, &format!("{url} is not a regular file"));
        }
        let content_type = content_type(real);
        let modified = meta.modified().map(unix_secs).unwrap_or(0);
        let len = meta.len();
        if len > CACHE_FILE_MAX {
            return file_response(
                content_type,
                modified,
                Body::File(file, len),
                if_modified_since,
            );
        }
        let mut bytes = Vec::with_capacity(len as usize);
        if let Err(err) = file.read_to_end(&mut bytes) {
            return fs_error(&err, url);
        }
        if bytes.len() as u64 != len {
            // Changed while we read it: serve what we read, keep nothing.
            return file_response(
                content_type,
                modified,
                Body::Bytes(bytes),
                if_modified_since,
            );
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
                        content_type,
                        modified,
                        bytes: Arc::clone(&bytes),
                    },
                );
            });
        }
        file_response(
            content_type,
            modified,
            Body::Shared(bytes),
            if_modified_since,
        )
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

    /// PUT: store the body as the file at `url` (201 if new, 204 if replaced).
    pub fn put(&self, url: &str, body: &[u8]) -> Response {
        let (target, name) = match self.write_target(url) {
            Ok(found) => found,
            Err(response) => return response,
        };
        let existed = match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                return Response::error(403, &format!("{url} is a directory"))
            }
            Ok(_) => true,
            Err(err) if err.kind() == ErrorKind::NotFound => false,
            Err(err) => return fs_error(&err, url),
        };
        // Write a temporary file beside it and rename: readers see the old
        // file or the new one, never half of it.
        let temp = target.with_file_name(format!(".{name}.mini-http-{}.tmp", std::process::id()));
        let written = File::create(&temp)
            .and_then(|mut file| file.write_all(body).and_then(|()| file.sync_all()))
            .and_then(|()| fs::rename(&temp, &target));
        if let Err(err) = written {
            let _ = fs::remove_file(&temp);
            return fs_error(&err, url);
        }
        if existed {
            Response::new(204)
        } else {
            Response::new(201).header("Location", url.to_string()).body(
                "text/plain; charset=utf-8",
                format!("201 Created: {url} ({} bytes)\n", body.len()),
            )
        }
    }

    /// DELETE: remove the file at `url` (204), never a directory.
    pub fn delete(&self, url: &str) -> Response {
        let (target, _) = match self.write_target(url) {
            Ok(found) => found,
            Err(response) => return response,
        };
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                Response::error(403, &format!("{url} is a directory: not deleted"))
            }
            Ok(_) => match fs::remove_file(&target) {
                Ok(()) => Response::new(204),
                Err(err) => fs_error(&err, url),
            },
            Err(err) => fs_error(&err, url),
        }
    }
}

/// 200 with the file, or 304 if the client's copy is still current
/// (`If-Modified-Since` at or after the file's modification time).
fn file_response(
    content_type: &'static str,
    modified: u64,
    body: Body,
    if_modified_since: Option<&str>,
) -> Response {
    let last_modified = http_date(modified);
    if let Some(since) = if_modified_since.and_then(parse_http_date) {
        if modified <= since {
            return Response::new(304).header("Last-Modified", last_modified);
        }
    }
    let mut response = Response::new(200)
        .header("Content-Type", content_type)
        .header("Last-Modified", last_modified);
    response.body = body;
    response
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
