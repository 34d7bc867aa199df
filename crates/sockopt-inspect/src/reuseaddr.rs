//! `reuseaddr-demo`: why the notes set SO_REUSEADDR (notes 6.5:
//! `s.setsockopt(SOL_SOCKET,SO_REUSEADDR,1)` — "可以立即对使用的端口重新使用",
//! the port can be used again at once).
//!
//! A server accepts one connection and closes it first. The side that closes
//! first (the "active close") keeps the connection in TIME_WAIT for 2 × MSL
//! (60 s on Linux) after its program has let go, so that a late duplicate
//! segment of the old connection cannot be taken for part of a new one.
//! While that entry exists, a new socket cannot bind the port — unless it
//! sets SO_REUSEADDR, which lets it bind past connections in TIME_WAIT (but
//! never past a live listener).
//!
//! ```text
//! cargo run -p sockopt-inspect -- reuseaddr-demo                  # server closes first
//! cargo run -p sockopt-inspect -- reuseaddr-demo --closer client  # client closes first
//! cargo run -p sockopt-inspect -- reuseaddr-demo --first-without-reuseaddr
//! ```
//!
//! On Linux the kernel's own table (`/proc/net/tcp`, what `ss -tan` reads)
//! is printed in between, so you see who holds TIME_WAIT.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use socket2::{Domain, Protocol, Socket, Type};

/// Which side of the connection calls close first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Closer {
    /// The server closes first and its port is left in TIME_WAIT.
    Server,
    /// The client closes first: TIME_WAIT lands on the client's port.
    Client,
}

/// How long a read may wait for the other side's close on loopback.
const CLOSE_WAIT_LIMIT: Duration = Duration::from_secs(5);

fn tcp_socket(addr: SocketAddr) -> std::io::Result<Socket> {
    Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
}

/// The OS's reason without Rust's " (os error 98)" tail, so the line reads
/// exactly `bind ADDR failed: Address already in use`.
fn reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) if err.raw_os_error().is_some() => text[..at].to_string(),
        _ => text,
    }
}

/// Read until the peer's FIN: recv returns 0 bytes once the other side has
/// closed (lesson 1).
fn read_to_eof(stream: &mut TcpStream, who: &str) -> anyhow::Result<()> {
    stream
        .set_read_timeout(Some(CLOSE_WAIT_LIMIT))
        .with_context(|| format!("{who}: set SO_RCVTIMEO"))?;
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(err) => return Err(err).with_context(|| format!("{who}: recv")),
        }
    }
}

pub fn run(bind: SocketAddr, closer: Closer, first_reuses: bool) -> anyhow::Result<()> {
    let (listener, addr) = first_server(bind, first_reuses)?;
    let client = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    let (conn, _) = listener
        .accept()
        .with_context(|| format!("accept {addr}"))?;
    let conn: TcpStream = conn.into();
    let client_addr = client
        .local_addr()
        .with_context(|| format!("getsockname of the client of {addr}"))?;
    common::say!("server: accepted a connection from {client_addr}");
    // Only the connection shall hold the port from here on: a live listener
    // would make the binds below fail for another reason.
    drop(listener);
    common::say!("server: closed the listening socket");
    close_connection(closer, client, conn)?;
    show_kernel_states(addr, client_addr, closer);
    restart(addr)
}

/// The first server, set up the notes' way: SO_REUSEADDR before bind.
/// Linux lets a new socket bind past a TIME_WAIT entry only if the old
/// socket had SO_REUSEADDR too (the entry remembers it), which
/// `--first-without-reuseaddr` shows. Returns the listener and its address.
fn first_server(bind: SocketAddr, first_reuses: bool) -> anyhow::Result<(Socket, SocketAddr)> {
    let listener = tcp_socket(bind).with_context(|| format!("socket {bind}"))?;
    listener
        .set_reuse_address(first_reuses)
        .with_context(|| format!("setsockopt SO_REUSEADDR {bind}"))?;
    listener
        .bind(&bind.into())
        .with_context(|| format!("bind {bind}"))?;
    listener
        .listen(1)
        .with_context(|| format!("listen {bind}"))?;
    let addr = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .with_context(|| format!("getsockname {bind}"))?;
    if first_reuses {
        common::say!("server: listening on {addr} (SO_REUSEADDR on, as in the notes)");
    } else {
        common::say!("server: listening on {addr} (SO_REUSEADDR off)");
    }
    Ok((listener, addr))
}

