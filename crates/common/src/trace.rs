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

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::Context;

use crate::text::show_bytes;

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

/// One event under construction: `Event::new("send", "tcp", local, peer)`,
/// then fields, then [`Event::write`].
pub struct Event {
    line: String,
}

impl Event {
    pub fn new(
        ev: &str,
        proto: &str,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
    ) -> Event {
        Event::at(now_ns(), ev, proto, local, peer)
    }

    /// An event that happened at `t` (a send is stamped when it was called:
    /// its bytes may reach the peer's recv before the call returns).
    pub fn at(
        t: u64,
        ev: &str,
        proto: &str,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
    ) -> Event {
        let mut line = String::with_capacity(160);
        let _ = write!(line, "{{\"t\":{t},\"ev\":\"{ev}\",\"proto\":\"{proto}\"");
        let mut event = Event { line };
        event.addr("local", local);
        event.addr("peer", peer);
        event
    }

    fn addr(&mut self, key: &str, addr: Option<SocketAddr>) {
        match addr {
            Some(addr) => {
                let _ = write!(self.line, ",\"{key}\":\"{addr}\"");
            }
            None => {
                let _ = write!(self.line, ",\"{key}\":null");
            }
        }
    }

    pub fn num(mut self, key: &str, value: u64) -> Event {
        let _ = write!(self.line, ",\"{key}\":{value}");
        self
    }

    pub fn flag(mut self, key: &str, value: bool) -> Event {
        let _ = write!(self.line, ",\"{key}\":{value}");
        self
    }

    pub fn string(mut self, key: &str, value: &str) -> Event {
        let _ = write!(self.line, ",\"{key}\":{}", json_string(value));
        self
    }

    /// `len`, `text` (the first [`SHOWN_BYTES`] by README rule 6) and, when
    /// some were left out, `more`.
    pub fn bytes(self, bytes: &[u8]) -> Event {
        let shown = &bytes[..bytes.len().min(SHOWN_BYTES)];
        let event = self
            .num("len", bytes.len() as u64)
            .string("text", &show_bytes(shown));
        if bytes.len() > SHOWN_BYTES {
            event.num("more", (bytes.len() - SHOWN_BYTES) as u64)
        } else {
            event
        }
    }

    /// An OS error: its text and, where there is one, its errno.
    pub fn error(self, op: &str, err: &io::Error) -> Event {
        let event = self.string("op", op).string("error", &err.to_string());
        match err.raw_os_error() {
            Some(code) => event.num("errno", code as u64),
            None => event,
        }
    }

    /// Append the line to the trace file. A failed write is ignored: a
    /// trace must never bring a program down.
    pub fn write(mut self) {
        self.line.push_str("}\n");
        if let Some(file) = FILE.get() {
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(self.line.as_bytes());
            }
        }
    }
}

/// A JSON string literal. `show_bytes` output has no control characters
/// left, but names and error texts might.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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

/// A TCP stream whose calls are traced: `read` is a recv, `write` a send,
/// [`Traced::shutdown`] a shutdown, and dropping it a close. It derefs to
/// the stream for everything else (timeouts, options).
///
/// The addresses are taken once, when it is made, so a close after a reset
/// still names its peer.
pub struct Traced {
    stream: TcpStream,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
}

impl Traced {
    /// Wrap a stream without recording anything (addresses only).
    pub fn new(stream: TcpStream) -> Traced {
        let (local, peer) = if enabled() {
            (stream.local_addr().ok(), stream.peer_addr().ok())
        } else {
            (None, None)
        };
        Traced {
            stream,
            local,
            peer,
        }
    }

    /// A stream `connect` returned: records `connect`.
    pub fn connected(stream: TcpStream) -> Traced {
        let traced = Traced::new(stream);
        traced.event("connect").write();
        traced
    }

    /// A stream `accept` returned: records `accept`.
    pub fn accepted(stream: TcpStream) -> Traced {
        let traced = Traced::new(stream);
        traced.event("accept").write();
        traced
    }

    fn event(&self, ev: &str) -> Event {
        Event::new(ev, "tcp", self.local, self.peer)
    }

