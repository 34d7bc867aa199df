//! A blocking TCP stream whose calls are traced.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};

use super::{enabled, stamp, Event};

/// A TCP stream whose calls are traced: `read` is a recv, `write` a send,
/// [`Traced::shutdown`] a shutdown, and dropping it a close. It derefs to
/// the stream for everything else (timeouts, options).
///
/// The addresses are taken once, when it is made, so a close after a reset
/// still names its peer.
pub struct Traced {
    stream: TcpStream,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
}

impl Traced {
    /// Wrap a stream without recording anything (addresses only).
    pub fn new(stream: TcpStream) -> Traced {
        let (local, peer) = if enabled() {
            (stream.local_addr().ok(), stream.peer_addr().ok())
        } else {
            (None, None)
        };
        Traced {
            stream,
            local,
            peer,
        }
    }

    /// A stream `connect` returned: records `connect`.
    pub fn connected(stream: TcpStream) -> Traced {
        let traced = Traced::new(stream);
        traced.event("connect").write();
        traced
    }

    /// A stream `accept` returned: records `accept`.
    pub fn accepted(stream: TcpStream) -> Traced {
        let traced = Traced::new(stream);
        traced.event("accept").write();
        traced
    }

    fn event(&self, ev: &str) -> Event {
        Event::new(ev, "tcp", self.local, self.peer)
    }

    /// The stream itself.
    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// `shutdown(how)`: `write` sends FIN (the peer's recv returns empty).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        // Stamped when called, as a send is: the peer may read the FIN
        // before this call has returned.
        let t = stamp();
        let result = self.stream.shutdown(how);
        if enabled() {
            let how_name = match how {
                Shutdown::Read => "read",
                Shutdown::Write => "write",
                Shutdown::Both => "both",
            };
            match &result {
                Ok(()) => Event::at(t, "shutdown", "tcp", self.local, self.peer)
                    .string("how", how_name)
                    .write(),
                Err(err) => self.event("error").error("shutdown", err).write(),
            }
        }
        result
    }

    /// Record a recv of `asked` bytes that returned `result` (for callers
    /// reading through the inner stream some other way).
    pub fn note_recv(&self, asked: usize, result: &io::Result<&[u8]>) {
        if !enabled() {
            return;
        }
        match result {
            Ok(got) => self
                .event("recv")
                .num("asked", asked as u64)
                .bytes(got)
                .write(),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => self.event("error").error("recv", err).write(),
        }
    }

    /// Record a send of `offered` bytes, of which `result` were taken.
    /// `t`: when the call was made ([`stamp`] before it).
    pub fn note_send(&self, t: u64, offered: &[u8], result: &io::Result<usize>) {
        if !enabled() {
            return;
        }
        match result {
            Ok(n) => Event::at(t, "send", "tcp", self.local, self.peer)
                .bytes(&offered[..(*n).min(offered.len())])
                .write(),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => self.event("error").error("send", err).write(),
        }
    }
}

impl std::ops::Deref for Traced {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl Read for Traced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.stream.read(buf);
        if enabled() {
            match &result {
                Ok(n) => self.note_recv(buf.len(), &Ok(&buf[..*n])),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // SO_RCVTIMEO ran out: no bytes, no error on the wire.
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.event("timeout").string("op", "recv").write()
                }
                Err(err) => self.event("error").error("recv", err).write(),
            }
        }
        result
    }
}

impl Write for Traced {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let t = stamp();
        let result = self.stream.write(buf);
        self.note_send(t, buf, &result);
        result
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        if enabled() {
            self.event("close").write();
        }
    }
}
