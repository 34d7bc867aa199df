//! The echo server as one event loop (`--model poll`, lesson 9): one thread,
//! non-blocking sockets, and the kernel's readiness list (epoll on Linux,
//! kqueue on macOS, through mio) telling it which sockets to serve.
//!
//! A thread per client (`--model threads`) lets each client's `recv` block;
//! here nothing may block, or every client waits. So every socket is
//! non-blocking: a call that would wait returns `WouldBlock` instead, and
//! the loop goes on to the next socket. mio's readiness is edge-triggered:
//! epoll reports a socket when it *becomes* readable (new bytes arrived),
//! not while it stays readable. A loop that reads once per report and
//! leaves bytes in the receive buffer never hears of them again. So we read
//! until `WouldBlock` — but at most [`READS_PER_TURN`] reads per connection
//! per turn, so that one client's flood cannot starve the others: a
//! connection cut off by that bound is queued and read again next turn,
//! without waiting for another report (none would come).
//!
//! Backpressure: echo bytes the kernel has no room for (the client does not
//! read its echo) wait in the connection's write buffer, at most
//! [`WRITE_BUFFER_LIMIT`] bytes. Once it is full we stop reading from that
//! client: its bytes stay in the kernel's receive buffer, TCP's window
//! closes, and its `send` blocks — on its side, not ours. WRITABLE interest
//! is asked for only while bytes wait, else every ACK would wake us.
//!
//! Memory: an idle connection owns no buffer. Reads go into one buffer the
//! loop shares; only bytes the kernel could not take yet are copied into a
//! connection's own write buffer, which is freed when it empties.
//!
//! One send per visit: the reads of one visit fill the shared buffer one
//! `--buf-size` slice after another, and what they brought is echoed with
//! one `send` at the end. A thread per client sends after every `recv`;
//! here a visit's 16 reads cost one send instead of 16, the kernel builds
//! larger segments, and the client is woken once per visit, not once per
//! read: less CPU per byte than a thread's echo (lesson 9's benchmark).

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use common::trace::Ends;
use common::{say, say_error};

use crate::ServerArgs;

/// Echo bytes one connection may have waiting to be sent; past this, the
/// loop stops reading from it until the client reads its echo (backpressure).
pub const WRITE_BUFFER_LIMIT: usize = 64 * 1024;
/// `recv` calls one connection gets per turn of the loop (fairness).
pub const READS_PER_TURN: usize = 16;

const LISTENER: Token = Token(usize::MAX);

/// One client: its socket and what the loop knows about it.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    ends: Ends,
    /// Bytes received so far (for `closed PEER after N bytes`).
    total: u64,
    /// Echo bytes the kernel had no room for yet. No allocation while empty.
    unsent: Vec<u8>,
    /// Edge-triggered bookkeeping: epoll said readable and `recv` has not
    /// said `WouldBlock` since, so bytes may be waiting.
    may_read: bool,
    /// The client's FIN came (`recv` returned 0): close once `unsent` is sent.
    eof: bool,
    /// WRITABLE is in this socket's interest set.
    wants_writable: bool,
    /// Already in the queue of connections to read again next turn.
    queued: bool,
}

/// What serving a connection left it as.
#[derive(PartialEq, Eq)]
enum Flow {
    Open,
    Close,
}

struct Server {
    poll: Poll,
    listener: TcpListener,
    local: SocketAddr,
    /// Connections by token; a closed one's slot is reused.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// The one read buffer every connection shares: READS_PER_TURN slices
    /// of `--buf-size` bytes, one for each read of a visit.
    buf: Vec<u8>,
    /// `--buf-size`: what one `recv` may bring.
    buf_size: usize,
    /// Connections cut off by READS_PER_TURN, or whose write buffer just
    /// drained: read them next turn without waiting for epoll.
    again: VecDeque<usize>,
    /// `accept` failed for want of descriptors: try again shortly (no new
    /// edge comes for connections already waiting in the backlog).
    accept_again: bool,
    quiet: bool,
    max_clients: Option<u64>,
    disconnected: u64,
}

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let (listener, local) = common::server::listen_nonblocking(args.bind)?;
    let mut listener = TcpListener::from_std(listener);
    let poll = Poll::new().context("epoll_create")?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .with_context(|| format!("epoll_ctl {local}"))?;
    let mut server = Server {
        poll,
        listener,
        local,
        conns: Vec::new(),
        free: Vec::new(),
        buf: vec![0; visit_buffer_len(args.buf_size as usize)],
        buf_size: args.buf_size as usize,
        again: VecDeque::new(),
        accept_again: false,
        quiet: args.quiet,
        max_clients: args.max_clients,
        disconnected: 0,
    };
    server.run()
}