/// One side closes first (the active close: its FIN goes first, and its
/// side of the connection ends in TIME_WAIT), the other reads EOF and
/// closes too.
fn close_connection(
    closer: Closer,
    mut client: TcpStream,
    mut conn: TcpStream,
) -> anyhow::Result<()> {
    match closer {
        Closer::Server => {
            drop(conn);
            common::say!("server: closed the connection first (active close: sends FIN)");
            read_to_eof(&mut client, "client")?;
            drop(client);
            common::say!("client: recv returned 0 bytes (the server closed), closed too");
        }
        Closer::Client => {
            drop(client);
            common::say!("client: closed the connection first (active close: sends FIN)");
            read_to_eof(&mut conn, "server")?;
            drop(conn);
            common::say!("server: recv returned 0 bytes (the client closed), closed too");
        }
    }
    Ok(())
}

/// The restarted server, first without SO_REUSEADDR, then with it.
fn restart(addr: SocketAddr) -> anyhow::Result<()> {
    let plain = tcp_socket(addr).with_context(|| format!("socket {addr}"))?;
    match plain.bind(&addr.into()) {
        Ok(()) => common::say!("without SO_REUSEADDR: bind {addr} ok"),
        Err(err) => common::say!("without SO_REUSEADDR: bind {addr} failed: {}", reason(&err)),
    }
    drop(plain);

    let reusing = tcp_socket(addr).with_context(|| format!("socket {addr}"))?;
    reusing
        .set_reuse_address(true)
        .with_context(|| format!("setsockopt SO_REUSEADDR {addr}"))?;
    match reusing.bind(&addr.into()) {
        Ok(()) => {
            common::say!("with SO_REUSEADDR: bind {addr} ok");
            match reusing.listen(1) {
                Ok(()) => common::say!(
                    "with SO_REUSEADDR: listen {addr} ok: the restarted server serves again at once"
                ),
                Err(err) => {
                    common::say!("with SO_REUSEADDR: listen {addr} failed: {}", reason(&err))
                }
            }
        }
        Err(err) => common::say!("with SO_REUSEADDR: bind {addr} failed: {}", reason(&err)),
    }
    Ok(())
}

/// Print the kernel's entries for this connection once they have settled:
/// the closer's side in TIME_WAIT, the other side gone (its LAST_ACK ends as
/// soon as the final ACK arrives, which on loopback is at once).
#[cfg(target_os = "linux")]
fn show_kernel_states(server: SocketAddr, client: SocketAddr, closer: Closer) {
    use crate::tcp_states::{self, Entry};
    use std::time::Instant;

    // This connection's two ends only: an ephemeral port may also appear in
    // older TIME_WAIT entries towards other peers.
    let ours = |e: &Entry| {
        (e.local == server && e.remote == client) || (e.local == client && e.remote == server)
    };
    let settled = |entries: &[Entry]| {
        let (closer_addr, other_addr) = match closer {
            Closer::Server => (server, client),
            Closer::Client => (client, server),
        };
        entries
            .iter()
            .any(|e| e.local == closer_addr && e.state == "TIME_WAIT")
            && !entries.iter().any(|e| e.local == other_addr)
    };
    // Poll the kernel's table (not a blind sleep): a few milliseconds on
    // loopback, a bounded wait on a loaded machine.
    let deadline = Instant::now() + CLOSE_WAIT_LIMIT;
    let mut entries: Vec<Entry>;
    loop {
        entries = match tcp_states::read() {
            Ok(all) => all.into_iter().filter(|e| ours(e)).collect(),
            Err(err) => {
                common::say!("kernel: cannot read /proc/net/tcp: {err}");
                return;
            }
        };
        if settled(&entries) || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    if entries.is_empty() {
        common::say!("kernel: no TCP socket left for {server} or {client}");
    }
    for e in &entries {
        let left = e
            .time_wait_left
            .map(|s| format!(", {s:.0} s left"))
            .unwrap_or_default();
        common::say!(
            "kernel: {} -> {} {}{left} (/proc/net/tcp)",
            e.local,
            e.remote,
            e.state
        );
    }
    for side in [server, client] {
        if !entries.iter().any(|e| e.local == side) {
            common::say!("kernel: nothing holds {side} any more");
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn show_kernel_states(server: SocketAddr, _client: SocketAddr, _closer: Closer) {
    common::say!(
        "kernel: TCP states are read from /proc/net/tcp on Linux only; here try `netstat -an | grep {}`",
        server.port()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_drops_the_os_error_number() {
        let err = std::io::Error::from_raw_os_error(libc::EADDRINUSE);
        let text = reason(&err);
        assert!(!text.contains("os error"), "{text}");
        assert!(!text.is_empty());
        let custom = std::io::Error::other("plain");
        assert_eq!(reason(&custom), "plain");
    }
}
