//! A UDP socket's calls, traced: one by one, or through [`TracedUdp`].

use std::io;
use std::net::{SocketAddr, UdpSocket};

use super::{enabled, listening, stamp, Event};

/// A UDP socket's calls, traced: `sendto` and `recvfrom` carry the peer.
/// `t`: when the call was made ([`stamp`] before it).
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
        let t = stamp();
        let result = self.socket.send_to(data, to);
        sendto(&self.socket, t, to, &result, data);
        result
    }

    /// `send` on a connected socket: one datagram to its peer.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        let t = stamp();
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
