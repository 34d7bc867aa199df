//! Receiving broadcasts: bind the port on every address, share it, recvfrom.
//!
//! A broadcast datagram's destination is the broadcast address
//! (127.255.255.255, 10.200.0.255, 255.255.255.255), not any one host's own
//! address. The kernel hands it to every socket bound to its port whose
//! bound address is 0.0.0.0 (any) or that broadcast address. A socket bound
//! to 127.0.0.1 only matches datagrams sent to 127.0.0.1: it never sees a
//! broadcast, even though it sits on the same port of the same host.
//!
//! Receiving needs no SO_BROADCAST: that option only unlocks *sending* to a
//! broadcast address (the notes suggest otherwise; lesson 7 corrects them).
//!
//! Sharing the port: a second `bind` to a port already in use fails with
//! "Address already in use" — unless every socket on it set SO_REUSEADDR
//! first. On Linux that is all UDP needs, and a broadcast (or multicast)
//! datagram is then delivered to *each* socket on the port, while a unicast
//! one goes to just one of them. The BSDs and macOS allow the shared bind
//! only with SO_REUSEPORT, so it is set there too.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::{anyhow, Context};
use common::{announce_listening, say, show_bytes};
use socket2::{Domain, Protocol, Socket, Type};

use crate::Args;

/// Big enough for the largest UDP datagram, so none is ever cut short.
const RECV_BUFFER: usize = 65_536;

/// Bind, announce, then log every datagram until `--count` or `--timeout`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    // With --trace, its bind and every recvfrom are logged.
    let socket = common::trace::TracedUdp::bound(bind_shared(args.bind)?);
    let local = socket
        .local_addr()
        .with_context(|| format!("getsockname {}", args.bind))?;
    if let Some(ms) = args.timeout {
        // SO_RCVTIMEO: each recvfrom gives up after this long, so the clock
        // starts again after every datagram.
        socket
            .set_read_timeout(Some(Duration::from_millis(ms)))
            .with_context(|| format!("setsockopt SO_RCVTIMEO {local}"))?;
    }
    announce_listening(local);
    // region: recvfrom-loop — recv_from into a 64 KiB buffer until --count datagrams: log `from PEER: TEXT`; a read timeout (WouldBlock/TimedOut) is the error `timeout on ADDR: no datagram arrived within MS ms (received N so far)`
    let mut buf = vec![0u8; RECV_BUFFER];
    let mut received: u64 = 0;
    while args.count != Some(received) {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                say!("from {peer}: {}", show_bytes(&buf[..n]));
                received += 1;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // The timeout shows up as EAGAIN on Unix, as a timeout on Windows.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let ms = args.timeout.unwrap_or_default();
                return Err(anyhow!(
                    "no datagram arrived within {ms} ms (received {received} so far)"
                ))
                .context(format!("timeout on {local}"));
            }
            Err(err) => return Err(err).context(format!("recvfrom {local}")),
        }
    }
    Ok(())
    // endregion: recvfrom-loop
}

/// A UDP socket bound to `addr` that other receivers may bind too.
pub fn bind_shared(addr: SocketAddr) -> anyhow::Result<UdpSocket> {
    // region: bind-shared — socket2 Socket::new(Domain::for_address(addr), DGRAM, UDP); set_reuse_address(true) BEFORE bind, so other receivers can bind the port too; bind; return it as a UdpSocket
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .with_context(|| format!("socket {addr}"))?;
    socket
        .set_reuse_address(true)
        .with_context(|| format!("setsockopt SO_REUSEADDR {addr}"))?;
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))]
    socket
        .set_reuse_port(true)
        .with_context(|| format!("setsockopt SO_REUSEPORT {addr}"))?;
    socket
        .bind(&addr.into())
        .with_context(|| format!("bind {addr}"))?;
    Ok(socket.into())
    // endregion: bind-shared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_receivers_can_bind_the_same_port() {
        let first = bind_shared("0.0.0.0:0".parse().unwrap()).unwrap();
        let port = first.local_addr().unwrap().port();
        let second = bind_shared(SocketAddr::from(([0, 0, 0, 0], port)));
        assert!(second.is_ok(), "second bind on port {port}: {second:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_plain_socket_cannot_join_a_shared_port() {
        // SO_REUSEADDR must be on every socket of the port, not just one.
        let first = bind_shared("0.0.0.0:0".parse().unwrap()).unwrap();
        let port = first.local_addr().unwrap().port();
        let plain = UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], port)));
        assert!(plain.is_err(), "a bind without SO_REUSEADDR succeeded");
    }
}
