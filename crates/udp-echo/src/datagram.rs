//! Datagrams: receiving one (and noticing when it did not fit), and how large
//! one may be.
//!
//! `recvfrom(bufsize)` takes exactly one datagram off the socket's queue,
//! whatever its size. If the datagram is larger than `bufsize`, the first
//! `bufsize` bytes are returned and **the rest is discarded** — it is not kept
//! for the next call, as it would be on a TCP stream (notes 4.4, "如果数据包的
//! 大小超过recvfrom的设置大小则会出现数据丢失"). Python's `recvfrom` does not
//! even tell you it happened. The kernel knows, though:
//!
//! * on Linux, the `MSG_TRUNC` flag makes `recvfrom` return the datagram's
//!   *real* length instead of the number of bytes copied, so we can say
//!   "datagram was 2000 bytes";
//! * elsewhere, `recvmsg` sets `MSG_TRUNC` in the returned flags (Windows
//!   reports `WSAEMSGSIZE`), so we know bytes were lost but not how many.

use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, UdpSocket};

use socket2::SockRef;

/// Largest receive buffer the programs accept: more than any UDP datagram's
/// payload (65,507 bytes over IPv4, 65,527 over IPv6).
pub const MAX_BUF_SIZE: u32 = 65_536;

/// Largest UDP payload over IPv4: the IPv4 header's 16-bit Total Length
/// counts the whole packet, so 65,535 − 20 (IPv4 header) − 8 (UDP header).
pub const MAX_PAYLOAD_V4: usize = 65_535 - 20 - 8;

/// Largest UDP payload over IPv6 (without jumbograms): the 16-bit UDP Length
/// field counts its own 8-byte header, so 65,535 − 8. (IPv6's Payload Length
/// does not count the 40-byte IPv6 header, so that header costs nothing.)
pub const MAX_PAYLOAD_V6: usize = 65_535 - 8;

/// The largest payload one UDP datagram to `addr` can carry, and a short
/// explanation of where the number comes from.
pub fn max_payload(addr: SocketAddr) -> (usize, &'static str) {
    let over_ipv4 = match addr {
        SocketAddr::V4(_) => true,
        // [::ffff:127.0.0.1] is an IPv4 address written the IPv6 way: the
        // packets on the wire are IPv4 ones.
        SocketAddr::V6(v6) => v6.ip().to_ipv4_mapped().is_some(),
    };
    if over_ipv4 {
        (
            MAX_PAYLOAD_V4,
            "IPv4: 65535 (Total Length, 16 bits) - 20 (IPv4 header) - 8 (UDP header)",
        )
    } else {
        (
            MAX_PAYLOAD_V6,
            "IPv6: 65535 (UDP Length, 16 bits) - 8 (UDP header)",
        )
    }
}

/// What happened to the part of a datagram that did not fit the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The whole datagram fitted.
    Whole,
    /// The datagram was this many bytes; only the buffer's worth was kept.
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Truncated(usize),
    /// The datagram was larger than the buffer; this OS does not say by how much.
    #[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
    TruncatedUnknownSize,
}

impl Fit {
    /// The note appended to a log line: empty, or
    /// ` (truncated: datagram was 2000 bytes)`.
    pub fn note(self) -> String {
        match self {
            Fit::Whole => String::new(),
            Fit::Truncated(real) => format!(" (truncated: datagram was {real} bytes)"),
            Fit::TruncatedUnknownSize => {
                " (truncated: datagram was larger than the buffer; this OS does not report its real size, Linux does)".to_string()
            }
        }
    }
}

/// One received datagram: the bytes that fitted, whether that was all of
/// it, and who sent it.
pub struct Received<'a> {
    pub data: &'a [u8],
    pub fit: Fit,
    pub peer: SocketAddr,
}

/// A receive buffer of a fixed size: the `BUFFERSIZE` of `recvfrom(BUFFERSIZE)`.
pub struct RecvBuf {
    // socket2 takes `MaybeUninit` bytes so that a buffer need not be zeroed
    // first; ours is zeroed once, at creation, and reused.
    buf: Vec<MaybeUninit<u8>>,
}

impl RecvBuf {
    pub fn new(size: usize) -> RecvBuf {
        RecvBuf {
            buf: vec![MaybeUninit::new(0); size],
        }
    }

    /// `recvfrom`: wait for one datagram (up to the socket's read timeout, if
    /// it has one) and report what fitted and what was lost.
    pub fn recv_from(&mut self, socket: &UdpSocket) -> io::Result<Received<'_>> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let received = recv_real_size(SockRef::from(socket), &mut self.buf);
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let received = recv_flagged(SockRef::from(socket), &mut self.buf);
        let (copied, fit, peer) =
            received.inspect_err(|err| common::trace::udp_error(socket, "recvfrom", None, err))?;
        let peer = peer.as_socket().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "sender is not an IP address")
        })?;
        let copied = copied.min(self.buf.len());
        // SAFETY: every element of `buf` was initialised (to 0) when it was
        // created, and the kernel only ever writes whole bytes into it, so
        // all of it — in particular the first `copied` bytes — is initialised.
        let data = unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), copied) };
        // --trace: what fitted, and whether (and how much) was cut.
        let (truncated, real) = match fit {
            Fit::Whole => (false, None),
            Fit::Truncated(real) => (true, Some(real)),
            Fit::TruncatedUnknownSize => (true, None),
        };
        common::trace::recvfrom(socket, peer, self.buf.len(), data, truncated, real);
        Ok(Received { data, fit, peer })
    }
}

