//! A response into bytes — status line, headers, body — queued in the
//! connection's output buffer, and the buffer (or a large file) into the
//! socket with as few `send`s as possible.

#[cfg(not(target_os = "linux"))]
use std::io::Read;
use std::io::{self, ErrorKind, Write};
use std::time::Instant;

use mio::net::TcpStream;

use super::connection::Conn;
use super::worker::Ctx;
use crate::response::{reason, status_has_body, Body, Response};

impl Conn {
    /// Serialise the status line, headers and (unless HEAD) body into the
    /// output buffer. Returns the body bytes that will be sent.
    pub(super) fn queue_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        head_only: bool,
        minor: u8,
        keep_alive: bool,
        response: Response,
    ) -> u64 {
        // region: response-writer — append to self.output `HTTP/1.1 STATUS REASON\r\n`, Server, Date, response.headers, Content-Length (when status_has_body), Connection, an empty line, then the body unless head_only (a Body::File goes to self.file); return the body bytes to send
        let out = &mut self.output;
        if self.out_pos == out.len() {
            out.clear();
            self.out_pos = 0;
        }
        let status = response.status;
        let _ = write!(out, "HTTP/1.1 {status} {}\r\n", reason(status));
        out.extend_from_slice(b"Server: mini-http\r\nDate: ");
        out.extend_from_slice(ctx.date.now().as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &response.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let has_body = status_has_body(status);
        let len = response.body.len();
        if has_body {
            // HEAD gets the length a GET would have had (RFC 9110, 9.3.2).
            let _ = write!(out, "Content-Length: {len}\r\n");
        }
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if minor == 0 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if head_only || !has_body {
            return 0;
        }
        match response.body {
            Body::Empty => {}
            Body::Bytes(bytes) => out.extend_from_slice(&bytes),
            Body::Shared(bytes) => out.extend_from_slice(&bytes),
            Body::File(file, len) => self.file = Some((file, len)),
        }
        len
        // endregion: response-writer
    }

    /// Send queued output (and refill it from a large file). `Ok(true)`:
    /// everything is sent; `Ok(false)`: the socket buffer is full.
    pub(super) fn send_output(&mut self, now: Instant) -> io::Result<bool> {
        loop {
            let went_on = if self.out_pos < self.output.len() {
                self.send_queued(now)?
            } else {
                self.output.clear();
                self.out_pos = 0;
                if self.file.is_none() {
                    return Ok(true);
                }
                self.send_file(now)?
            };
            if !went_on {
                return Ok(false);
            }
        }
    }

    /// One `send` of the queued bytes. `Ok(false)`: the socket buffer is full.
    fn send_queued(&mut self, now: Instant) -> io::Result<bool> {
        let pending = &self.output[self.out_pos..];
        // The send's start time, for --trace only (a clock read saved).
        let t = if common::trace::enabled() {
            common::trace::now_ns()
        } else {
            0
        };
        let written = if self.file.is_some() {
            send_more(&self.stream, pending)
        } else {
            self.stream.write(pending)
        };
        match written {
            Ok(0) => Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                self.ends.send(t, &pending[..n]);
                self.out_pos += n;
                self.last_progress = now;
                Ok(true)
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => Ok(false),
            Err(err) if err.kind() == ErrorKind::Interrupted => Ok(true),
            Err(err) => Err(err),
        }
    }

    /// The next part of a large file: sendfile(2) on Linux, elsewhere a
    /// read into the output buffer. `Ok(false)`: the socket buffer is full.
    #[cfg(target_os = "linux")]
    fn send_file(&mut self, now: Instant) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let Some((file, left)) = &mut self.file else {
            return Ok(true);
        };
        // sendfile(2): the kernel copies from the page cache straight into
        // the socket buffer — no read into our memory and write back out.
        // It reads from the file's current offset (set by a Range) and
        // advances it.
        let want = (*left).min(1 << 20) as usize;
        // SAFETY: both descriptors are open and owned by this connection; a
        // null offset makes the kernel use and advance the file's own
        // offset; no memory of ours is touched.
        let sent = unsafe {
            libc::sendfile(
                self.stream.as_raw_fd(),
                file.as_raw_fd(),
                std::ptr::null_mut(),
                want,
            )
        };
        if sent < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                ErrorKind::WouldBlock => Ok(false),
                ErrorKind::Interrupted => Ok(true),
                _ => Err(err),
            };
        }
        if sent == 0 {
            return Err(file_shrank());
        }
        *left -= sent as u64;
        self.last_progress = now;
        if *left == 0 {
            self.file = None;
        }
        Ok(true)
    }

    #[cfg(not(target_os = "linux"))]
    fn send_file(&mut self, _now: Instant) -> io::Result<bool> {
        let Some((file, left)) = &mut self.file else {
            return Ok(true);
        };
        let want = (*left).min(64 * 1024) as usize;
        self.output.resize(want, 0);
        let n = file.read(&mut self.output)?;
        self.output.truncate(n);
        if n == 0 {
            return Err(file_shrank());
        }
        *left -= n as u64;
        if *left == 0 {
            self.file = None;
        }
        Ok(true)
    }
}

/// The file shrank after we promised its length in Content-Length: the only
/// honest thing left is to close the connection.
fn file_shrank() -> io::Error {
    io::Error::new(ErrorKind::UnexpectedEof, "file shrank while sent")
}

/// Send a response head that a file's bytes will follow. On Linux with
/// MSG_MORE, as nginx's `tcp_nopush`: the kernel holds the head back to
/// travel with the file's first bytes, instead of sending it as a segment of
/// its own (TCP_NODELAY would otherwise push it out at once).
#[cfg(target_os = "linux")]
fn send_more(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `bytes` is a valid slice for the duration of the call, and
    // the descriptor is open and owned by this connection.
    let sent = unsafe {
        libc::send(
            stream.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            libc::MSG_MORE | libc::MSG_NOSIGNAL,
        )
    };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn send_more(mut stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    stream.write(bytes)
}
