//! A worker thread: one event loop (mio: epoll on Linux, kqueue on macOS)
//! over the connections the acceptor gave it.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::admission::Msg;
use super::connection::{Conn, Flow, Phase};
use super::{first_line, ServerConfig, LINGER, WAKER};
use crate::app::App;
use crate::request::Reject;
use crate::response::DateCache;

pub(super) struct Worker {
    pub(super) index: usize,
    pub(super) poll: Poll,
    pub(super) receiver: Receiver<Msg>,
    /// Connections by token; `free` lists the empty slots.
    pub(super) conns: Vec<Option<Conn>>,
    pub(super) free: Vec<usize>,
    pub(super) app: Arc<App>,
    pub(super) config: ServerConfig,
    pub(super) active: Arc<AtomicUsize>,
    pub(super) date: DateCache,
    pub(super) scratch: Vec<u8>,
    /// When the current turn of the event loop began (see [`Ctx::now`]).
    pub(super) now: Instant,
    /// The connections epoll reported this turn.
    pub(super) ready: Vec<usize>,
}

impl Worker {
    pub(super) fn run(&mut self) {
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
pub(super) struct Ctx<'a> {
    pub(super) app: &'a App,
    pub(super) config: &'a ServerConfig,
    pub(super) date: &'a mut DateCache,
    pub(super) scratch: &'a mut Vec<u8>,
    /// The loop's clock: read once per turn of the event loop (one
    /// `clock_gettime` for a whole batch of events, as nginx does); the
    /// timeouts it feeds are whole seconds.
    pub(super) now: Instant,
}
