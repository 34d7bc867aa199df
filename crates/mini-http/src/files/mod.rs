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
//!
//! The rooms: [`path`] (steps 1 to 3), [`cache`] (the kept copies and the
//! `stat` counter), [`conditional`] (validators, preconditions, ranges) and
//! [`write`](mod@write) (PUT and DELETE).

mod cache;
mod conditional;
mod path;
mod write;

use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::percent::{encode_segment, html_escape};
use crate::response::{Body, Response};

pub use cache::tick;
pub use conditional::Conditions;
use conditional::{file_response, Validators};
pub use path::decode_path;

/// Files up to this size are served from memory after the first request.
const CACHE_FILE_MAX: u64 = 64 * 1024;

/// The application's file half: the root, and whether PUT and DELETE may
/// change what is under it.
pub struct Files {
    root: PathBuf,
    allow_write: bool,
}

/// How a file-system error maps onto a status code.
pub(super) fn fs_error(err: &io::Error, url: &str) -> Response {
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
            if let Some(response) = cache::cached(&path, conditions, received) {
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
        cache::keep(key, &meta, checked, content_type, &validators, &bytes);
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
