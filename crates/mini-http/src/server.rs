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
//! ([`make_room`]); only when every connection is mid-request does the
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

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::app::{App, Request};
use crate::request::{parse_head, ChunkedDecoder, Framing, Head, Limits, Reject};
use crate::response::{reason, status_has_body, Body, DateCache, Response};

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

/// What the acceptor tells a worker.
enum Msg {
    /// A new connection to serve.
    New(NewConn),
    /// Close the connections whose [`Standing::evict`] is set: the server is
    /// full and a newcomer has taken their place.
    Evict,
}

/// A connection on its way from the acceptor to a worker.
struct NewConn {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    standing: Arc<Standing>,
    /// Over --max-connections with every connection mid-request: answer 503
    /// and close.
    rejected: bool,
}

/// What a connection is doing, published by its worker for the acceptor,
/// which reads it only when the server is full and it must choose whom to
/// close. One atomic word: the class in the top bits, and since when (ms
/// after the server started) in the rest.
struct Standing {
    word: AtomicU64,
    /// Holds one of the --max-connections places. Whoever turns this off
    /// (the worker closing it, or the acceptor evicting it) gives the place
    /// back, exactly once.
    counted: AtomicBool,
    /// Chosen for eviction: its worker closes it on the next [`Msg::Evict`].
    evict: AtomicBool,
    worker: usize,
}

/// Classes, in the order they are evicted when the server is full.
const BUSY: u64 = 0; // reading a body or sending a response: never evicted
const PARTIAL_HEAD: u64 = 1; // part of a request head: the oldest goes second
const IDLE: u64 = 2; // no request in progress: the longest idle goes first
const CLOSING: u64 = 3; // answered and closing anyway
const CLASS_SHIFT: u32 = 62;

/// Milliseconds since the server started, for [`Standing`].
fn millis(at: Instant) -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    at.saturating_duration_since(start).as_millis() as u64 & ((1 << CLASS_SHIFT) - 1)
}

impl Standing {
    fn new(worker: usize) -> Standing {
        Standing {
            word: AtomicU64::new((IDLE << CLASS_SHIFT) | millis(Instant::now())),
            counted: AtomicBool::new(true),
            evict: AtomicBool::new(false),
            worker,
        }
    }

    fn publish(&self, class: u64, since: Instant) {
        let word = (class << CLASS_SHIFT) | millis(since);
        if self.word.load(Ordering::Relaxed) != word {
            self.word.store(word, Ordering::Relaxed);
        }
    }

    /// Eviction order: higher is evicted first (class, then the oldest).
    fn rank(&self) -> Option<(u64, std::cmp::Reverse<u64>)> {
        let word = self.word.load(Ordering::Relaxed);
        let class = word >> CLASS_SHIFT;
        (class != BUSY && !self.evict.load(Ordering::Relaxed))
            .then_some((class, std::cmp::Reverse(word & ((1 << CLASS_SHIFT) - 1))))
    }
}

/// The server is full: choose a connection to close for a newcomer — one
/// closing anyway, else the longest-idle keep-alive connection, else the
/// one whose unfinished request head started longest ago. A slow client
/// (slowloris) or a crowd of idle browsers can then never keep a new client
/// out. None: every connection is in the middle of a request.
fn make_room(board: &mut Vec<Arc<Standing>>, workers: &[(Sender<Msg>, Arc<Waker>)]) -> bool {
    board.retain(|s| s.counted.load(Ordering::Relaxed));
    loop {
        let Some(victim) = board
            .iter()
            .filter_map(|s| Some((s.rank()?, s)))
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, s)| Arc::clone(s))
        else {
            return false;
        };
        victim.evict.store(true, Ordering::Relaxed);
        if victim.counted.swap(false, Ordering::AcqRel) {
            // Its place passes to the newcomer; its worker closes it.
            let (sender, waker) = &workers[victim.worker];
            if sender.send(Msg::Evict).is_ok() {
                let _ = waker.wake();
            }
            return true;
        }
        // It closed by itself meanwhile and gave its place back: try again.
        board.retain(|s| s.counted.load(Ordering::Relaxed));
    }
}