impl Server {
    fn run(&mut self) -> ! {
        let mut events = Events::with_capacity(1024);
        loop {
            // region: readiness-loop — wait for readiness (no wait while connections are queued); accept on the listener's token; for a connection's token note may_read on readable, flush on writable, then serve it; then serve the connections queued last turn
            // Block until some socket is ready, unless connections are
            // queued to be read again: then only look, and serve them.
            let wait = if !self.again.is_empty() {
                Some(Duration::ZERO)
            } else if self.accept_again {
                Some(Duration::from_millis(50))
            } else {
                None
            };
            if let Err(err) = self.poll.poll(&mut events, wait) {
                if err.kind() != ErrorKind::Interrupted {
                    say_error!("epoll_wait {}: {err}", self.local);
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            // The queue as it stood before this turn's events: a connection
            // queued while serving them waits for the next turn.
            let queued = self.again.len();
            if self.accept_again {
                self.accept_all();
            }
            for event in events.iter() {
                let slot = match event.token() {
                    LISTENER => {
                        self.accept_all();
                        continue;
                    }
                    Token(slot) => slot,
                };
                let Some(Some(conn)) = self.conns.get_mut(slot) else {
                    continue;
                };
                // Readable, the FIN, or an error: recv will say which.
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    conn.may_read = true;
                }
                self.serve(slot);
            }
            for _ in 0..queued {
                if let Some(slot) = self.again.pop_front() {
                    if let Some(Some(conn)) = self.conns.get_mut(slot) {
                        conn.queued = false;
                        self.serve(slot);
                    }
                }
            }
            // endregion: readiness-loop
        }
    }

    /// Accept every connection waiting in the backlog (edge-triggered: one
    /// report may stand for many), and register each for READABLE.
    fn accept_all(&mut self) {
        self.accept_again = false;
        loop {
            let (mut stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    say_error!("accept {}: {err}", self.local);
                    if common::server::is_out_of_descriptors(&err) {
                        // The client stays queued; retry once some close.
                        self.accept_again = true;
                        return;
                    }
                    continue;
                }
            };
            let slot = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            if let Err(err) =
                self.poll
                    .registry()
                    .register(&mut stream, Token(slot), Interest::READABLE)
            {
                say_error!("epoll_ctl {peer}: {err}");
                self.free.push(slot);
                continue;
            }
            let ends = Ends {
                local: stream.local_addr().ok(),
                peer: Some(peer),
            };
            ends.note("accept");
            say!("connected {peer}");
            self.conns[slot] = Some(Conn {
                stream,
                peer,
                ends,
                total: 0,
                unsent: Vec::new(),
                // A client's first bytes may have come with its handshake,
                // before we registered: look now rather than wait for an
                // edge that has already passed.
                may_read: true,
                eof: false,
                wants_writable: false,
                queued: false,
            });
            self.serve(slot);
        }
    }

    /// Send what waits, read what may be read (within this turn's bound),
    /// then ask epoll for what the connection needs next.
    fn serve(&mut self, slot: usize) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let mut flow = conn.flush();
        if flow == Flow::Open {
            flow = conn.read_some(&mut self.buf, self.buf_size, self.quiet);
        }
        if flow == Flow::Open && conn.eof && conn.unsent.is_empty() {
            // Everything echoed after the client's FIN: we are done.
            flow = Flow::Close;
        }
        if flow == Flow::Close {
            self.close(slot);
            return;
        }
        // Writable interest only while bytes wait to be sent.
        let wanted = !conn.unsent.is_empty();
        if wanted != conn.wants_writable {
            let interest = if wanted {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(err) =
                self.poll
                    .registry()
                    .reregister(&mut conn.stream, Token(slot), interest)
            {
                say_error!("epoll_ctl {}: {err}", conn.peer);
                self.close(slot);
                return;
            }
            conn.wants_writable = wanted;
        }
        // Bytes may still wait in the receive buffer, and no new edge will
        // announce them: read again next turn, if there is room to echo.
        if conn.may_read && !conn.eof && conn.has_room(0) && !conn.queued {
            conn.queued = true;
            self.again.push_back(slot);
        }
    }

