//! The echo server as async tasks (`--model async`, lesson 9): tokio, one
//! task per connection, on a current-thread runtime.
//!
//! Each task reads like the thread of `--model threads` — wait for bytes,
//! echo them, again — but `.await` does not block a thread: the compiler
//! turns `echo_client` into a state machine (a struct holding the variables
//! alive across each `.await`, and an enum of where it stopped), and the
//! runtime polls it again when epoll reports its socket ready, in the same
//! kind of readiness loop as `--model poll`. Ten thousand idle clients are
//! ten thousand small structs and registrations, not ten thousand stacks.
//!
//! Why current-thread: one thread, as `--model poll`, so the two compare
//! like for like. An echo does too little work per byte for a second worker
//! thread to pay for handing sockets between threads; on two cores the other
//! core already runs the kernel's half of loopback TCP (lesson 9 measures it).
//!
//! Backpressure comes with `write_all(...).await`: while the kernel has no
//! room for a client's echo, its task waits there and reads nothing more
//! from it; every other task runs on. Fairness comes from tokio's budget: a
//! task that keeps finding its socket ready is made to yield after a number
//! of operations, so the others get their turn.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use common::trace::Ends;
use common::{say, say_error};

use crate::ServerArgs;

/// Buffers kept for reuse, at most this many (more are freed).
const POOL_KEEP: usize = 64;

thread_local! {
    /// Read buffers not in use. A task takes one only once its socket is
    /// readable and gives it back after the echo is sent, so an idle
    /// connection holds none.
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

fn take_buffer(size: usize) -> Vec<u8> {
    POOL.with(|pool| pool.borrow_mut().pop())
        .filter(|buf| buf.len() == size)
        .unwrap_or_else(|| vec![0; size])
}

fn give_back(buf: Vec<u8>) {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_KEEP {
            pool.push(buf);
        }
    });
}

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let (listener, local) = common::server::listen_nonblocking(args.bind)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("start the tokio runtime")?;
    let buf_size = args.buf_size as usize;
    let quiet = args.quiet;
    let max_clients = args.max_clients;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .with_context(|| format!("epoll_ctl {local}"))?;
        let disconnected = Arc::new(AtomicU64::new(0));
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(err) => {
                    say_error!("accept {local}: {err}");
                    if common::server::is_out_of_descriptors(&err) {
                        // The client stays queued; retry once some close.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            };
            say!("connected {peer}");
            let disconnected = Arc::clone(&disconnected);
            tokio::spawn(async move {
                echo_client(stream, peer, buf_size, quiet).await;
                let done = disconnected.fetch_add(1, Ordering::SeqCst) + 1;
                if max_clients.is_some_and(|max| done >= max) {
                    std::process::exit(0);
                }
            });
        }
    })
}

/// Echo one client's bytes until it disconnects.
async fn echo_client(mut stream: TcpStream, peer: SocketAddr, buf_size: usize, quiet: bool) {
    let ends = Ends {
        local: stream.local_addr().ok(),
        peer: Some(peer),
    };
    ends.note("accept");
    echo_loop(&mut stream, peer, &ends, buf_size, quiet).await;
    ends.note("close");
}

/// Read and echo until the client's FIN or an error.
async fn echo_loop(
    stream: &mut TcpStream,
    peer: SocketAddr,
    ends: &Ends,
    buf_size: usize,
    quiet: bool,
) {
    // region: echo-task — loop: await readable() (no buffer held while idle); take_buffer; try_read: WouldBlock → give it back and wait again, 0 → log `closed PEER after N bytes` and return, n → log `recv N bytes from PEER` and write_all(...).await the n bytes; give_back
    let mut total: u64 = 0;
    loop {
        // Wait without a buffer: an idle client costs its task and socket.
        if let Err(err) = stream.readable().await {
            say_error!("recv {peer}: {err}");
            break;
        }
        let mut buf = take_buffer(buf_size);
        let n = match stream.try_read(&mut buf) {
            // The readiness was already used up: wait for the next.
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                give_back(buf);
                continue;
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {
                give_back(buf);
                continue;
            }
            Err(err) => {
                ends.error("recv", &err);
                say_error!("recv {peer}: {err}");
                break;
            }
            Ok(n) => n,
        };
        ends.recv(buf_size, &buf[..n]);
        if n == 0 {
            say!("closed {peer} after {total} bytes");
            give_back(buf);
            break;
        }
        total += n as u64;
        if !quiet {
            say!("recv {n} bytes from {peer}");
        }
        // Suspends this task (and only it) while the kernel has no room:
        // no more reads from this client until it reads its echo.
        let t = common::trace::stamp();
        if let Err(err) = stream.write_all(&buf[..n]).await {
            ends.error("send", &err);
            say_error!("send {peer}: {err}");
            break;
        }
        ends.send(t, &buf[..n]);
        give_back(buf);
    }
    // endregion: echo-task
}