fn accept_loop(
    listener: &TcpListener,
    local: SocketAddr,
    config: &ServerConfig,
    workers: &[(Sender<Msg>, Arc<Waker>)],
    active: &AtomicUsize,
) {
    let mut next = 0;
    // Every counted connection; read only when the server is full.
    let mut board: Vec<Arc<Standing>> = Vec::new();
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                common::say_error!("accept {local}: {err}");
                // Out of file descriptors: give the workers a moment to
                // close some instead of spinning on the same error.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        // Responses are written whole; never hold their last bytes back.
        let _ = stream.set_nodelay(true);
        if let Err(err) = stream.set_nonblocking(true) {
            common::say_error!("fcntl O_NONBLOCK {peer}: {err}");
            continue;
        }
        let worker = next % workers.len();
        next = next.wrapping_add(1);
        let standing = Arc::new(Standing::new(worker));
        // Only this thread adds to `active`; workers only take away.
        let admitted = if active.load(Ordering::Acquire) < config.max_connections {
            active.fetch_add(1, Ordering::AcqRel);
            true
        } else {
            // Full: the newcomer takes the place of an evicted connection.
            make_room(&mut board, workers)
        };
        if admitted {
            if board.len() >= 2 * config.max_connections {
                board.retain(|s| s.counted.load(Ordering::Relaxed));
            }
            board.push(Arc::clone(&standing));
        } else {
            standing.counted.store(false, Ordering::Relaxed);
        }
        let (sender, waker) = &workers[worker];
        let new = NewConn {
            stream,
            peer,
            standing,
            rejected: !admitted,
        };
        if sender.send(Msg::New(new)).is_ok() {
            let _ = waker.wake();
        }
    }
}

struct Worker {
    index: usize,
    poll: Poll,
    receiver: Receiver<Msg>,
    /// Connections by token; `free` lists the empty slots.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    app: Arc<App>,
    config: ServerConfig,
    active: Arc<AtomicUsize>,
    date: DateCache,
    scratch: Vec<u8>,
    /// When the current turn of the event loop began (see [`Ctx::now`]).
    now: Instant,
    /// The connections epoll reported this turn.
    ready: Vec<usize>,
}

/// What one `recv` brought.
enum Received {
    /// Bytes (kept in `input`, or dropped while lingering).
    Data,
    /// Nothing now: the receive buffer is empty.
    Nothing,
    /// The client's FIN: `recv` returned 0.
    Closed,
    /// An error, already reported.
    Failed,
}

/// What a connection should do next, after its socket was served.
#[derive(PartialEq, Eq)]
enum Flow {
    Open,
    Close,
}

