//! A TCP connection the test makes to a program: every wait has a deadline,
//! every step is logged, and a wrong or missing reply is shown byte by byte.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::report::{diff_bytes_ending, printf_arg, repro, step};
use crate::text::text;

/// How long a connection attempt may take, and how long any one read or
/// write may wait for the program.
pub const CONN_TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP connection from the test, to a server under test.
pub struct Conn {
    stream: TcpStream,
    /// What the test calls it in messages (`client 2`).
    name: String,
    peer: SocketAddr,
    local: SocketAddr,
    sent: Vec<u8>,
    timeout: Duration,
    /// Accepted by a server the test plays (no `nc` line to repeat it).
    accepted: bool,
    /// Closed already (by [`Conn::close`] or [`Conn::reset`]).
    closed: bool,
}

impl Conn {
    /// Connect to `addr` within [`CONN_TIMEOUT`]; panics with what it means
    /// if the server does not accept.
    #[track_caller]
    pub fn connect(addr: SocketAddr) -> Conn {
        Conn::connect_named(addr, "the test's connection")
    }

    /// [`Conn::connect`], called `name` in messages (`client 2`).
    #[track_caller]
    pub fn connect_named(addr: SocketAddr, name: &str) -> Conn {
        match Conn::try_connect(addr, name, CONN_TIMEOUT) {
            Ok(conn) => conn,
            Err(err) => panic!(
                "{name}: connect to {addr} failed: {err}{}",
                if err.kind() == io::ErrorKind::TimedOut {
                    format!(
                        " (no handshake within {}: the server's listen backlog is full and it does not accept)",
                        secs(CONN_TIMEOUT)
                    )
                } else {
                    String::new()
                }
            ),
        }
    }

    /// `count` connections to `addr`, named `client 0`, `client 1`…, logged
    /// as one step.
    #[track_caller]
    pub fn connect_many(addr: SocketAddr, count: usize) -> Vec<Conn> {
        step(format!(
            "open {count} connections to {addr} (client 0 … client {}); each stays open",
            count.saturating_sub(1)
        ));
        crate::report::quietly(|| {
            (0..count)
                .map(|i| Conn::connect_named(addr, &format!("client {i}")))
                .collect()
        })
    }

    /// A connection just opened (connected, or `accepted` from a client):
    /// every read and write waits at most [`CONN_TIMEOUT`], nothing sent yet.
    fn opened(stream: TcpStream, name: &str, peer: SocketAddr, accepted: bool) -> io::Result<Conn> {
        stream.set_read_timeout(Some(CONN_TIMEOUT))?;
        stream.set_write_timeout(Some(CONN_TIMEOUT))?;
        let local = stream.local_addr()?;
        Ok(Conn {
            stream,
            name: name.to_string(),
            peer,
            local,
            sent: Vec::new(),
            timeout: CONN_TIMEOUT,
            accepted,
            closed: false,
        })
    }

