//! What the test's own sockets do, recorded for the wire view.
//!
//! Every [`Conn`](crate::Conn) and [`Udp`](crate::Udp) call records what
//! the test's socket did — connect, each send, each read as it really came
//! back (how many bytes, and when), each datagram with its size and any
//! truncation, the half-close, the test's own close, a reset — in the same
//! events a program's `--trace` writes (README "Traces"), into the test's
//! log ([`report`](crate::report)); [`wire_view`](crate::wire_view) draws
//! them when the test fails.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use crate::text::text;

/// Bytes of a send or recv shown in its label (as `--trace` does).
const SHOWN: usize = 64;

/// Nanoseconds since this test process first recorded anything.
fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// One event of the test's socket `local` talking to `peer`.
pub(crate) fn record(ev: &str, local: SocketAddr, peer: SocketAddr, bytes: Option<&[u8]>) {
    let mut event = wire::Event {
        t: now_ns(),
        ev: ev.to_string(),
        proto: "tcp".into(),
        local: Some(local.to_string()),
        peer: Some(peer.to_string()),
        ..wire::Event::default()
    };
    if let Some(bytes) = bytes {
        event.len = Some(bytes.len() as u64);
        event.text = text(&bytes[..bytes.len().min(SHOWN)]);
        event.more = bytes.len().saturating_sub(SHOWN) as u64;
    }
    push(event);
}

/// The test's half-close (FIN).
pub(crate) fn record_shutdown(local: SocketAddr, peer: SocketAddr) {
    let event = wire::Event {
        t: now_ns(),
        ev: "shutdown".into(),
        proto: "tcp".into(),
        local: Some(local.to_string()),
        peer: Some(peer.to_string()),
        how: Some("write".into()),
        ..wire::Event::default()
    };
    push(event);
}

/// A datagram the test sent (`sendto`) or received (`recvfrom`); for one
/// that did not fit its buffer, `truncated` is its real size.
pub(crate) fn record_datagram(
    ev: &str,
    local: SocketAddr,
    peer: SocketAddr,
    bytes: &[u8],
    truncated: Option<usize>,
) {
    push(wire::Event {
        t: now_ns(),
        ev: ev.to_string(),
        proto: "udp".into(),
        local: Some(local.to_string()),
        peer: Some(peer.to_string()),
        len: Some(bytes.len() as u64),
        text: text(&bytes[..bytes.len().min(SHOWN)]),
        more: bytes.len().saturating_sub(SHOWN) as u64,
        truncated: truncated.is_some(),
        size: truncated.map(|size| size as u64),
        ..wire::Event::default()
    });
}

/// A call of the test's socket that failed or timed out (`ev`: `error` or
/// `timeout`; `op`: the call).
pub(crate) fn record_failure(
    ev: &str,
    op: &str,
    proto: &str,
    local: SocketAddr,
    peer: SocketAddr,
    err: &std::io::Error,
) {
    push(wire::Event {
        t: now_ns(),
        ev: ev.into(),
        proto: proto.into(),
        local: Some(local.to_string()),
        peer: Some(peer.to_string()),
        op: Some(op.into()),
        error: Some(err.to_string()),
        errno: err.raw_os_error().map(i64::from),
        ..wire::Event::default()
    });
}

/// The same, with no peer to draw it against (an unconnected UDP socket
/// whose recvfrom timed out).
pub(crate) fn record_alone(
    ev: &str,
    op: &str,
    proto: &str,
    local: SocketAddr,
    err: &std::io::Error,
) {
    push(wire::Event {
        t: now_ns(),
        ev: ev.into(),
        proto: proto.into(),
        local: Some(local.to_string()),
        op: Some(op.into()),
        error: Some(err.to_string()),
        ..wire::Event::default()
    });
}

/// The test's close: FIN, or RST when `reset` (SO_LINGER 0).
pub(crate) fn record_close(local: SocketAddr, peer: SocketAddr, reset: bool) {
    push(wire::Event {
        t: now_ns(),
        ev: "close".into(),
        proto: "tcp".into(),
        local: Some(local.to_string()),
        peer: Some(peer.to_string()),
        how: reset.then(|| "reset".into()),
        ..wire::Event::default()
    });
}

/// A failed call (`recv`: a reset shows as RST).
pub(crate) fn record_error(op: &str, local: SocketAddr, peer: SocketAddr, err: &std::io::Error) {
    let mut event = wire::Event {
        t: now_ns(),
        ev: "error".into(),
        proto: "tcp".into(),
        local: Some(local.to_string()),
        peer: Some(peer.to_string()),
        op: Some(op.into()),
        error: Some(err.to_string()),
        ..wire::Event::default()
    };
    event.errno = err.raw_os_error().map(i64::from);
    push(event);
}

/// Add an event to the test's log (shared with its helper threads).
pub(crate) fn push(event: wire::Event) {
    crate::report::with_log(|log| log.wire.push(event));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_renders_as_text_and_an_svg_file() {
        let local: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        record("connect", local, peer, None);
        record("send", local, peer, Some(b"hello"));
        record("recv", local, peer, Some(b"hel"));
        record("recv", local, peer, Some(b""));
        let view = crate::report::with_log(|log| crate::wire_view::render(&log.test, &log.wire))
            .unwrap_or_default();
        assert!(view.contains("s1 send 5 B \"hello\""), "{view}");
        assert!(view.contains("r1 recv 3 B \"hel\""), "{view}");
        assert!(view.contains("r2 recv 0 B (peer closed)"), "{view}");
        assert!(
            view.contains("not traced"),
            "the server is the untraced column: {view}"
        );
        let svg = view
            .lines()
            .find_map(|l| l.trim().strip_prefix("(drawn as SVG: "))
            .and_then(|l| l.strip_suffix(')'))
            .expect("names its SVG file");
        let text = std::fs::read_to_string(svg).expect("SVG written");
        assert!(text.starts_with("<svg"));
    }
}