impl Worker {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let shortest = self
            .config
            .head_timeout
            .min(self.config.idle_timeout)
            .min(LINGER);
        let tick = (shortest / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
        let mut next_check = Instant::now() + tick;
        loop {
            let wait = next_check.saturating_duration_since(Instant::now());
            if let Err(err) = self.poll.poll(&mut events, Some(wait)) {
                if err.kind() != ErrorKind::Interrupted {
                    common::say_error!("epoll_wait: {err}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            self.now = Instant::now();
            self.date.tick();
            let mut ready = std::mem::take(&mut self.ready);
            ready.clear();
            for event in events.iter() {
                if event.token() == WAKER {
                    self.take_new_connections();
                    continue;
                }
                let slot = event.token().0;
                let Some(Some(conn)) = self.conns.get_mut(slot) else {
                    continue;
                };
                // Input (or its end, or an error) may be waiting only if
                // epoll says so: an event that says just "writable" (an
                // ACK made room in the send buffer) is no reason to `recv`.
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    conn.may_read = true;
                }
                if event.is_read_closed() {
                    conn.read_closed = true;
                }
                ready.push(slot);
            }
            // Two passes: first read what every ready connection sent, then
            // answer and send. A file's `stat` made while answering is then
            // later than every request of this turn, and speaks for all of
            // them (see crate::files): one `stat` per file per turn, not
            // one per request.
            for &slot in &ready {
                if let Some((conn, mut ctx)) = self.conn_and_ctx(slot) {
                    conn.read_ahead(&mut ctx);
                }
            }
            for &slot in &ready {
                self.serve_socket(slot);
            }
            self.ready = ready;
            if self.now >= next_check {
                self.check_timeouts();
                next_check = self.now + tick;
            }
        }
    }

    fn take_new_connections(&mut self) {
        while let Ok(msg) = self.receiver.try_recv() {
            let new = match msg {
                Msg::New(new) => new,
                Msg::Evict => {
                    self.evict();
                    continue;
                }
            };
            debug_assert_eq!(new.standing.worker, self.index);
            let slot = match self.free.pop() {
                Some(slot) => slot,
                None => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
            };
            let mut stream = TcpStream::from_std(new.stream);
            if let Err(err) = self.poll.registry().register(
                &mut stream,
                Token(slot),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                common::say_error!("epoll_ctl {}: {err}", new.peer);
                self.free.push(slot);
                if new.standing.counted.swap(false, Ordering::AcqRel) {
                    self.active.fetch_sub(1, Ordering::AcqRel);
                }
                continue;
            }
            self.conns[slot] = Some(Conn::new(stream, new.peer, new.standing, new.rejected));
        }
    }

    /// Close the connections the acceptor chose to make room. Their places
    /// are already given to newcomers. One idle between requests is closed
    /// quietly, as after --idle-timeout (a browser opens another); one in
    /// the middle of its head is told why, with 503.
    fn evict(&mut self) {
        for slot in 0..self.conns.len() {
            let Some((conn, mut ctx)) = self.conn_and_ctx(slot) else {
                continue;
            };
            if !conn.standing.evict.load(Ordering::Relaxed) {
                continue;
            }
            if matches!(conn.phase, Phase::Head) && !conn.input.is_empty() {
                let line = first_line(&conn.input);
                let reject = Reject {
                    status: 503,
                    reason: format!(
                        "the server is full (--max-connections {}) and this request head, unfinished, was the oldest",
                        ctx.config.max_connections
                    ),
                };
                conn.refuse(&mut ctx, &line, reject);
                if conn.drive(&mut ctx) == Flow::Open {
                    continue; // lingering a moment, no longer counted
                }
            }
            self.close(slot);
        }
    }

    /// The connection in `slot`, if there is one, and what it borrows from
    /// this worker while it is served.
    fn conn_and_ctx(&mut self, slot: usize) -> Option<(&mut Conn, Ctx<'_>)> {
        let Worker {
            conns,
            app,
            config,
            date,
            scratch,
            now,
            ..
        } = self;
        let conn = conns.get_mut(slot)?.as_mut()?;
        let ctx = Ctx {
            app,
            config,
            date,
            scratch,
            now: *now,
        };
        Some((conn, ctx))
    }

    fn serve_socket(&mut self, slot: usize) {
        let Some((conn, mut ctx)) = self.conn_and_ctx(slot) else {
            return;
        };
        if conn.drive(&mut ctx) == Flow::Close {
            self.close(slot);
        } else {
            conn.publish();
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(Some(mut conn)) = self.conns.get_mut(slot).map(Option::take) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            conn.ends.note("close");
            if conn.standing.counted.swap(false, Ordering::AcqRel) {
                self.active.fetch_sub(1, Ordering::AcqRel);
            }
            self.free.push(slot);
        }
    }

    /// Slow or silent clients: every tick, look at every connection's clock.
    fn check_timeouts(&mut self) {
        for slot in 0..self.conns.len() {
            let Some((conn, mut ctx)) = self.conn_and_ctx(slot) else {
                continue;
            };
            if conn.check_timeout(&mut ctx) == Flow::Close {
                self.close(slot);
            } else {
                conn.publish();
            }
        }
    }
}

/// What a connection borrows from its worker while it is served.
struct Ctx<'a> {
    app: &'a App,
    config: &'a ServerConfig,
    date: &'a mut DateCache,
    scratch: &'a mut Vec<u8>,
    /// The loop's clock: read once per turn of the event loop (one
    /// `clock_gettime` for a whole batch of events, as nginx does); the
    /// timeouts it feeds are whole seconds.
    now: Instant,
}

enum Phase {
    /// Waiting for (the rest of) a request head.
    Head,
    /// Head parsed; collecting its body.
    Body {
        head: Head,
        body: Vec<u8>,
        /// Content-Length bytes still to come (unused when chunked).
        remaining: u64,
        chunked: Option<ChunkedDecoder>,
    },
    /// Final response sent and write side shut: read and drop input until
    /// the client closes too, or [`LINGER`] passes.
    Lingering { until: Instant },
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    standing: Arc<Standing>,
    rejected: bool,
    /// Requests answered on this connection so far.
    served: u64,
    phase: Phase,
    /// Received bytes not yet parsed (the next request, maybe pipelined).
    input: Vec<u8>,
    /// The kernel may hold input we have not read: set by a readable event,
    /// cleared when `recv` finds the receive buffer empty (nginx's
    /// `rev->ready`). While it is clear, `recv` would only say WouldBlock.
    may_read: bool,
    /// epoll said the client's FIN has arrived: read on until `recv`
    /// returns 0, whatever the size of the reads before it.
    read_closed: bool,
    /// The read-ahead's `recv` returned 0: close once what came before is
    /// answered.
    client_closed: bool,
    /// The read-ahead's `recv` failed (reset): close.
    broken: bool,
    /// The [`crate::files::tick`] of the last `recv` that brought bytes.
    received: u64,
    /// Response bytes not yet sent; `out_pos` of them are sent already.
    output: Vec<u8>,
    out_pos: usize,
    /// A large file still being sent: the file and the bytes left.
    file: Option<(File, u64)>,
    /// Close once `output` is sent (Connection: close, errors).
    close_after_output: bool,
    /// When the current request's first byte arrived (head timeout).
    head_started: Option<Instant>,
    /// When the connection last made progress (idle and body timeouts).
    last_progress: Instant,
    /// --trace: the connection's addresses, for its events.
    ends: common::trace::Ends,
}

impl Conn {
    fn new(stream: TcpStream, peer: SocketAddr, standing: Arc<Standing>, rejected: bool) -> Conn {
        let ends = common::trace::Ends {
            local: stream_local(&stream),
            peer: Some(peer),
        };
        ends.note("accept");
        Conn {
            stream,
            peer,
            standing,
            rejected,
            served: 0,
            phase: Phase::Head,
            input: Vec::new(),
            // Bytes that came before the socket was registered make
            // epoll report it readable at once (EPOLL_CTL_ADD checks).
            may_read: false,
            read_closed: false,
            client_closed: false,
            broken: false,
            received: 0,
            output: Vec::new(),
            out_pos: 0,
            file: None,
            close_after_output: false,
            head_started: None,
            last_progress: Instant::now(),
            ends,
        }
    }