    /// Connect within `timeout`, or say why not.
    pub fn try_connect(addr: SocketAddr, name: &str, timeout: Duration) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        let conn = Conn::opened(stream, name, addr, false)?;
        crate::record::record("connect", conn.local, addr, None);
        step(format!("{name}: connected to {addr} from {}", conn.local));
        Ok(conn)
    }

    /// Record the conversation of a connection the test made another way.
    pub fn from_stream(stream: TcpStream, name: &str) -> io::Result<Conn> {
        let peer = stream.peer_addr()?;
        Conn::opened(stream, name, peer, false)
    }

    /// Accept the connection of `client`, a program the test started (the
    /// test plays its server); fails the test, with what the program
    /// printed, if it exits or does not connect within
    /// [`LINE_TIMEOUT`](crate::LINE_TIMEOUT).
    #[track_caller]
    pub fn accept_from(listener: &TcpListener, client: &mut crate::Running, name: &str) -> Conn {
        let deadline = Instant::now() + crate::LINE_TIMEOUT;
        loop {
            match Conn::accept(listener, name, Duration::from_millis(50)) {
                Ok(conn) => return conn,
                Err(err) if err.kind() == io::ErrorKind::TimedOut => {}
                Err(err) => panic!("{name}: accept: {err}"),
            }
            if !client.is_running() {
                panic!(
                    "{name}: the program exited without connecting to the test's server\n{}",
                    client.describe()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{name}: the program did not connect within {}\n{}",
                    secs(crate::LINE_TIMEOUT),
                    client.describe()
                );
            }
        }
    }

    /// Accept one connection on `listener` (a server the test plays),
    /// waiting up to `timeout`; `name` is what messages call it.
    pub fn accept(listener: &TcpListener, name: &str, timeout: Duration) -> io::Result<Conn> {
        listener.set_nonblocking(true)?;
        let deadline = Instant::now() + timeout;
        let (stream, peer) = loop {
            match listener.accept() {
                Ok(accepted) => break accepted,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("nobody connected within {}", secs(timeout)),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        };
        stream.set_nonblocking(false)?;
        let conn = Conn::opened(stream, name, peer, true)?;
        crate::record::record("accept", conn.local, peer, None);
        step(format!("{name}: accepted {peer} on {}", conn.local));
        Ok(conn)
    }

    /// How long each read waits from now on (default [`CONN_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        let _ = self.stream.set_read_timeout(Some(timeout));
    }

    /// The test's end of the connection (`127.0.0.1:51234`): the PEER the
    /// server logs.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The socket itself, for what this type does not cover (SO_LINGER…).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Send all of `bytes` (panics if the server does not take them within
    /// the deadline).
    #[track_caller]
    pub fn send(&mut self, bytes: &[u8]) {
        step(format!(
            "{}: sent {} bytes: {}",
            self.name,
            bytes.len(),
            shown(bytes)
        ));
        self.sent.extend_from_slice(bytes);
        if !self.accepted && self.sent.len() <= 200 {
            // One line per connection, with all it sent so far; `sleep`
            // keeps the connection open the way the test does.
            let old = self.repro_line(&self.sent[..self.sent.len() - bytes.len()]);
            let new = self.repro_line(&self.sent);
            crate::report::replace_repro(&old, new.clone());
            repro(new);
        }
        crate::record::record("send", self.local, self.peer, Some(bytes));
        if let Err(err) = self.stream.write_all(bytes) {
            crate::record::record_error("send", self.local, self.peer, &err);
            panic!(
                "{}: sending {} bytes to {} failed: {err}{}",
                self.name,
                bytes.len(),
                self.peer,
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) {
                    " (the server stopped reading: its receive buffer and ours are full)"
                } else {
                    ""
                }
            );
        }
    }

    /// Send all of `bytes`, or say why not (for a helper thread, where a
    /// panic would not fail the test by itself).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        step(format!(
            "{}: sent {} bytes: {}",
            self.name,
            bytes.len(),
            shown(bytes)
        ));
        crate::record::record("send", self.local, self.peer, Some(bytes));
        let result = self.stream.write_all(bytes);
        if let Err(err) = &result {
            crate::record::record_error("send", self.local, self.peer, err);
        }
        result
    }

    /// One recv of up to `max` bytes, as it comes: empty when the peer has
    /// closed its side (its FIN); an error on a deadline or a reset.
    pub fn recv_some(&mut self, max: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; max];
        let _ = self.stream.set_read_timeout(Some(self.timeout));
        loop {
            let read = self.stream.read(&mut buf);
            self.wire_read(&read, &buf);
            match read {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Close the connection now (FIN), as the test's own step: the
    /// program's next recv on it returns empty.
    pub fn close(mut self) {
        step(format!("{}: closed the connection (FIN)", self.name));
        self.closed = true;
        crate::record::record_close(self.local, self.peer, false);
        // Dropping the stream closes it.
    }

    /// Close the connection with RST instead of FIN (`SO_LINGER` 0): the
    /// program's next recv on it fails with "connection reset".
    pub fn reset(mut self) {
        let socket = socket2::SockRef::from(&self.stream);
        let _ = socket.set_linger(Some(Duration::ZERO));
        step(format!(
            "{}: closed {} with RST (SO_LINGER 0)",
            self.name, self.local
        ));
        self.closed = true;
        crate::record::record_close(self.local, self.peer, true);
    }

    fn repro_line(&self, sent: &[u8]) -> String {
        let host = match self.peer {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => v6.ip().to_string(),
        };
        format!(
            "(printf {}; sleep 10) | nc {host} {}",
            printf_arg(sent),
            self.peer.port()
        )
    }

    /// Read exactly `len` bytes; on a deadline or an early close, return what
    /// came and why it stopped.
    pub fn recv_exactly(&mut self, len: usize) -> Result<Vec<u8>, (Vec<u8>, String)> {
        let deadline = Instant::now() + self.timeout;
        let mut got = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                got.truncate(filled);
                return Err((
                    got,
                    format!("nothing more came within {}", secs(self.timeout)),
                ));
            }
            let _ = self.stream.set_read_timeout(Some(left));
            let read = self.stream.read(&mut got[filled..]);
            self.wire_read(&read, &got[filled..]);
            match read {
                Ok(0) => {
                    got.truncate(filled);
                    return Err((got, "the server closed the connection".to_string()));
                }
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    got.truncate(filled);
                    return Err((
                        got,
                        format!("nothing more came within {}", secs(self.timeout)),
                    ));
                }
                Err(err) => {
                    got.truncate(filled);
                    return Err((got, format!("the read failed: {err}")));
                }
            }
        }
        Ok(got)
    }

    /// Expect exactly `expected` back (the bytes and nothing missing); panics
    /// with both, a marker at the first byte that differs, and `hint`.
    #[track_caller]
    pub fn expect(&mut self, expected: &[u8], hint: &str) {
        let result = self.recv_exactly(expected.len());
        let (got, why) = match result {
            Ok(got) if got == expected => {
                step(format!(
                    "{}: received {} bytes: {}",
                    self.name,
                    got.len(),
                    shown(&got)
                ));
                return;
            }
            Ok(got) => (got, String::new()),
            Err((got, why)) => (got, format!("; then {why}")),
        };
        step(format!(
            "{}: received {} bytes: {}{why}",
            self.name,
            got.len(),
            shown(&got)
        ));
        let ends = if why.contains("closed") {
            "got ends there: the server closed the connection"
        } else if why.is_empty() {
            "got ends there"
        } else {
            "nothing more came, and the connection stayed open"
        };
        let shown = if got.is_empty() {
            format!("  expected: {}\n  got nothing", shown(expected))
        } else {
            diff_bytes_ending(expected, &got, ends)
        };
        panic!(
            "{}: expected {} bytes back from {}, got {}{why}\n{shown}{}",
            self.name,
            expected.len(),
            self.peer,
            got.len(),
            if hint.is_empty() {
                String::new()
            } else {
                format!("\nHint: {hint}")
            }
        );
    }

    /// `shutdown(how)`, recorded (a shutdown of the writing side is the FIN
    /// the program reads as an empty recv).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let result = self.stream.shutdown(how);
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            crate::record::record_shutdown(self.local, self.peer);
        }
        result
    }

    /// Send `pieces`, one `write_all` each, logged as one step (with an
    /// `nc` line to repeat it by hand): how a test sends several messages
    /// that may arrive merged, or one message cut in pieces.
    #[track_caller]
    pub fn send_pieces(&mut self, pieces: &[&[u8]]) {
        let all: Vec<u8> = pieces.concat();
        let listed: Vec<String> = pieces
            .iter()
            .take(8)
            .map(|p| format!("\"{}\"", text(&p[..p.len().min(80)])))
            .collect();
        step(format!(
            "{}: sent {} bytes in {} write call(s): {}{}",
            self.name,
            all.len(),
            pieces.len(),
            listed.join(", "),
            if pieces.len() > 8 { ", …" } else { "" }
        ));
        if !self.accepted && self.sent.len() + all.len() <= 200 {
            let old = self.repro_line(&self.sent);
            self.sent.extend_from_slice(&all);
            let new = self.repro_line(&self.sent);
            crate::report::replace_repro(&old, new.clone());
            repro(new);
        }
        for piece in pieces {
            crate::record::record("send", self.local, self.peer, Some(piece));
            if let Err(err) = self.stream.write_all(piece) {
                crate::record::record_error("send", self.local, self.peer, &err);
                panic!(
                    "{}: sending {} bytes failed: {err}{}",
                    self.name,
                    piece.len(),
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) {
                        " (the program had still not read enough of what came before: its receive buffer and ours are full)"
                    } else {
                        ""
                    }
                );
            }
        }
    }

    /// Half-close: send FIN, so the server's recv returns empty.
    pub fn shutdown_write(&mut self) {
        step(format!("{}: closed its sending side (FIN)", self.name));
        let _ = self.stream.shutdown(Shutdown::Write);
        crate::record::record_shutdown(self.local, self.peer);
    }

    /// Wait for the server to close its side: end of file (anything that
    /// comes first is returned as the error).
    #[track_caller]
    pub fn expect_close(&mut self, what: &str) {
        let mut rest = Vec::new();
        let deadline = Instant::now() + self.timeout;
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "{}: {what}: expected the server to close the connection within {}; it stayed open{}",
                    self.name,
                    secs(self.timeout),
                    if rest.is_empty() {
                        String::new()
                    } else {
                        format!(" and sent {}", shown(&rest))
                    }
                );
            }
            let _ = self.stream.set_read_timeout(Some(left));
            let read = self.stream.read(&mut chunk);
            self.wire_read(&read, &chunk);
            match read {
                Ok(0) => {
                    step(format!("{}: the server closed the connection", self.name));
                    return;
                }
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(err) => {
                    step(format!("{}: the connection ended: {err}", self.name));
                    return;
                }
            }
        }
    }
}

