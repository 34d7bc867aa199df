//! Addresses, listeners and connections, the way every program here wants them.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};

use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};

/// How many finished handshakes the kernel may queue before `accept` takes
/// them. Linux silently caps it at `net.core.somaxconn` (4096 on current
/// kernels); a generous backlog lets a burst of clients connect at once
/// instead of waiting for SYN retries.
pub const LISTEN_BACKLOG: i32 = 4096;

/// Parse a socket address from the command line: `127.0.0.1:9001`,
/// `[::1]:9001`, or `localhost:9001` (taken as 127.0.0.1 — no name lookup).
///
/// Used as a clap `value_parser`, so a bad address is a usage error (exit 2).
pub fn parse_socket_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        }
    }
    Err(format!(
        "'{text}' is not a socket address: expected IP:PORT, such as 127.0.0.1:9001 or [::1]:9001 (port 0-65535)"
    ))
}

/// Create a listening TCP socket on `addr`: socket, bind, listen.
///
/// SO_REUSEADDR is set first (lesson 6): without it, a server restarted while
/// its old connections sit in TIME_WAIT could not bind its port again. It does
/// *not* let two live servers share a port: that bind still fails with
/// "Address already in use". (Windows gives SO_REUSEADDR another, unsafe
/// meaning, so it is left off there, as Rust's standard library does.)
pub fn tcp_listen(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    // region: socket-bind-listen
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .with_context(|| format!("socket {addr}"))?;
    #[cfg(not(windows))]
    socket
        .set_reuse_address(true)
        .with_context(|| format!("setsockopt SO_REUSEADDR {addr}"))?;
    socket
        .bind(&addr.into())
        .with_context(|| format!("bind {addr}"))?;
    socket
        .listen(LISTEN_BACKLOG)
        .with_context(|| format!("listen {addr}"))?;
    Ok(socket.into())
    // endregion: socket-bind-listen
}

/// Bind a UDP socket on `addr` (no listen, no accept: lesson 3).
pub fn udp_bind(addr: SocketAddr) -> anyhow::Result<UdpSocket> {
    UdpSocket::bind(addr).with_context(|| format!("bind {addr}"))
}

/// Connect a TCP socket to `addr` (the three-way handshake happens here).
pub fn tcp_connect(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    TcpStream::connect(addr)
        .inspect_err(|err| crate::trace::failed("connect", "tcp", None, Some(addr), err))
        .with_context(|| format!("connect {addr}"))
}

/// Print `listening on ADDR` with the address the socket really has — with
/// port 0 the OS picks the port, and only `getsockname` knows which
/// (README, "Conventions", rule 2). Tests wait for this line.
pub fn announce_listening(addr: SocketAddr) {
    crate::say!("listening on {addr}");
}

/// Raise this process's open-file soft limit to its hard limit and return the
/// new soft limit.
///
/// Every socket is a file descriptor, and many shells start programs with a
/// soft limit of 1024: a server holding 10,000 clients would fail in `accept`
/// with "Too many open files" long before memory runs out. The hard limit is
/// the ceiling an unprivileged process may raise itself to.
#[cfg(unix)]
pub fn raise_fd_limit() -> std::io::Result<u64> {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            // macOS refuses a soft limit above OPEN_MAX even when the hard
            // limit says "unlimited"; keep what we had if the kernel says no.
            let wanted = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                limit = wanted;
            }
        }
        // rlim_t is u64 on Linux and macOS but not on every Unix.
        #[allow(clippy::unnecessary_cast)]
        Ok(limit.rlim_cur as u64)
    }
}

/// Elsewhere there is no such per-process limit to raise.
#[cfg(not(unix))]
pub fn raise_fd_limit() -> std::io::Result<u64> {
    Ok(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_ipv6_and_localhost() {
        assert_eq!(
            parse_socket_addr("127.0.0.1:9001"),
            Ok("127.0.0.1:9001".parse().unwrap())
        );
        assert_eq!(parse_socket_addr("[::1]:0"), Ok("[::1]:0".parse().unwrap()));
        assert_eq!(
            parse_socket_addr("localhost:80"),
            Ok("127.0.0.1:80".parse().unwrap())
        );
    }

    #[test]
    fn rejects_bad_addresses_with_a_hint() {
        for bad in [
            "",
            "127.0.0.1",
            "127.0.0.1:65536",
            "::1:80",
            "example:80",
            "localhost:x",
        ] {
            let err = parse_socket_addr(bad).unwrap_err();
            assert!(err.contains("expected IP:PORT"), "{bad}: {err}");
        }
    }

    #[test]
    fn listener_on_port_zero_reports_the_real_port() {
        let listener = tcp_listen("127.0.0.1:0".parse().unwrap()).unwrap();
        assert_ne!(listener.local_addr().unwrap().port(), 0);
    }

    #[test]
    fn second_listener_on_a_live_port_fails_with_the_address() {
        let first = tcp_listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let err = tcp_listen(addr).unwrap_err();
        assert!(
            format!("{err:#}").starts_with(&format!("bind {addr}: ")),
            "{err:#}"
        );
    }
}
