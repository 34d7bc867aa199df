//! Kept copies of small files, per worker thread, and the counter that says
//! when a `stat` still speaks for a request (see [`super`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::conditional::{file_response, Conditions, Validators};
use crate::response::{Body, Response};

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
pub fn note_write() {
    let now = tick();
    LAST_WRITE.with(|last| last.set(now));
}

/// The kept copy of the file at `path`, if it is still the file there.
/// `received`: the [`tick`] of the `recv` that completed the request.
pub fn cached(path: &Path, conditions: &Conditions<'_>, received: u64) -> Option<Response> {
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
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
    pub len: u64,
    pub mtime: Option<SystemTime>,
    pub ctime: i64,
}

#[cfg(unix)]
pub fn identity(meta: &Metadata) -> Identity {
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
pub fn identity(meta: &Metadata) -> Identity {
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

/// Keep the bytes just read of the file at `key`, whose `stat` was number
/// `checked` — if it was last modified more than two seconds ago (the
/// "racy git" rule of [`super`]).
pub fn keep(
    key: &Path,
    meta: &Metadata,
    checked: u64,
    content_type: &'static str,
    validators: &Validators,
    bytes: &Arc<[u8]>,
) {
    let settled = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age.as_secs() >= 2);
    if !settled {
        return;
    }
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
                identity: identity(meta),
                checked,
                content_type,
                validators: validators.clone(),
                bytes: Arc::clone(bytes),
            },
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::Files;
    use std::fs::File;

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
}
