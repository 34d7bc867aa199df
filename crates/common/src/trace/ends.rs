//! The two ends of a TCP connection, traced by hand: for streams the
//! program reads and writes itself (mini-http's non-blocking mio streams).

use std::io;
use std::net::SocketAddr;

use super::{enabled, Event};

/// The two ends of a TCP connection, for a program that reads and writes
/// its streams some other way (mini-http's non-blocking `mio` streams): the
/// same events as [`Traced`](super::Traced), called by hand.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ends {
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
}

impl Ends {
    pub fn event(&self, ev: &str) -> Event {
        Event::new(ev, "tcp", self.local, self.peer)
    }

    /// `ev` alone (`accept`, `close`), if tracing.
    pub fn note(&self, ev: &str) {
        if enabled() {
            self.event(ev).write();
        }
    }

    /// A recv of `asked` bytes that returned `got` (empty: the peer's FIN).
    pub fn recv(&self, asked: usize, got: &[u8]) {
        if enabled() {
            self.event("recv")
                .num("asked", asked as u64)
                .bytes(got)
                .write();
        }
    }

    /// A send called at `t` that took `sent` bytes.
    pub fn send(&self, t: u64, sent: &[u8]) {
        if enabled() {
            Event::at(t, "send", "tcp", self.local, self.peer)
                .bytes(sent)
                .write();
        }
    }

    /// A call that failed (not WouldBlock: that is no event).
    pub fn error(&self, op: &str, err: &io::Error) {
        if enabled()
            && !matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            )
        {
            self.event("error").error(op, err).write();
        }
    }
}