    fn close(&mut self, slot: usize) {
        let Some(Some(mut conn)) = self.conns.get_mut(slot).map(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        conn.ends.note("close");
        drop(conn);
        self.free.push(slot);
        self.disconnected += 1;
        if self.max_clients.is_some_and(|max| self.disconnected >= max) {
            // Log lines are flushed as they are written: nothing is lost.
            std::process::exit(0);
        }
    }
}

impl Conn {
    /// Room to echo more, with `pending` bytes read but not yet sent.
    fn has_room(&self, pending: usize) -> bool {
        self.unsent.len() + pending < WRITE_BUFFER_LIMIT
    }

    /// Read what the client sent, as long as there is room to echo it and
    /// this turn's share is not used up, each read into the next `size`
    /// slice of `buf`; then echo all of it with one send. Leaves `may_read`
    /// set if bytes may remain (the caller queues the connection for the
    /// next turn).
    fn read_some(&mut self, buf: &mut [u8], size: usize, quiet: bool) -> Flow {
        // region: read-until-wouldblock — while has_room(filled) and fewer than READS_PER_TURN reads: read into the next size-byte slice of the shared buf; WouldBlock: clear may_read and stop; 0: log `closed PEER after N bytes`, set eof, stop; n bytes: log `recv N bytes from PEER`, add n to filled; then echo buf[..filled] with one send_or_keep
        let mut reads = 0;
        let mut filled = 0;
        while self.may_read && !self.eof && self.has_room(filled) && reads < READS_PER_TURN {
            reads += 1;
            let slice = &mut buf[filled..filled + size];
            let n = match self.stream.read(slice) {
                Ok(n) => n,
                // The receive buffer is empty: wait for epoll's next edge.
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    self.may_read = false;
                    break;
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    self.ends.error("recv", &err);
                    say_error!("recv {}: {err}", self.peer);
                    return Flow::Close;
                }
            };
            self.ends.recv(size, &slice[..n]);
            if n == 0 {
                // The client's FIN (notes 1.3): nothing more will come. Its
                // echo may still be on its way out; `serve` closes after.
                say!("closed {} after {} bytes", self.peer, self.total);
                self.eof = true;
                self.may_read = false;
                break;
            }
            self.total += n as u64;
            if !quiet {
                say!("recv {n} bytes from {}", self.peer);
            }
            filled += n;
        }
        // The whole visit's echo in one send: fewer calls, larger segments.
        self.send_or_keep(&buf[..filled])
        // endregion: read-until-wouldblock
    }

    /// Echo `bytes`: straight to the socket if nothing is waiting before
    /// them, and keep in `unsent` whatever the kernel does not take now.
    fn send_or_keep(&mut self, bytes: &[u8]) -> Flow {
        if !self.unsent.is_empty() {
            // Older bytes go first; these wait behind them.
            self.unsent.extend_from_slice(bytes);
            return Flow::Open;
        }
        let mut sent = 0;
        while sent < bytes.len() {
            match self.send(&bytes[sent..]) {
                Ok(n) => sent += n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => {
                    say_error!("send {}: {err}", self.peer);
                    return Flow::Close;
                }
            }
        }
        self.unsent.extend_from_slice(&bytes[sent..]);
        Flow::Open
    }

    /// Send as much of `unsent` as the kernel takes now.
    fn flush(&mut self) -> Flow {
        let mut sent = 0;
        while sent < self.unsent.len() {
            let t = common::trace::stamp();
            match self.stream.write(&self.unsent[sent..]) {
                Ok(n) => {
                    self.ends.send(t, &self.unsent[sent..sent + n]);
                    sent += n;
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => {
                    self.ends.error("send", &err);
                    say_error!("send {}: {err}", self.peer);
                    return Flow::Close;
                }
            }
        }
        self.unsent.drain(..sent);
        if self.unsent.is_empty() {
            // Idle again: give the buffer's memory back.
            self.unsent = Vec::new();
        }
        Flow::Open
    }

    /// One `send` (it may take part, or nothing: WouldBlock).
    fn send(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let t = common::trace::stamp();
        let result = self.stream.write(bytes);
        match &result {
            Ok(n) => self.ends.send(t, &bytes[..*n]),
            Err(err) => self.ends.error("send", err),
        }
        result
    }
}

/// The shared buffer's length for reads of `size` bytes: room for a whole
/// visit, READS_PER_TURN reads, but no more than a visit can fill, since
/// reading stops once WRITE_BUFFER_LIMIT bytes wait to be echoed: each read
/// starts below that mark and brings at most `size` bytes.
fn visit_buffer_len(size: usize) -> usize {
    (size * READS_PER_TURN).min(WRITE_BUFFER_LIMIT + size)
}
