//! PUT and DELETE (with --allow-write): where they act, the preconditions
//! they are refused for, and the write itself.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::cache::note_write;
use super::conditional::{evaluate, Conditions, Validators};
use super::{decode_path, fs_error, Files};
use crate::response::Response;

impl Files {
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
