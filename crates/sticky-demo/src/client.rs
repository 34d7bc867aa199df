//! The client: each message in its own write, or a stream of frames as fast
//! as buffering allows.
//!
//! Every message goes out in one `send` (framed first, so a frame is never
//! cut between two sends by us). That does not make it arrive in one `recv`:
//! that is the whole point of lesson 2. After the last message the client
//! half-closes (FIN: the server's recv returns empty) and waits for the
//! server to close in turn, so exit status 0 means the server has read
//! everything.
//!
//! ```text
//! sticky-demo server --framing length                       # terminal 1
//! sticky-demo client 127.0.0.1:9002 --framing length a bc   # terminal 2
//! sticky-demo client 127.0.0.1:9002 --framing length --bench 10000000
//! ```

use std::ffi::OsString;
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use common::framing::{self, Framing};
use common::trace::Traced;
use common::{say, show_bytes, UsageError};

use crate::{ClientArgs, Mode};

/// Write buffer of the benchmark: thousands of small frames per send.
const BENCH_WRITE_BUFFER: usize = 256 * 1024;

/// Largest --size: one message is held in memory, and a server's default
/// --max-frame (16M) would refuse far less anyway.
const MAX_BENCH_SIZE: usize = 256 << 20;

/// How long --framing delay pauses between sends unless --delay says.
const DEFAULT_DELAY_MS: u64 = 100;

pub fn run(args: &ClientArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(args.timeout);
    if let Some(count) = args.bench {
        let Some(framing) = args.framing.framing() else {
            return Err(UsageError(
                "--bench needs --framing line or length: without framing the server cannot count messages"
                    .into(),
            )
            .into());
        };
        return bench(
            args.addr,
            framing,
            count,
            args.size,
            args.unbuffered,
            timeout,
        );
    }

    // Frame every message before connecting: a message that cannot be framed
    // is refused before a single byte goes out.
    let mut frames = Vec::with_capacity(args.messages.len());
    for (i, message) in args.messages.iter().enumerate() {
        let bytes = os_bytes(message);
        let frame = match args.framing.framing() {
            None => bytes,
            Some(framing) => {
                let mut frame = Vec::with_capacity(bytes.len() + 4);
                framing::encode(framing, &bytes, &mut frame)
                    .with_context(|| format!("message {} ({})", i + 1, show_bytes(&bytes)))?;
                frame
            }
        };
        frames.push(frame);
    }
    let delay = Duration::from_millis(args.delay.unwrap_or(match args.framing {
        Mode::Delay => DEFAULT_DELAY_MS,
        _ => 0,
    }));

    let addr = args.addr;
    let mut stream = Traced::connected(common::net::tcp_connect(addr)?);
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 && !delay.is_zero() {
            // The notes' third remedy: give the receiver time to take this
            // message before the next one comes. Nothing guarantees it will.
            thread::sleep(delay);
        }
        // write_all is Python's sendall: one write call normally takes it
        // all; if the send buffer is full it keeps going until it has.
        stream
            .write_all(frame)
            .with_context(|| format!("send {addr}"))?;
        say!(
            "send {}: {} bytes: {}",
            i + 1,
            frame.len(),
            show_bytes(frame)
        );
    }
    finish(&mut stream, addr, timeout)?;
    Ok(())
}

/// Half-close, then wait for the server to close its side. Anything the
/// server sends meanwhile is read and ignored.
fn finish(stream: &mut Traced, addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    // FIN: "no more bytes from me". The server's recv returns empty once it
    // has read everything before it.
    stream
        .shutdown(Shutdown::Write)
        .with_context(|| format!("shutdown {addr}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .with_context(|| format!("setsockopt SO_RCVTIMEO {addr}"))?;
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => bail!(
                "recv {addr}: the server did not close the connection within {} ms of our last byte",
                timeout.as_millis()
            ),
            Err(err) => return Err(err).with_context(|| format!("recv {addr}")),
        }
    }
}

/// A command-line argument's bytes. On Unix an argument is any bytes but
/// NUL, so `$'\xff'` reaches the wire as the byte 0xff.
#[cfg(unix)]
fn os_bytes(arg: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    arg.as_bytes().to_vec()
}

/// Elsewhere an argument is text; anything not Unicode becomes U+FFFD.
#[cfg(not(unix))]
fn os_bytes(arg: &OsString) -> Vec<u8> {
    arg.to_string_lossy().into_owned().into_bytes()
}

/// A writer that counts the write calls reaching the socket — each one a
/// `send` syscall.
struct CountWrites<'a> {
    stream: &'a TcpStream,
    writes: u64,
}

impl Write for CountWrites<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writes += 1;
        self.stream.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Send `count` frames of `size` bytes, then wait until the server has read
/// them all and closed; print messages per second.
///
/// Buffered, frames are appended to a 256 KiB buffer that goes out in one
/// send when full, so a 32-byte message costs a few nanoseconds of copying.
/// Unbuffered, every message is its own send: a syscall (and a trip through
/// the kernel's TCP code) per message.
fn bench(
    addr: SocketAddr,
    framing: Framing,
    count: u64,
    size: u64,
    unbuffered: bool,
    timeout: Duration,
) -> anyhow::Result<()> {
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= MAX_BENCH_SIZE)
        .ok_or_else(|| {
            UsageError(format!(
                "--size {size}: at most {MAX_BENCH_SIZE} bytes (256M) per benchmark message"
            ))
        })?;
    // 'x' is not '\n', so the payload suits both framings.
    let payload = vec![b'x'; size];
    let frame_len = match framing {
        Framing::Line => size + 1,
        Framing::Length => size + framing::LENGTH_HEADER,
    };

    // Traced for its connect, shutdown and close only: a benchmark's
    // thousands of sends go out untraced, through the stream itself.
    let mut stream = Traced::connected(common::net::tcp_connect(addr)?);
    let started = Instant::now();
    let mut counter = CountWrites {
        stream: stream.get_ref(),
        writes: 0,
    };
    if unbuffered {
        let mut frame = Vec::with_capacity(frame_len);
        framing::encode(framing, &payload, &mut frame)?;
        for _ in 0..count {
            counter
                .write_all(&frame)
                .with_context(|| format!("send {addr}"))?;
        }
    } else {
        let mut out = BufWriter::with_capacity(BENCH_WRITE_BUFFER, &mut counter);
        for _ in 0..count {
            framing::write_frame(&mut out, framing, &payload)
                .with_context(|| format!("send {addr}"))?;
        }
        out.flush().with_context(|| format!("send {addr}"))?;
    }
    let writes = counter.writes;
    finish(&mut stream, addr, timeout)?;
    let seconds = started.elapsed().as_secs_f64().max(1e-9);

    let rate = count as f64 / seconds;
    let megabytes = (count as f64 * frame_len as f64) / seconds / 1e6;
    say!(
        "bench: {count} messages of {size} bytes, {} framing, {}: {writes} writes in {seconds:.3} s = {rate:.0} messages/s, {megabytes:.1} MB/s",
        match framing {
            Framing::Line => "line",
            Framing::Length => "length",
        },
        if unbuffered { "unbuffered" } else { "buffered" },
    );
    Ok(())
}
