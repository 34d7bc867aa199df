//! Steps 1 to 3 of [`super`]: a URL path becomes segments, and a file
//! system path that must stay inside the root.

use std::fs;
use std::path::{Path, PathBuf};

use super::{fs_error, Files};
use crate::percent;
use crate::response::Response;

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

impl Files {
    pub(super) fn join(&self, url: &UrlPath) -> PathBuf {
        let mut path = self.root.clone();
        for segment in &url.segments {
            path.push(segment);
        }
        path
    }

    /// Step 3: follow symlinks and insist on staying inside the root.
    pub(super) fn contained(&self, path: &Path, url: &str) -> Result<PathBuf, Response> {
        let real = fs::canonicalize(path).map_err(|e| fs_error(&e, url))?;
        if !real.starts_with(&self.root) {
            return Err(Response::error(
                403,
                &format!("{url} leads outside the document root"),
            ));
        }
        Ok(real)
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
}
