//! The `wire` program as a user runs it: trace files in, a diagram out.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

const SERVER: &str = r#"{"wire_trace":1,"program":"sticky-demo","pid":1,"clock":"monotonic"}
{"t":1000,"ev":"listen","proto":"tcp","local":"127.0.0.1:9002","peer":null}
{"t":3000,"ev":"accept","proto":"tcp","local":"127.0.0.1:9002","peer":"127.0.0.1:40000"}
{"t":9000,"ev":"recv","proto":"tcp","local":"127.0.0.1:9002","peer":"127.0.0.1:40000","asked":65536,"len":3,"text":"abc"}
{"t":9500,"ev":"recv","proto":"tcp","local":"127.0.0.1:9002","peer":"127.0.0.1:40000","asked":65536,"len":0,"text":""}
{"t":9600,"ev":"close","proto":"tcp","local":"127.0.0.1:9002","peer":"127.0.0.1:40000"}
"#;

const CLIENT: &str = r#"{"wire_trace":1,"program":"sticky-demo","pid":2,"clock":"monotonic"}
{"t":2000,"ev":"connect","proto":"tcp","local":"127.0.0.1:40000","peer":"127.0.0.1:9002"}
{"t":2100,"ev":"send","proto":"tcp","local":"127.0.0.1:40000","peer":"127.0.0.1:9002","len":1,"text":"a"}
{"t":2200,"ev":"send","proto":"tcp","local":"127.0.0.1:40000","peer":"127.0.0.1:9002","len":1,"text":"b"}
{"t":2300,"ev":"send","proto":"tcp","local":"127.0.0.1:40000","peer":"127.0.0.1:9002","len":1,"text":"c"}
{"t":2400,"ev":"shutdown","proto":"tcp","local":"127.0.0.1:40000","peer":"127.0.0.1:9002","how":"write"}
{"t":9700,"ev":"close","proto":"tcp","local":"127.0.0.1:40000","peer":"127.0.0.1:9002"}
"#;

/// A fresh folder under target/ for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make scratch folder");
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write trace");
    path
}

#[test]
fn two_traces_become_one_diagram_in_text_svg_and_structure() {
    let dir = scratch("two-traces");
    let s = write(&dir, "s.jsonl", SERVER);
    let c = write(&dir, "c.jsonl", CLIENT);
    let svg = dir.join("d.svg");
    let events = dir.join("d.events");
    Command::cargo_bin("wire")
        .expect("wire built")
        .arg(&s)
        .arg(&c)
        .arg("--svg")
        .arg(&svg)
        .arg("--events")
        .arg(&events)
        .assert()
        .success()
        .stdout(predicate::str::contains("A sticky-demo server"))
        .stdout(predicate::str::contains("r1 recv 3 B \"abc\"  ← B s1–s3"))
        .stdout(predicate::str::contains("shutdown write  → FIN A r2"));
    let svg = std::fs::read_to_string(svg).expect("svg written");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("r1 recv 3 B &quot;abc&quot;"), "{svg}");
    let events = std::fs::read_to_string(events).expect("events written");
    assert!(
        events.contains("A: r1 recv 3 B \"abc\" <- B s1 <- B s2 <- B s3\n"),
        "{events}"
    );
    assert!(
        !events.contains("40000"),
        "no ports in the structure: {events}"
    );
}

#[test]
fn a_missing_file_is_one_error_line_and_status_1() {
    let dir = scratch("missing");
    Command::cargo_bin("wire")
        .expect("wire built")
        .arg(dir.join("nosuch.jsonl"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::is_match("^error: read .*nosuch.jsonl: .*\n$").expect("regex"));
}

#[test]
fn a_file_that_is_not_a_trace_names_its_line() {
    let dir = scratch("not-a-trace");
    let bad = write(&dir, "bad.jsonl", "{\"wire_trace\":1}\n{oops\n");
    Command::cargo_bin("wire")
        .expect("wire built")
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.jsonl: line 2:"));
}

#[test]
fn no_trace_file_is_a_usage_error() {
    Command::cargo_bin("wire")
        .expect("wire built")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("error"));
}