    /// Every queued response has gone into the socket.
    fn output_sent(&self) -> bool {
        self.out_pos == self.output.len() && self.file.is_none()
    }

    /// Tell the acceptor what this connection is doing now (see [`Standing`]).
    fn publish(&self) {
        let sent = self.output_sent();
        let (class, since) = match self.phase {
            Phase::Lingering { .. } => (CLOSING, self.last_progress),
            Phase::Head if sent && self.input.is_empty() => (IDLE, self.last_progress),
            Phase::Head if sent => (
                PARTIAL_HEAD,
                self.head_started.unwrap_or(self.last_progress),
            ),
            _ => (BUSY, self.last_progress),
        };
        self.standing.publish(class, since);
    }

    /// Serve this connection as far as it goes without waiting: answer what
    /// has arrived, send what we can, read what is there. The event loop is
    /// edge-triggered, so we stop only when the kernel has nothing more for
    /// us — `send` said WouldBlock, or `recv` did, or returned less than it
    /// was asked for (we will be told when that changes) — or when the
    /// connection is over.
    ///
    /// Back-pressure: we `recv` only once every queued response is sent, and
    /// answer buffered requests only while less than [`OUTPUT_HIGH_WATER`]
    /// is queued. A client that pipelines requests faster than it reads the
    /// responses is then held back by TCP itself (its requests wait in the
    /// kernel's buffers, and then in its own), instead of growing our
    /// buffers without end.
    fn drive(&mut self, ctx: &mut Ctx<'_>) -> Flow {
        if self.broken {
            return Flow::Close;
        }
        loop {
            let held_back = self.answer_buffered(ctx);
            match self.send_output(ctx.now) {
                Ok(true) => {}
                Ok(false) => return Flow::Open, // socket full: wait for writable
                Err(err) => {
                    common::say_error!("send {}: {err}", self.peer);
                    return Flow::Close;
                }
            }
            if self.close_after_output && !matches!(self.phase, Phase::Lingering { .. }) {
                // Half-close: the client reads EOF after our last response,
                // while we keep reading so unread input cannot cause a reset.
                let _ = self.stream.shutdown(Shutdown::Write);
                if common::trace::enabled() {
                    self.ends.event("shutdown").string("how", "write").write();
                }
                self.phase = Phase::Lingering {
                    until: ctx.now + LINGER,
                };
            }
            if held_back {
                // The output has drained, and requests still wait in
                // `input`: answer them before reading more. A `recv` here
                // could end in WouldBlock with them unanswered — and no
                // event would ever come for bytes we have already read.
                continue;
            }
            if self.client_closed {
                // The read-ahead found the client's FIN. Whatever is left
                // in `input` is an unfinished request.
                return Flow::Close;
            }
            match self.receive(ctx) {
                Received::Data => {}
                Received::Nothing => return Flow::Open,
                Received::Closed | Received::Failed => return Flow::Close,
            }
        }
    }

