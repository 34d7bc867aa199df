//! The echo server: one thread per client, each a plain recv → send loop.
//!
//! Blocking sockets and a thread per connection keep the code as close to the
//! notes' Python as Rust gets: `recv` waits until bytes arrive, `send` waits
//! until the kernel has room for them. A thread costs little while it sleeps
//! in `recv` (its stack here is 128 KiB of address space, a few KiB of it
//! touched), so ten thousand idle clients are no problem.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use common::{say, say_error};

use crate::ServerArgs;

/// Stack for each client thread: the echo loop needs very little, and a small
/// stack lets one process hold many thousands of clients.
const CLIENT_STACK: usize = 128 * 1024;

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    // Every client is one file descriptor; lift the soft limit (often 1024)
    // to the hard one before it gets in the way.
    let _ = common::net::raise_fd_limit();

    let listener = common::net::tcp_listen(args.bind)?;
    let local = listener
        .local_addr()
        .with_context(|| format!("getsockname {}", args.bind))?;
    common::announce_listening(local);

    let disconnected = Arc::new(AtomicU64::new(0));
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                // A failed accept concerns one would-be client, not the server.
                say_error!("accept {local}: {err}");
                if is_out_of_descriptors(&err) {
                    // The pending connection stays queued and accept would fail
                    // again at once; give closing clients a moment to free some.
                    thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
        };
        say!("connected {peer}");
        let buf_size = args.buf_size as usize;
        let quiet = args.quiet;
        let max_clients = args.max_clients;
        let disconnected = Arc::clone(&disconnected);
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .stack_size(CLIENT_STACK)
            .spawn(move || {
                echo_client(stream, peer, buf_size, quiet);
                let done = disconnected.fetch_add(1, Ordering::SeqCst) + 1;
                if max_clients.is_some_and(|max| done >= max) {
                    // Log lines are flushed as they are written, so nothing is lost.
                    std::process::exit(0);
                }
            });
        if let Err(err) = spawned {
            // The stream was moved into the closure that failed to start and
            // is closed with it; the client sees its connection end.
            say_error!("start a thread for {peer}: {err}");
        }
    }
}

/// Echo one client's bytes until it disconnects.
fn echo_client(mut stream: TcpStream, peer: SocketAddr, buf_size: usize, quiet: bool) {
    // recv(buf_size) takes at most buf_size bytes of what waits in the receive
    // buffer; whatever it leaves stays there for the next call (notes 1.2).
    let mut buf = vec![0u8; buf_size];
    let mut total: u64 = 0;
    loop {
        let n = match stream.read(&mut buf) {
            // recv returns empty only when the peer has closed its side: no
            // more bytes will ever come on this connection (notes 1.3).
            Ok(0) => {
                say!("closed {peer} after {total} bytes");
                return;
            }
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => {
                say_error!("recv {peer}: {err}");
                return;
            }
        };
        total += n as u64;
        if !quiet {
            say!("recv {n} bytes from {peer}");
        }
        // send may take fewer bytes than offered when the send buffer is
        // nearly full; write_all keeps calling it until every byte is queued
        // (Python's sendall).
        if let Err(err) = stream.write_all(&buf[..n]) {
            say_error!("send {peer}: {err}");
            return;
        }
    }
}

fn is_out_of_descriptors(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}
