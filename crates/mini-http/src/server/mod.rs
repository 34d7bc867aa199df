//! The web server — the notes' "web服务器" (网站访问流程, step 3): it owns
//! the TCP connections, reads requests off the byte stream, hands each
//! complete one to the application ([`crate::app`]) and writes back the
//! response it returns.
//!
//! Shape: one acceptor thread and a few worker threads (one per core by
//! default). The acceptor blocks in `accept` and gives each new connection
//! to the next worker. Each worker runs an event loop (mio: epoll on Linux,
//! kqueue on macOS): it asks the kernel which of its sockets can be read or
//! written without waiting, and serves those. A thousand idle keep-alive
//! connections cost a thousand small buffers, not a thousand threads —
//! that is how nginx works too, and why a fixed pool of blocking threads
//! (the Rust Book's last chapter) would be starved by idle clients.
//!
//! When --max-connections are open, the acceptor makes room for a newcomer
//! by closing the longest-idle connection, else the oldest unfinished head
//! (`admission::make_room`); only when every connection is mid-request does the
//! newcomer get 503. Slow or idle clients can then never lock others out.
//!
//! Per connection, a small state machine:
//!
//! ```text
//! Head ──head parsed──▶ Body ──body complete──▶ (answer) ──▶ Head …
//!   │ bad bytes, limit, timeout: 4xx + Connection: close
//!   ▼
//! Lingering: response sent, write side shut, input drained until EOF
//! ```
//!
//! Keep-alive and pipelining fall out of this: after an answer the state is
//! Head again, and bytes already buffered are the next request. Responses
//! are appended to one output buffer in request order and written with as
//! few `send`s as possible; TCP_NODELAY is set so the last segment of a
//! response never waits for an ACK (Nagle + delayed ACK = a stall of 40 to
//! 200 ms on Linux, up to 500 ms by RFC 1122).
//!
//! Run: `cargo run -p mini-http -- serve --root DIR`, then
//! `cargo run -p mini-http -- get -v http://127.0.0.1:8000/`.
//!
//! The rooms: [`admission`] (the acceptor, and whom to close when full),
//! [`worker`] (one event loop per thread), [`connection`] (the state
//! machine above, per connection) and [`send`] (a response into bytes, and
//! the bytes into the socket).

mod admission;
mod connection;
mod send;
mod worker;

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::Context;
use mio::{Poll, Token, Waker};

use crate::app::App;
use crate::request::Limits;
use crate::response::DateCache;
use admission::accept_loop;
use worker::Worker;

/// Everything the web server half is told on the command line.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub threads: usize,
    pub max_connections: usize,
    pub limits: Limits,
    /// A request head (first byte to blank line) must arrive within this;
    /// a body must not stall for longer. Else 408. A new connection may also
    /// wait this long before its first byte (a person typing into `nc`).
    pub head_timeout: Duration,
    /// A keep-alive connection between requests is closed after this.
    pub idle_timeout: Duration,
    pub access_log: bool,
}

/// How long a closing connection's input is drained after its last response
/// (so that our close does not turn into a reset that destroys the response
/// before the client has read it).
const LINGER: Duration = Duration::from_secs(2);
/// Stop answering pipelined requests while this much output is unsent.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;
/// Bytes asked for per `recv`.
const READ_CHUNK: usize = 16 * 1024;
const WAKER: Token = Token(usize::MAX);

/// Bind, announce, and serve forever.
pub fn serve(config: ServerConfig, app: App) -> anyhow::Result<()> {
    let listener = common::net::tcp_listen(config.bind)?;
    let local = listener
        .local_addr()
        .with_context(|| format!("getsockname {}", config.bind))?;
    // Each connection is a file descriptor; 1024 is a common default limit.
    let _ = common::net::raise_fd_limit();

    let app = Arc::new(app);
    let active = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for n in 0..config.threads.max(1) {
        let poll = Poll::new().context("create event loop (epoll/kqueue)")?;
        let waker =
            Arc::new(Waker::new(poll.registry(), WAKER).context("create event loop waker")?);
        let (sender, receiver) = mpsc::channel();
        let mut worker = Worker {
            index: n,
            poll,
            receiver,
            conns: Vec::new(),
            free: Vec::new(),
            app: Arc::clone(&app),
            config: config.clone(),
            active: Arc::clone(&active),
            date: DateCache::new(),
            scratch: vec![0; READ_CHUNK],
            now: Instant::now(),
            ready: Vec::new(),
        };
        std::thread::Builder::new()
            .name(format!("worker-{n}"))
            .spawn(move || worker.run())
            .context("start worker thread")?;
        workers.push((sender, waker));
    }
    common::trace::listening("tcp", local);
    common::announce_listening(local);
    accept_loop(&listener, local, &config, &workers, &active);
    Ok(())
}

/// The request line as far as it arrived, for the log of a refused request.
fn first_line(input: &[u8]) -> String {
    let end = input
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(input.len());
    if end == 0 {
        return "-".to_string();
    }
    let mut shown = common::show_bytes(&input[..end.min(200)]);
    if end > 200 {
        shown.push('…');
    }
    shown
}
