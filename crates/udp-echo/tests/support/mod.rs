//! What the udp-echo black-box tests of lessons 3, 4 and 5 share.
#![allow(dead_code)] // each test file uses its own part of this

use std::net::{SocketAddr, UdpSocket};

pub use blackbox::Udp;
use std::time::Duration;

use blackbox::{program, Program};

/// The program under test (or IMPL_UDP_ECHO).
pub fn udp_echo() -> Program {
    program!("udp-echo")
}

/// A UDP socket the test plays a server (or an impostor) with; its
/// datagrams are recorded (a failure draws them).
pub fn test_socket(addr: &str) -> Udp {
    let socket = Udp::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("SO_RCVTIMEO");
    socket
}

/// The address the socket is bound to.
pub fn local(socket: &Udp) -> SocketAddr {
    socket.local_addr().expect("local_addr")
}

/// Is there an IPv6 loopback (::1) to test on?
pub fn have_ipv6_loopback() -> bool {
    UdpSocket::bind("[::1]:0").is_ok()
}

/// Send one datagram from the test's `socket` to a program under test,
/// logged as a step (with an `nc -u` line to repeat it by hand).
#[track_caller]
pub fn send_datagram(socket: &Udp, bytes: &[u8], to: SocketAddr) {
    let from = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    blackbox::step(format!(
        "sent a {}-byte datagram from {from} to {to}: \"{}\"{}",
        bytes.len(),
        blackbox::text(&bytes[..bytes.len().min(120)]),
        if bytes.len() > 120 { "…" } else { "" }
    ));
    if bytes.len() <= 200 {
        blackbox::repro(format!(
            "printf {} | nc -u -w1 {} {}",
            blackbox::printf_arg(bytes),
            to.ip(),
            to.port()
        ));
    }
    if let Err(err) = socket.send_to(bytes, to) {
        panic!("sendto {to} from {from}: {err}");
    }
}
