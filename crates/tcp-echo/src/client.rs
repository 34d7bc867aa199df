//! The echo client: messages, a byte pipe, or a throughput benchmark.
//!
//! TCP keeps no message boundaries (lesson 2), so the client never assumes one
//! `recv` brings back one message: it counts bytes. Having sent N bytes, it
//! reads until N bytes have come back.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use common::say;
use common::trace::Traced;

use crate::ClientArgs;

/// Size of each read and write in pipe and benchmark mode: large enough that
/// syscalls are not the bottleneck, small enough to stay in cache.
const CHUNK: usize = 64 * 1024;

pub fn run(args: &ClientArgs) -> anyhow::Result<()> {
    let stream = common::net::tcp_connect(args.addr)?;
    if let Some(bytes) = args.bench {
        // Not traced: a benchmark is millions of sends.
        bench(stream, args.addr, bytes)
    } else if args.messages.is_empty() {
        pipe(Traced::connected(stream), args.addr)
    } else {
        let timeout = Duration::from_millis(args.timeout);
        send_messages(
            Traced::connected(stream),
            args.addr,
            &args.messages,
            timeout,
        )
    }
}

/// Send each message, wait for its whole echo, print it on its own line.
fn send_messages(
    mut stream: Traced,
    addr: SocketAddr,
    messages: &[String],
    timeout: Duration,
) -> anyhow::Result<()> {
    stream
        .set_read_timeout(Some(timeout))
        .with_context(|| format!("setsockopt SO_RCVTIMEO {addr}"))?;
    for message in messages {
        stream
            .write_all(message.as_bytes())
            .with_context(|| format!("send {addr}"))?;
        let mut echo = vec![0u8; message.len()];
        recv_exactly(&mut stream, addr, &mut echo, timeout)?;
        say!("{}", common::show_bytes(&echo));
    }
    // Closing sends FIN: the server's recv returns empty and it logs `closed`.
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// Read exactly `buf.len()` bytes — over as many recv calls as it takes.
fn recv_exactly(
    stream: &mut Traced,
    addr: SocketAddr,
    buf: &mut [u8],
    timeout: Duration,
) -> anyhow::Result<()> {
    // region: recv-exactly — call read until buf is full: one recv may bring part of the echo; 0 bytes means the server closed, a timeout means no echo
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => bail!(
                "recv {addr}: the server closed the connection after echoing {got} of {} bytes",
                buf.len()
            ),
            Ok(n) => got += n,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => bail!(
                "recv {addr}: no echo within {} ms ({got} of {} bytes came back)",
                timeout.as_millis(),
                buf.len()
            ),
            Err(err) => return Err(err).with_context(|| format!("recv {addr}")),
        }
    }
    Ok(())
    // endregion: recv-exactly
}

/// stdin → server, server → stdout, at the same time.
///
/// Reading and writing on separate threads matters: if the client wrote all
/// of a large input before reading, the server's send buffer and our receive
/// buffer would fill, the server would stop reading, and both sides would
/// wait for each other forever.
fn pipe(stream: Traced, addr: SocketAddr) -> anyhow::Result<()> {
    let mut to_server = Traced::new(
        stream
            .try_clone()
            .with_context(|| format!("dup socket {addr}"))?,
    );
    // Set once stdin is used up, before the FIN goes out: the server may echo
    // the last bytes and close before this thread has returned from shutdown.
    let input_ended = Arc::new(AtomicBool::new(false));
    let sender_saw_end = Arc::clone(&input_ended);
    let sender = thread::spawn(move || -> anyhow::Result<u64> {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; CHUNK];
        let mut sent: u64 = 0;
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(err).context("read stdin"),
            };
            to_server
                .write_all(&buf[..n])
                .with_context(|| format!("send {addr}"))?;
            sent += n as u64;
        }
        // End of input: send FIN. The server reads empty, finishes echoing,
        // and closes its side, which ends our reading below.
        sender_saw_end.store(true, Ordering::SeqCst);
        to_server
            .shutdown(Shutdown::Write)
            .with_context(|| format!("shutdown {addr}"))?;
        Ok(sent)
    });

    let mut from_server = stream;
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; CHUNK];
    let mut received: u64 = 0;
    loop {
        let n = match from_server.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err).with_context(|| format!("recv {addr}")),
        };
        stdout.write_all(&buf[..n]).context("write stdout")?;
        received += n as u64;
    }
    stdout.flush().context("write stdout")?;

    if !input_ended.load(Ordering::SeqCst) {
        // Still reading stdin, yet the server has gone: it closed early.
        bail!("recv {addr}: the server closed the connection before the end of input ({received} bytes echoed)");
    }
    let sent = match sender.join() {
        Ok(result) => result?,
        Err(_) => bail!("send {addr}: the sending thread failed"),
    };
    if received != sent {
        bail!("recv {addr}: the server closed the connection after echoing {received} of {sent} bytes");
    }
    Ok(())
}

/// A repeating pattern with a prime period: a lost, repeated or reordered
/// chunk shows up as a mismatch unless it is a multiple of 251 bytes long —
/// and our chunks are powers of two.
const PERIOD: usize = 251;

fn pattern() -> Vec<u8> {
    (0..CHUNK + PERIOD).map(|i| (i % PERIOD) as u8).collect()
}

/// Stream `total` bytes through the echo server, check each one that comes
/// back, and print the throughput.
fn bench(stream: TcpStream, addr: SocketAddr, total: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut to_server = stream
        .try_clone()
        .with_context(|| format!("dup socket {addr}"))?;
    let sender = thread::spawn(move || -> anyhow::Result<()> {
        let pattern = pattern();
        let mut sent: u64 = 0;
        while sent < total {
            let start = (sent % PERIOD as u64) as usize;
            let len = (total - sent).min(CHUNK as u64) as usize;
            to_server
                .write_all(&pattern[start..start + len])
                .with_context(|| format!("send {addr}"))?;
            sent += len as u64;
        }
        to_server
            .shutdown(Shutdown::Write)
            .with_context(|| format!("shutdown {addr}"))
    });

    let pattern = pattern();
    let mut from_server = stream;
    let mut buf = vec![0u8; CHUNK];
    let mut received: u64 = 0;
    while received < total {
        let n = match from_server.read(&mut buf) {
            Ok(0) => bail!("recv {addr}: the server closed the connection after echoing {received} of {total} bytes"),
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err).with_context(|| format!("recv {addr}")),
        };
        let n = n.min((total - received) as usize);
        let start = (received % PERIOD as u64) as usize;
        if buf[..n] != pattern[start..start + n] {
            let at = (0..n).find(|&i| buf[i] != pattern[start + i]).unwrap_or(0);
            bail!(
                "recv {addr}: echoed byte {} is {:#04x}, but {:#04x} was sent",
                received + at as u64,
                buf[at],
                pattern[start + at]
            );
        }
        received += n as u64;
    }
    let elapsed = started.elapsed();
    match sender.join() {
        Ok(result) => result?,
        Err(_) => bail!("send {addr}: the sending thread failed"),
    }
    let seconds = elapsed.as_secs_f64().max(1e-9);
    say!(
        "echoed {total} bytes in {seconds:.3} s: {:.1} MB/s (every byte checked)",
        total as f64 / seconds / 1e6
    );
    Ok(())
}
