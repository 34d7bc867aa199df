//! A UDP socket of the test, every datagram recorded for the wire view.
//!
//! [`Udp`] has the calls of `std::net::UdpSocket` that move datagrams —
//! `send_to`, `recv_from`, `send`, `recv`, with the same signatures — and
//! records each one: its size, the first bytes, and, for a datagram larger
//! than the buffer it was read into, that it was truncated and how big it
//! really was (Linux tells, with `MSG_TRUNC`: the rest is gone, notes 4.4).
//! A read that times out is recorded too: on the wire it is the reply that
//! never came. Everything else (`set_read_timeout`, `set_broadcast`,
//! `local_addr`…) is the `UdpSocket`'s own, through `Deref`.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::ops::Deref;

use crate::record as wire_view;

/// A UDP socket the test sends and receives datagrams on.
pub struct Udp {
    socket: UdpSocket,
    local: SocketAddr,
    /// In non-blocking mode a recv that finds nothing is a poll, not a
    /// reply that never came: not drawn.
    nonblocking: std::cell::Cell<bool>,
}

impl Udp {
    /// Bind a UDP socket of the test to `addr`.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Udp> {
        Udp::from_socket(UdpSocket::bind(addr)?)
    }

    /// Record the datagrams of a socket made another way (socket2, for
    /// SO_REUSEADDR).
    pub fn from_socket(socket: UdpSocket) -> io::Result<Udp> {
        let local = socket.local_addr()?;
        Ok(Udp {
            socket,
            local,
            nonblocking: std::cell::Cell::new(false),
        })
    }

    /// The socket itself.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// `O_NONBLOCK` on or off (a recv that finds nothing then is no event).
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.socket.set_nonblocking(nonblocking)?;
        self.nonblocking.set(nonblocking);
        Ok(())
    }

    /// `sendto`: one datagram to `addr`.
    pub fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let Some(to) = addr.to_socket_addrs()?.next() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no address to send to",
            ));
        };
        let sent = self.socket.send_to(buf, to);
        self.record_send("sendto", to, buf, &sent);
        sent
    }

    /// `send` on a connected socket.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let sent = self.socket.send(buf);
        if let Ok(to) = self.socket.peer_addr() {
            self.record_send("sendto", to, buf, &sent);
        }
        sent
    }

    /// `recvfrom`: one datagram, at most `buf.len()` bytes of it.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let got = recv_from_truncating(&self.socket, buf);
        match &got {
            Ok((n, size, from)) => self.record_recv(*from, &buf[..*n], *size),
            Err(err) => self.record_failed_recv(None, err),
        }
        got.map(|(n, _, from)| (n, from))
    }

    /// `recv` on a connected socket.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let got = recv_from_truncating(&self.socket, buf);
        match &got {
            Ok((n, size, from)) => self.record_recv(*from, &buf[..*n], *size),
            Err(err) => self.record_failed_recv(self.socket.peer_addr().ok(), err),
        }
        got.map(|(n, _, _)| n)
    }

    fn record_send(&self, ev: &str, to: SocketAddr, buf: &[u8], sent: &io::Result<usize>) {
        match sent {
            Ok(_) => wire_view::record_datagram(ev, self.local, to, buf, None),
            Err(err) => wire_view::record_failure("error", "sendto", "udp", self.local, to, err),
        }
    }

    fn record_recv(&self, from: SocketAddr, bytes: &[u8], size: Option<usize>) {
        let truncated = size.filter(|size| *size > bytes.len());
        wire_view::record_datagram("recvfrom", self.local, from, bytes, truncated);
    }

    fn record_failed_recv(&self, peer: Option<SocketAddr>, err: &io::Error) {
        if self.nonblocking.get() && err.kind() == io::ErrorKind::WouldBlock {
            return;
        }
        let Some(peer) = peer.or_else(|| self.socket.peer_addr().ok()) else {
            // Nothing to draw it against: a timeout of an unconnected socket
            // is a row of the test's column alone.
            wire_view::record_alone("timeout", "recvfrom", "udp", self.local, err);
            return;
        };
        let ev = if matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            "timeout"
        } else {
            "error"
        };
        wire_view::record_failure(ev, "recvfrom", "udp", self.local, peer, err);
    }
}

impl Deref for Udp {
    type Target = UdpSocket;
    fn deref(&self) -> &UdpSocket {
        &self.socket
    }
}

/// recvfrom into `buf`: (bytes copied, the datagram's real size where the
/// OS tells it, sender). On Linux `MSG_TRUNC` makes recvfrom return the
/// real size even when the datagram did not fit.
fn recv_from_truncating(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, Option<usize>, SocketAddr)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let sock = socket2::SockRef::from(socket);
        // SAFETY: an initialised &mut [u8] is a valid &mut [MaybeUninit<u8>];
        // recvfrom only writes bytes into it.
        let uninit = unsafe {
            std::slice::from_raw_parts_mut(
                buf.as_mut_ptr().cast::<std::mem::MaybeUninit<u8>>(),
                buf.len(),
            )
        };
        let (size, from) = sock.recv_from_with_flags(uninit, libc::MSG_TRUNC)?;
        let from = from
            .as_socket()
            .ok_or_else(|| io::Error::other("a datagram from a non-IP address"))?;
        Ok((size.min(buf.len()), Some(size), from))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let (n, from) = socket.recv_from(buf)?;
        Ok((n, None, from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_datagram_is_recorded_with_its_size_and_truncation() {
        let a = Udp::bind("127.0.0.1:0").expect("bind");
        let b = Udp::bind("127.0.0.1:0").expect("bind");
        b.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let big = vec![b'x'; 2000];
        a.send_to(&big, b.local_addr().expect("addr"))
            .expect("send");
        let mut small = [0u8; 100];
        let (n, from) = b.recv_from(&mut small).expect("recv");
        assert_eq!(
            (n, from),
            (100, a.local_addr().expect("addr")),
            "a 2000-byte datagram read into 100 bytes: expected 100 bytes, from the sender"
        );
        let events = crate::report::with_log(|log| log.wire.clone()).unwrap_or_default();
        let sent = events
            .iter()
            .find(|e| e.ev == "sendto")
            .expect("the sendto");
        assert_eq!(sent.len, Some(2000), "the sendto's size");
        let got = events
            .iter()
            .find(|e| e.ev == "recvfrom")
            .expect("the recvfrom");
        assert_eq!(got.len, Some(100), "the recvfrom's bytes");
        if cfg!(target_os = "linux") {
            assert!(
                got.truncated && got.size == Some(2000),
                "Linux tells the real size: expected a truncated recvfrom of a 2000-byte datagram, got {got:?}"
            );
        }
    }
}