    /// The first pass of a turn of the event loop (see [`Worker::run`]):
    /// one `recv` of what the client has sent, unless responses still wait
    /// to be sent (back-pressure) or the connection is closing. [`drive`]
    /// does the rest.
    ///
    /// [`drive`]: Conn::drive
    fn read_ahead(&mut self, ctx: &mut Ctx<'_>) {
        if !self.output_sent() || self.client_closed || self.broken {
            return;
        }
        if matches!(self.phase, Phase::Lingering { .. }) || self.close_after_output {
            return;
        }
        match self.receive(ctx) {
            Received::Data | Received::Nothing => {}
            // Answer what came before the FIN, then close.
            Received::Closed => self.client_closed = true,
            Received::Failed => self.broken = true,
        }
    }

    /// One `recv` into `input` (or, while lingering, into nothing).
    fn receive(&mut self, ctx: &mut Ctx<'_>) -> Received {
        loop {
            if !self.may_read {
                // Everything the kernel had is read; the next byte to
                // arrive will bring an event.
                return Received::Nothing;
            }
            let read = self.stream.read(ctx.scratch);
            match &read {
                Ok(n) => self.ends.recv(ctx.scratch.len(), &ctx.scratch[..*n]),
                Err(err) => self.ends.error("recv", err),
            }
            if !self.read_closed && matches!(read, Ok(n) if n > 0 && n < ctx.scratch.len()) {
                // A short read emptied the receive buffer: a further
                // `recv` now would say WouldBlock. Whatever arrives from
                // now on raises a new edge-triggered event. (A FIN that
                // came with the data stays behind a short read: epoll then
                // says "read closed", and we read on until `recv` says 0.)
                self.may_read = false;
            }
            return match read {
                // recv returned 0: the client closed its side (lesson 1).
                Ok(0) => Received::Closed,
                Ok(n) => {
                    if let Phase::Lingering { .. } = self.phase {
                        return Received::Data; // drained and dropped
                    }
                    if self.input.is_empty() && matches!(self.phase, Phase::Head) {
                        self.head_started = Some(ctx.now);
                    }
                    self.input.extend_from_slice(&ctx.scratch[..n]);
                    self.last_progress = ctx.now;
                    self.received = crate::files::tick();
                    Received::Data
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    self.may_read = false;
                    Received::Nothing
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    // A reset while lingering is the client closing with
                    // our response unread by choice: nothing lost.
                    if !matches!(self.phase, Phase::Lingering { .. }) {
                        common::say_error!("recv {}: {err}", self.peer);
                    }
                    Received::Failed
                }
            };
        }
    }

