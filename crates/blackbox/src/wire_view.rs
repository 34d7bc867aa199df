//! The test's conversation on the wire, drawn when the test fails.
//!
//! The events [`record`](crate::record) kept of the test's own sockets,
//! shown as a `wire` diagram seen from the test's side: text under the
//! failure, and an SVG file it names (`target/wire/TEST.svg`) for a
//! browser. A test removes its old drawing when it starts, so only the
//! drawings of tests that failed in their last run stay.

use std::path::PathBuf;

/// Where a failed test's SVG goes: `target/wire/` in the workspace.
fn svg_dir() -> PathBuf {
    crate::workspace_root().join("target").join("wire")
}

/// The drawing of `test`: `target/wire/TEST.svg`.
fn svg_path(test: &str) -> PathBuf {
    let file: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    svg_dir().join(format!("{file}.svg"))
}

/// Remove the drawing an earlier run of `test` left (called when the test
/// starts: a test that passes now leaves none).
pub(crate) fn forget(test: &str) {
    let _ = std::fs::remove_file(svg_path(test));
}

/// The report's wire section: the diagram as text, and the SVG file
/// written for it. Empty when the test made no connection.
pub(crate) fn render(test: &str, events: &[wire::Event]) -> String {
    if events.is_empty() {
        return String::new();
    }
    let mut events = events.to_vec();
    events.sort_by_key(|e| e.t);
    let trace = wire::Trace {
        program: "the test".into(),
        events,
    };
    let diagram = wire::Diagram::build(&[trace], wire::Options { max_rows: 40 });
    let mut out = String::from(
        "\n--- on the wire, from the test's side (ms since its first socket event; `wire` diagram) ---\n",
    );
    out.push_str(&wire::render::text(&diagram));
    let dir = svg_dir();
    let path = svg_path(test);
    let svg = wire::render::svg(&diagram, &format!("{test}: the test's conversation"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, svg)) {
        Ok(()) => {
            let shown = path.canonicalize().unwrap_or(path).display().to_string();
            out.push_str(&format!("  (drawn as SVG: {shown})\n"));
        }
        Err(err) => out.push_str(&format!("  (no SVG: {}: {err})\n", path.display())),
    }
    out
}
