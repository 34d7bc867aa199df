//! `--trace FILE`: one JSON line per socket event, for the `wire` diagrams.
//!
//! Every program takes `--trace FILE`. With it, each socket call that matters
//! to the lessons — connect, accept, send, recv, sendto, recvfrom, shutdown,
//! close, and the errors they return — appends one line of JSON to FILE, so
//! `cargo run -p wire -- FILE…` can draw who sent what and where the peer's
//! `recv`s really cut the bytes (README, "Traces", describes the format).
//!
//! The first line says which format this is:
//!
//! ```text
//! {"wire_trace":1,"program":"sticky-demo","pid":4242,"clock":"monotonic"}
//! {"t":81234567890123,"ev":"send","proto":"tcp","local":"127.0.0.1:40312","peer":"127.0.0.1:9002","len":1,"text":"a"}
//! ```
//!
//! `t` is nanoseconds of the system-wide monotonic clock (`CLOCK_MONOTONIC`
//! on Unix, what Python's `time.monotonic_ns()` reads too), so traces written
//! by two processes — a server and its client — line up on one time axis.
//!
//! Without `--trace` nothing is written and each hook costs one atomic load.
//! Each line is one `write` call on an unbuffered file: threads never
//! interleave within a line, and nothing is lost when a server ends by
//! `process::exit` or a signal.
//!
//! The rooms: [`format`](mod@format) builds one event's line; [`tcp`] traces a blocking
//! TCP stream ([`Traced`]); [`udp`] a UDP socket ([`TracedUdp`] and the
//! calls one by one); [`ends`] is for streams read and written some other
//! way, mini-http's non-blocking mio streams.

pub mod ends;
pub mod format;
pub mod tcp;
pub mod udp;

use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::Context;

pub use ends::Ends;
use format::json_string;
pub use format::Event;
pub use tcp::Traced;
pub use udp::{recvfrom, sendto, udp_close, udp_error, TracedUdp};

/// The format version written in the first line (`"wire_trace":1`).
pub const FORMAT_VERSION: u32 = 1;

/// At most this many bytes of a send or recv are shown in `text`; `more`
/// counts the rest.
pub const SHOWN_BYTES: usize = 64;

static ON: AtomicBool = AtomicBool::new(false);
static FILE: OnceLock<Mutex<File>> = OnceLock::new();

/// Is tracing on? One relaxed atomic load: the whole cost when it is off.
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// When a call starts, for its trace event: `now_ns()` while tracing, else 0.
/// Taken before every `send` on a program's hot path, so it must cost nothing
/// when tracing is off (a clock read per send was about 2.5% of tcp-echo's
/// poll server with 100 clients streaming).
pub fn stamp() -> u64 {
    if enabled() {
        now_ns()
    } else {
        0
    }
}

/// Start tracing to `path` (created or emptied) if there is one, and write
/// the header line. Called once, first thing in `main`.
pub fn start(program: &str, path: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let mut file =
        File::create(path).with_context(|| format!("open trace file {}", path.display()))?;
    let header = format!(
        "{{\"wire_trace\":{FORMAT_VERSION},\"program\":{},\"pid\":{},\"clock\":\"monotonic\"}}\n",
        json_string(program),
        std::process::id()
    );
    file.write_all(header.as_bytes())
        .with_context(|| format!("write trace file {}", path.display()))?;
    if FILE.set(Mutex::new(file)).is_ok() {
        ON.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Nanoseconds on the system-wide monotonic clock.
#[cfg(unix)]
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer we give it.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

/// Elsewhere: nanoseconds since this process started tracing (traces of two
/// processes then do not share a time axis).
#[cfg(not(unix))]
pub fn now_ns() -> u64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// `listen` on a TCP socket, or `bind` of a UDP one: the endpoint exists.
pub fn listening(proto: &str, local: SocketAddr) {
    if enabled() {
        let ev = if proto == "tcp" { "listen" } else { "bind" };
        Event::new(ev, proto, Some(local), None).write();
    }
}

/// A failed call with no stream to speak of (connect refused, bind in use).
pub fn failed(
    op: &str,
    proto: &str,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    err: &io::Error,
) {
    if enabled() {
        Event::new("error", proto, local, peer)
            .error(op, err)
            .write();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_does_not_go_back() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
    }
}