/// Reads and writes through `std::io`, each one recorded for the wire view
/// (a test's own `read_to_end`, `write_all`…).
impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.stream.read(buf);
        self.wire_read(&read, buf);
        read
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.stream.write(buf);
        match &written {
            Ok(n) => crate::record::record("send", self.local, self.peer, Some(&buf[..*n])),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => crate::record::record_error("send", self.local, self.peer, err),
        }
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The rest of `TcpStream` (`set_nodelay`, `peer_addr`…). Reads, writes,
/// `shutdown` and `local_addr` are `Conn`'s own.
impl std::ops::Deref for Conn {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl Drop for Conn {
    /// The test is done with it: the close goes into the wire view (the
    /// FIN the program reads as an empty recv).
    fn drop(&mut self) {
        if !self.closed {
            crate::record::record_close(self.local, self.peer, false);
        }
    }
}

impl Conn {
    /// One read, for the wire view: the bytes it returned (0: the server's
    /// FIN), or the error (a reset is drawn as RST). A timeout is no event.
    fn wire_read(&self, read: &io::Result<usize>, buf: &[u8]) {
        match read {
            Ok(n) => crate::record::record("recv", self.local, self.peer, Some(&buf[..*n])),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                ) => {}
            Err(err) => crate::record::record_error("recv", self.local, self.peer, err),
        }
    }
}

/// A duration for people: `10 s`, `2.5 s`.
fn secs(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if (secs - secs.round()).abs() < 0.05 {
        format!("{} s", secs.round())
    } else {
        format!("{secs:.1} s")
    }
}

/// Bytes for a step: by the TEXT rule, in quotes, shortened past 120 bytes.
fn shown(bytes: &[u8]) -> String {
    if bytes.len() <= 120 {
        format!("\"{}\"", text(bytes))
    } else {
        format!("\"{}\"… ({} bytes)", text(&bytes[..120]), bytes.len())
    }
}