    /// Answer every complete request in `input`, in order (pipelining),
    /// until output piles up or the connection is to close. Returns true
    /// when it stopped because output piled up (more than
    /// [`OUTPUT_HIGH_WATER`] queued, or a file being sent) with input left
    /// over: once the output is sent, call it again before reading more.
    fn answer_buffered(&mut self, ctx: &mut Ctx<'_>) -> bool {
        loop {
            if self.close_after_output {
                return false;
            }
            if self.file.is_some() || self.output.len() - self.out_pos > OUTPUT_HIGH_WATER {
                return !self.input.is_empty();
            }
            match &mut self.phase {
                Phase::Lingering { .. } => return false,
                Phase::Head => {
                    if self.input.is_empty() {
                        return false;
                    }
                    let (head, len) = match parse_head(&self.input, &ctx.config.limits) {
                        Ok(Some(parsed)) => parsed,
                        Ok(None) => return false,
                        Err(reject) => {
                            let line = first_line(&self.input);
                            self.refuse(ctx, &line, reject);
                            return false;
                        }
                    };
                    self.input.drain(..len);
                    self.head_started = None;
                    if self.rejected {
                        let response = Response::error(
                            503,
                            &format!(
                                "all {} connections (--max-connections) are in the middle of a request; try again shortly",
                                ctx.config.max_connections
                            ),
                        )
                        .header("Retry-After", "1");
                        self.respond(ctx, &head, response, false);
                        return false;
                    }
                    if head.expect_continue && head.framing != Framing::None {
                        // The client waits for `100 Continue` before it
                        // sends the body. If the head alone already decides
                        // the answer (405, 401, 412, …), send that instead,
                        // and close: whatever body still comes is drained,
                        // never read as the next request.
                        if let Some(decided) = ctx.app.decided_by_head(&head) {
                            self.respond(ctx, &head, decided, false);
                            return false;
                        }
                        if self.input.is_empty() {
                            self.output
                                .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                        }
                    }
                    match head.framing {
                        Framing::None => self.answer(ctx, head, Vec::new()),
                        Framing::Length(n) => {
                            self.phase = Phase::Body {
                                head,
                                body: Vec::with_capacity(n.min(64 * 1024) as usize),
                                remaining: n,
                                chunked: None,
                            };
                        }
                        Framing::Chunked => {
                            self.phase = Phase::Body {
                                head,
                                body: Vec::new(),
                                remaining: 0,
                                chunked: Some(ChunkedDecoder::new(
                                    ctx.config.limits.max_header_bytes,
                                )),
                            };
                        }
                    }
                }
                Phase::Body {
                    body,
                    remaining,
                    chunked,
                    ..
                } => {
                    let done = match chunked {
                        None => {
                            let take = (*remaining).min(self.input.len() as u64) as usize;
                            body.extend_from_slice(&self.input[..take]);
                            self.input.drain(..take);
                            *remaining -= take as u64;
                            *remaining == 0
                        }
                        Some(decoder) => {
                            match decoder.feed(&self.input, body, ctx.config.limits.max_body) {
                                Ok(fed) => {
                                    self.input.drain(..fed.consumed);
                                    fed.done
                                }
                                Err(reject) => {
                                    let phase = std::mem::replace(&mut self.phase, Phase::Head);
                                    let line = match &phase {
                                        Phase::Body { head, .. } => head.request_line(),
                                        _ => String::from("-"),
                                    };
                                    self.refuse(ctx, &line, reject);
                                    return false;
                                }
                            }
                        }
                    };
                    if !done {
                        return false;
                    }
                    if let Phase::Body { head, body, .. } =
                        std::mem::replace(&mut self.phase, Phase::Head)
                    {
                        self.answer(ctx, head, body);
                    }
                }
            }
        }
    }