/// Linux: `recvfrom(..., MSG_TRUNC)` returns the datagram's real length, which
/// may exceed the buffer; the kernel copied only what fitted.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_real_size(
    socket: SockRef<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> io::Result<(usize, Fit, socket2::SockAddr)> {
    // region: truncation-check — recv_from_with_flags(buf, MSG_TRUNC) returns the datagram's real size; more than buf.len() means it was cut: Fit::Truncated(real), else Fit::Whole
    let (real, peer) = socket.recv_from_with_flags(buf, libc::MSG_TRUNC)?;
    if real > buf.len() {
        Ok((buf.len(), Fit::Truncated(real), peer))
    } else {
        Ok((real, Fit::Whole, peer))
    }
    // endregion: truncation-check
}

/// Elsewhere: `recvmsg` flags the loss (MSG_TRUNC, or WSAEMSGSIZE on
/// Windows) but the real size is gone with the bytes. (Compiled everywhere,
/// so that its unit test runs on Linux too.)
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn recv_flagged(
    socket: SockRef<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> io::Result<(usize, Fit, socket2::SockAddr)> {
    let mut bufs = [socket2::MaybeUninitSlice::new(buf)];
    let (copied, flags, peer) = socket.recv_from_vectored(&mut bufs)?;
    let fit = if flags.is_truncated() {
        Fit::TruncatedUnknownSize
    } else {
        Fit::Whole
    };
    Ok((copied, fit, peer))
}

/// `size` bytes of readable filler for `--size`: `0123456789abcdef…`, so a
/// capture or an echo shows where a cut fell.
pub fn filler(size: usize) -> Vec<u8> {
    const PATTERN: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    PATTERN.iter().copied().cycle().take(size).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_limits_follow_the_header_arithmetic() {
        assert_eq!(max_payload("127.0.0.1:9003".parse().unwrap()).0, 65_507);
        assert_eq!(max_payload("[::1]:9003".parse().unwrap()).0, 65_527);
        assert_eq!(
            max_payload("[::ffff:127.0.0.1]:9003".parse().unwrap()).0,
            65_507,
            "an IPv4-mapped address travels as IPv4"
        );
    }

    #[test]
    fn notes_name_the_real_size_or_admit_it_is_unknown() {
        assert_eq!(Fit::Whole.note(), "");
        assert_eq!(
            Fit::Truncated(2000).note(),
            " (truncated: datagram was 2000 bytes)"
        );
        assert!(Fit::TruncatedUnknownSize.note().contains("does not report"));
    }

    #[test]
    fn filler_has_the_asked_size() {
        assert_eq!(filler(0), b"");
        assert_eq!(&filler(40)[34..], b"yz0123");
        assert_eq!(filler(65_507).len(), 65_507);
    }

    #[test]
    fn a_datagram_larger_than_the_buffer_loses_its_tail() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        sender.send_to(&filler(100), to).unwrap();
        sender.send_to(b"next", to).unwrap();
        let mut buf = RecvBuf::new(10);
        let got = buf.recv_from(&receiver).unwrap();
        assert_eq!(got.data, b"0123456789");
        assert_eq!(got.peer, sender.local_addr().unwrap());
        if cfg!(target_os = "linux") {
            assert_eq!(got.fit, Fit::Truncated(100));
        } else {
            assert_ne!(got.fit, Fit::Whole);
        }
        // The other 90 bytes are gone: the next recvfrom is the next datagram.
        let got = buf.recv_from(&receiver).unwrap();
        assert_eq!((got.data, got.fit), (&b"next"[..], Fit::Whole));
    }

    #[test]
    fn recvmsg_flags_a_cut_datagram_without_its_size() {
        // The path other systems take: the flag says "cut", nothing says how much.
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        sender.send_to(&filler(100), to).unwrap();
        sender.send_to(b"fits", to).unwrap();
        let mut buf = vec![MaybeUninit::new(0u8); 10];
        let (copied, fit, _) = recv_flagged(SockRef::from(&receiver), &mut buf).unwrap();
        assert_eq!((copied, fit), (10, Fit::TruncatedUnknownSize));
        let (copied, fit, _) = recv_flagged(SockRef::from(&receiver), &mut buf).unwrap();
        assert_eq!((copied, fit), (4, Fit::Whole));
    }
}
