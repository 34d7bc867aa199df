//! The server: one thread per client, each a recv loop that logs what it got.
//!
//! With `--framing none` (or `delay`) every recv is logged as it came —
//! `recv N: K bytes: TEXT` — so you see TCP's byte stream as it is: five
//! sends can come out of one recv, and one send out of several. With `line`
//! or `length` the bytes go into a [`FrameBuffer`], and every complete
//! message is logged as `message N: TEXT`, whatever the reads were.
//!
//! Run it with its peer, the client:
//!
//! ```text
//! sticky-demo server --framing line --read-delay 300
//! sticky-demo client 127.0.0.1:9002 --framing line one two 三
//! ```

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use common::framing::{FrameBuffer, Framing};
use common::trace::Traced;
use common::{say, say_error, show_bytes, UsageError};

use crate::ServerArgs;

/// What one connection's thread needs to know.
#[derive(Clone, Copy)]
struct Settings {
    framing: Option<Framing>,
    buf_size: usize,
    read_delay: Duration,
    max_frame: usize,
    quiet: bool,
    unbuffered: bool,
}

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let framing = args.framing.framing();
    if args.unbuffered && framing.is_none() {
        return Err(UsageError(
            "--unbuffered needs --framing line or length: without framing there is no message to stop at"
                .into(),
        )
        .into());
    }
    let settings = Settings {
        framing,
        buf_size: args.buf_size,
        read_delay: Duration::from_millis(args.read_delay),
        max_frame: args.max_frame,
        quiet: args.quiet,
        unbuffered: args.unbuffered,
    };

    let listener = common::server::listen_and_announce(args.bind)?;

    let options = common::server::AcceptOptions {
        max_clients: args.max_clients,
        log_connected: !settings.quiet,
    };
    common::server::serve_each_client(listener, options, move |stream, peer| {
        serve_client(stream, peer, settings)
    })
}

/// One connection, from accept to close; always ends with its summary line.
fn serve_client(stream: TcpStream, peer: SocketAddr, settings: Settings) {
    // With --trace, every read below is logged as a recv, and the drop at
    // the end as a close.
    let stream = Traced::accepted(stream);
    let mut counts = Counts::default();
    match settings.framing {
        None => recv_raw(stream, peer, settings, &mut counts),
        Some(framing) => recv_messages(stream, peer, framing, settings, &mut counts),
    }
    say!(
        "summary {peer}: {}, {}",
        counted(counts.reads, "read"),
        counted(counts.messages, "message")
    );
}

/// `1 read`, `2 reads`, `0 messages`.
fn counted(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[derive(Default)]
struct Counts {
    /// recv calls that returned bytes (the final empty one is not counted).
    reads: u64,
    /// Complete messages decoded (always 0 without framing: nobody can tell).
    messages: u64,
}

/// One recv of at most `buf.len()` bytes, after the --read-delay pause.
/// `Ok(0)` means the peer has closed its side (lesson 1: recv returns empty).
fn recv(stream: &mut Traced, buf: &mut [u8], read_delay: Duration) -> std::io::Result<usize> {
    if !read_delay.is_zero() {
        // Meanwhile the peer's bytes wait in our receive buffer, where the
        // kernel keeps no trace of how they were sent.
        thread::sleep(read_delay);
    }
    loop {
        match stream.read(buf) {
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// No framing: log each recv as it came. Its bytes may be part of a send,
/// several sends, or the end of one and the start of the next.
fn recv_raw(mut stream: Traced, peer: SocketAddr, settings: Settings, counts: &mut Counts) {
    // region: recv-raw — read up to buf_size bytes at a time until read returns 0; count each read and log `recv N: K bytes: TEXT` (no framing: one read is not one message)
    let mut buf = vec![0u8; settings.buf_size];
    loop {
        let n = match recv(&mut stream, &mut buf, settings.read_delay) {
            Ok(0) => return,
            Ok(n) => n,
            Err(err) => {
                say_error!("recv {peer}: {err}");
                return;
            }
        };
        counts.reads += 1;
        if !settings.quiet {
            say!(
                "recv {}: {n} bytes: {}",
                counts.reads,
                show_bytes(&buf[..n])
            );
        }
    }
    // endregion: recv-raw
}

/// Line or length framing: read into a frame buffer and take out every
/// complete message. One recv may complete many messages, or none.
fn recv_messages(
    mut stream: Traced,
    peer: SocketAddr,
    framing: Framing,
    settings: Settings,
    counts: &mut Counts,
) {
    // region: recv-messages — read into frames.space(..), then frames.filled(n); take out every complete message with frames.next_message() and log `message N: TEXT`; at 0 bytes call frames.finish() to report a cut message. With --unbuffered (settings.unbuffered) ask only for frames.wanted() bytes (at least 1, at most buf_size): a read must never go past the current message
    let mut frames = FrameBuffer::new(framing, settings.max_frame);
    loop {
        let want = if settings.unbuffered {
            // Only what the current message still lacks — which is how a
            // program without a buffer must read so as never to swallow the
            // start of the next message: 4 header bytes, then the body; a
            // line one byte at a time.
            frames.wanted().clamp(1, settings.buf_size)
        } else {
            settings.buf_size
        };
        let space = frames.space(want);
        let n = match recv(&mut stream, space, settings.read_delay) {
            Ok(0) => {
                if let Err(err) = frames.finish() {
                    say_error!(
                        "{peer}: connection closed in the middle of message {}: {err}",
                        counts.messages + 1
                    );
                }
                return;
            }
            Ok(n) => n,
            Err(err) => {
                say_error!("recv {peer}: {err}");
                return;
            }
        };
        counts.reads += 1;
        if !settings.quiet {
            say!(
                "recv {}: {n} bytes: {}",
                counts.reads,
                show_bytes(&space[..n])
            );
        }
        frames.filled(n);
        loop {
            match frames.next_message() {
                Ok(Some(message)) => {
                    counts.messages += 1;
                    if !settings.quiet {
                        say!("message {}: {}", counts.messages, show_bytes(message));
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    // The peer's bytes no longer make sense as frames (or ask
                    // for too much memory): there is no way to find the next
                    // boundary, so this connection ends. Dropping the stream
                    // closes it; other clients are not affected.
                    say_error!("{peer}: {err}");
                    return;
                }
            }
        }
    }
    // endregion: recv-messages
}