    /// Hand a complete request to the application and queue its response.
    fn answer(&mut self, ctx: &mut Ctx<'_>, head: Head, body: Vec<u8>) {
        let request = Request {
            head: &head,
            body: &body,
            peer: self.peer,
            received: self.received,
        };
        // A bug in the application must cost one request, not the worker
        // thread and every connection on it: a panic becomes a 500 (the
        // panic hook has already printed its `error:` line).
        let response =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ctx.app.handle(&request)))
                .unwrap_or_else(|_| Response::error(500, "the application failed (internal bug)"));
        if response.status == 500 {
            if let Body::Bytes(text) = &response.body {
                common::say_error!(
                    "{} \"{}\": {}",
                    self.peer,
                    head.request_line(),
                    String::from_utf8_lossy(text).trim_end()
                );
            }
        }
        let keep_alive = head.keep_alive;
        self.respond(ctx, &head, response, keep_alive);
    }

    /// A request the server refuses before the application sees it: answer
    /// with the status and close, since the byte stream can no longer be
    /// trusted to say where the next request starts.
    fn refuse(&mut self, ctx: &mut Ctx<'_>, line: &str, reject: Reject) {
        common::say_error!("request from {}: {}", self.peer, reject);
        let response = Response::error(reject.status, &reject.reason);
        let sent = self.queue_response(ctx, false, 1, false, response);
        self.log(ctx, line, reject.status, sent);
        self.close_after_output = true;
        self.input.clear();
    }

    fn respond(&mut self, ctx: &mut Ctx<'_>, head: &Head, response: Response, keep_alive: bool) {
        let keep_alive = keep_alive && !response.close;
        let status = response.status;
        let sent =
            self.queue_response(ctx, head.method == "HEAD", head.minor, keep_alive, response);
        if ctx.config.access_log {
            self.log(ctx, &head.request_line(), status, sent);
        }
        if !keep_alive {
            self.close_after_output = true;
        }
        self.served += 1;
        self.last_progress = ctx.now;
    }

    /// `PEER "METHOD TARGET VERSION" STATUS BYTES` — BYTES is the body length sent.
    fn log(&self, ctx: &Ctx<'_>, line: &str, status: u16, sent: u64) {
        if ctx.config.access_log {
            common::say!("{} \"{}\" {status} {sent}", self.peer, line);
        }
    }

    /// Serialise the status line, headers and (unless HEAD) body into the
    /// output buffer. Returns the body bytes that will be sent.
    fn queue_response(
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
    fn send_output(&mut self, now: Instant) -> io::Result<bool> {
        loop {
            if self.out_pos < self.output.len() {
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
                    Ok(0) => return Err(ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.ends.send(t, &pending[..n]);
                        self.out_pos += n;
                        self.last_progress = now;
                    }
                    Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(false),
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                }
                continue;
            }
            self.output.clear();
            self.out_pos = 0;
            let Some((file, left)) = &mut self.file else {
                return Ok(true);
            };
            #[cfg(target_os = "linux")]
            {
                // sendfile(2): the kernel copies from the page cache straight
                // into the socket buffer — no read into our memory and write
                // back out. It reads from the file's current offset (set by a
                // Range) and advances it.
                use std::os::fd::AsRawFd;
                let want = (*left).min(1 << 20) as usize;
                // SAFETY: both descriptors are open and owned by this
                // connection; a null offset makes the kernel use and advance
                // the file's own offset; no memory of ours is touched.
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
                    match err.kind() {
                        ErrorKind::WouldBlock => return Ok(false),
                        ErrorKind::Interrupted => continue,
                        _ => return Err(err),
                    }
                }
                if sent == 0 {
                    // The file shrank after we promised its length: the only
                    // honest thing left is to close the connection.
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "file shrank while sent",
                    ));
                }
                *left -= sent as u64;
                self.last_progress = now;
                if *left == 0 {
                    self.file = None;
                }
                continue;
            }
            #[cfg(not(target_os = "linux"))]
            {
                let want = (*left).min(64 * 1024) as usize;
                self.output.resize(want, 0);
                let n = file.read(&mut self.output)?;
                self.output.truncate(n);
                if n == 0 {
                    // The file shrank after we promised its length: the only
                    // honest thing left is to close the connection.
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "file shrank while sent",
                    ));
                }
                *left -= n as u64;
                if *left == 0 {
                    self.file = None;
                }
            }
        }
    }

    fn check_timeout(&mut self, ctx: &mut Ctx<'_>) -> Flow {
        let (config, now) = (ctx.config, ctx.now);
        match &self.phase {
            Phase::Lingering { until } => {
                if now >= *until {
                    return Flow::Close;
                }
                return Flow::Open;
            }
            _ if !self.output_sent() => {
                // Responses wait for the client to read them, and any
                // pipelined requests wait unanswered behind them
                // (back-pressure): the client is slow, not its request.
                // Close if it takes nothing for --idle-timeout.
                if now.duration_since(self.last_progress) >= config.idle_timeout.max(LINGER) {
                    return Flow::Close;
                }
                return Flow::Open;
            }
            Phase::Head if self.input.is_empty() => {
                // Between requests: close quietly after --idle-timeout.
                // Before the first request, allow --head-timeout: a person
                // connecting with `nc` needs time to start typing.
                let limit = if self.served == 0 {
                    config.head_timeout
                } else {
                    config.idle_timeout
                };
                if now.duration_since(self.last_progress) >= limit {
                    return Flow::Close;
                }
                return Flow::Open;
            }
            Phase::Head => {
                let started = self.head_started.unwrap_or(self.last_progress);
                if now.duration_since(started) < config.head_timeout {
                    return Flow::Open;
                }
                let line = first_line(&self.input);
                let reject = Reject {
                    status: 408,
                    reason: format!(
                        "request head not complete after {} s (--head-timeout)",
                        config.head_timeout.as_secs_f64()
                    ),
                };
                self.refuse(ctx, &line, reject);
            }
            Phase::Body { head, .. } => {
                if now.duration_since(self.last_progress) < config.head_timeout {
                    return Flow::Open;
                }
                let line = head.request_line();
                let reject = Reject {
                    status: 408,
                    reason: format!(
                        "request body stalled for {} s (--head-timeout)",
                        config.head_timeout.as_secs_f64()
                    ),
                };
                self.phase = Phase::Head;
                self.refuse(ctx, &line, reject);
            }
        }
        self.drive(ctx)
    }
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

/// The stream's own address, when tracing (a syscall saved otherwise).
fn stream_local(stream: &TcpStream) -> Option<SocketAddr> {
    if common::trace::enabled() {
        stream.local_addr().ok()
    } else {
        None
    }
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