    /// The stream itself.
    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// `shutdown(how)`: `write` sends FIN (the peer's recv returns empty).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        // Stamped when called, as a send is: the peer may read the FIN
        // before this call has returned.
        let t = if enabled() { now_ns() } else { 0 };
        let result = self.stream.shutdown(how);
        if enabled() {
            let how_name = match how {
                Shutdown::Read => "read",
                Shutdown::Write => "write",
                Shutdown::Both => "both",
            };
            match &result {
                Ok(()) => Event::at(t, "shutdown", "tcp", self.local, self.peer)
                    .string("how", how_name)
                    .write(),
                Err(err) => self.event("error").error("shutdown", err).write(),
            }
        }
        result
    }

    /// Record a recv of `asked` bytes that returned `result` (for callers
    /// reading through the inner stream some other way).
    pub fn note_recv(&self, asked: usize, result: &io::Result<&[u8]>) {
        if !enabled() {
            return;
        }
        match result {
            Ok(got) => self
                .event("recv")
                .num("asked", asked as u64)
                .bytes(got)
                .write(),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => self.event("error").error("recv", err).write(),
        }
    }

    /// Record a send of `offered` bytes, of which `result` were taken.
    /// `t`: when the call was made ([`now_ns`] before it).
    pub fn note_send(&self, t: u64, offered: &[u8], result: &io::Result<usize>) {
        if !enabled() {
            return;
        }
        match result {
            Ok(n) => Event::at(t, "send", "tcp", self.local, self.peer)
                .bytes(&offered[..(*n).min(offered.len())])
                .write(),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => self.event("error").error("send", err).write(),
        }
    }
}

impl std::ops::Deref for Traced {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl Read for Traced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.stream.read(buf);
        if enabled() {
            match &result {
                Ok(n) => self.note_recv(buf.len(), &Ok(&buf[..*n])),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // SO_RCVTIMEO ran out: no bytes, no error on the wire.
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.event("timeout").string("op", "recv").write()
                }
                Err(err) => self.event("error").error("recv", err).write(),
            }
        }
        result
    }
}

impl Write for Traced {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let t = if enabled() { now_ns() } else { 0 };
        let result = self.stream.write(buf);
        self.note_send(t, buf, &result);
        result
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        if enabled() {
            self.event("close").write();
        }
    }
}

/// A UDP socket's calls, traced: `sendto` and `recvfrom` carry the peer.
/// `t`: when the call was made ([`now_ns`] before it).
pub fn sendto(socket: &UdpSocket, t: u64, to: SocketAddr, result: &io::Result<usize>, data: &[u8]) {
    if !enabled() {
        return;
    }
    let event = Event::at(t, "sendto", "udp", socket.local_addr().ok(), Some(to));
    match result {
        Ok(n) => event.bytes(&data[..(*n).min(data.len())]).write(),
        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
        Err(err) => Event::new("error", "udp", socket.local_addr().ok(), Some(to))
            .error("sendto", err)
            .write(),
    }
}

/// A datagram received: `got` is what fitted in `asked` bytes; `real_size`
/// is the datagram's size when it was larger (truncated), if known;
/// `truncated` says whether bytes were lost at all.
pub fn recvfrom(
    socket: &UdpSocket,
    from: SocketAddr,
    asked: usize,
    got: &[u8],
    truncated: bool,
    real_size: Option<usize>,
) {
    if !enabled() {
        return;
    }
    let mut event = Event::new("recvfrom", "udp", socket.local_addr().ok(), Some(from))
        .num("asked", asked as u64)
        .bytes(got);
    if truncated {
        event = event.flag("truncated", true);
        if let Some(size) = real_size {
            event = event.num("size", size as u64);
        }
    }
    event.write();
}

/// A UDP call that failed or timed out.
pub fn udp_error(socket: &UdpSocket, op: &str, peer: Option<SocketAddr>, err: &io::Error) {
    if !enabled() || err.kind() == io::ErrorKind::Interrupted {
        return;
    }
    let local = socket.local_addr().ok();
    if matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        Event::new("timeout", "udp", local, peer)
            .string("op", op)
            .write();
    } else {
        Event::new("error", "udp", local, peer)
            .error(op, err)
            .write();
    }
}

/// The UDP socket is done with.
pub fn udp_close(socket: &UdpSocket) {
    if enabled() {
        Event::new("close", "udp", socket.local_addr().ok(), None).write();
    }
}

