//! What the udp-echo black-box tests of lessons 3, 4 and 5 share.
#![allow(dead_code)] // each test file uses its own part of this

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use blackbox::{program, Program};

/// The program under test (or IMPL_UDP_ECHO).
pub fn udp_echo() -> Program {
    program!("udp-echo")
}

/// A UDP socket the test plays a server (or an impostor) with.
pub fn test_socket(addr: &str) -> UdpSocket {
    let socket = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("SO_RCVTIMEO");
    socket
}

/// The address the socket is bound to.
pub fn local(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().expect("local_addr")
}

/// Is there an IPv6 loopback (::1) to test on?
pub fn have_ipv6_loopback() -> bool {
    UdpSocket::bind("[::1]:0").is_ok()
}