/// The two ends of a TCP connection, for a program that reads and writes
/// its streams some other way (mini-http's non-blocking `mio` streams): the
/// same events as [`Traced`], called by hand.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ends {
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
}

impl Ends {
    pub fn event(&self, ev: &str) -> Event {
        Event::new(ev, "tcp", self.local, self.peer)
    }

    /// `ev` alone (`accept`, `close`), if tracing.
    pub fn note(&self, ev: &str) {
        if enabled() {
            self.event(ev).write();
        }
    }

    /// A recv of `asked` bytes that returned `got` (empty: the peer's FIN).
    pub fn recv(&self, asked: usize, got: &[u8]) {
        if enabled() {
            self.event("recv")
                .num("asked", asked as u64)
                .bytes(got)
                .write();
        }
    }

    /// A send called at `t` that took `sent` bytes.
    pub fn send(&self, t: u64, sent: &[u8]) {
        if enabled() {
            Event::at(t, "send", "tcp", self.local, self.peer)
                .bytes(sent)
                .write();
        }
    }

    /// A call that failed (not WouldBlock: that is no event).
    pub fn error(&self, op: &str, err: &io::Error) {
        if enabled()
            && !matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            )
        {
            self.event("error").error(op, err).write();
        }
    }
}

/// A UDP socket whose `send_to`, `send` and `recv_from` are traced (and
/// its binding, when made with [`TracedUdp::bound`]); it derefs to the socket
/// for everything else.
pub struct TracedUdp {
    socket: UdpSocket,
}

impl TracedUdp {
    /// Wrap a socket; records nothing yet.
    pub fn new(socket: UdpSocket) -> TracedUdp {
        TracedUdp { socket }
    }

    /// Wrap a socket just bound: records `bind` with its address.
    pub fn bound(socket: UdpSocket) -> TracedUdp {
        if enabled() {
            if let Ok(local) = socket.local_addr() {
                listening("udp", local);
            }
        }
        TracedUdp { socket }
    }

    /// `sendto`: one datagram to `to`.
    pub fn send_to(&self, data: &[u8], to: SocketAddr) -> io::Result<usize> {
        let t = if enabled() { now_ns() } else { 0 };
        let result = self.socket.send_to(data, to);
        sendto(&self.socket, t, to, &result, data);
        result
    }

    /// `send` on a connected socket: one datagram to its peer.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        let t = if enabled() { now_ns() } else { 0 };
        let result = self.socket.send(data);
        if enabled() {
            if let Ok(to) = self.socket.peer_addr() {
                sendto(&self.socket, t, to, &result, data);
            }
        }
        result
    }

    /// `recvfrom`: one datagram. (A datagram larger than `buf` is cut
    /// without a word here: std does not say; use [`recvfrom`] where the
    /// program learns it.)
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let result = self.socket.recv_from(buf);
        match &result {
            Ok((n, from)) => recvfrom(&self.socket, *from, buf.len(), &buf[..*n], false, None),
            Err(err) => udp_error(&self.socket, "recvfrom", None, err),
        }
        result
    }
}

impl std::ops::Deref for TracedUdp {
    type Target = UdpSocket;
    fn deref(&self) -> &UdpSocket {
        &self.socket
    }
}

impl Drop for TracedUdp {
    fn drop(&mut self) {
        udp_close(&self.socket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(json_string("粘包"), "\"粘包\"");
    }

    #[test]
    fn an_event_line_carries_bytes_as_text_and_counts_the_rest() {
        let local: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut event = Event::new("send", "tcp", Some(local), None).bytes(&[b'x'; 70]);
        event.line.push('}');
        assert!(event.line.contains("\"ev\":\"send\""), "{}", event.line);
        assert!(
            event
                .line
                .contains("\"local\":\"127.0.0.1:1\",\"peer\":null"),
            "{}",
            event.line
        );
        assert!(event.line.contains("\"len\":70"), "{}", event.line);
        assert!(event
            .line
            .contains(&format!("\"text\":\"{}\"", "x".repeat(64))));
        assert!(event.line.ends_with(",\"more\":6}"), "{}", event.line);
    }

    #[test]
    fn the_clock_does_not_go_back() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
    }
}
