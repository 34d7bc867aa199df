//! Admission: the acceptor thread hands each new connection to a worker,
//! and when --max-connections are open it chooses whom to close for the
//! newcomer ([`make_room`]).

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mio::Waker;

use super::ServerConfig;

/// What the acceptor tells a worker.
pub(super) enum Msg {
    /// A new connection to serve.
    New(NewConn),
    /// Close the connections whose [`Standing::evict`] is set: the server is
    /// full and a newcomer has taken their place.
    Evict,
}

/// A connection on its way from the acceptor to a worker.
pub(super) struct NewConn {
    pub(super) stream: std::net::TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) standing: Arc<Standing>,
    /// Over --max-connections with every connection mid-request: answer 503
    /// and close.
    pub(super) rejected: bool,
}

/// What a connection is doing, published by its worker for the acceptor,
/// which reads it only when the server is full and it must choose whom to
/// close. One atomic word: the class in the top bits, and since when (ms
/// after the server started) in the rest.
pub(super) struct Standing {
    pub(super) word: AtomicU64,
    /// Holds one of the --max-connections places. Whoever turns this off
    /// (the worker closing it, or the acceptor evicting it) gives the place
    /// back, exactly once.
    pub(super) counted: AtomicBool,
    /// Chosen for eviction: its worker closes it on the next [`Msg::Evict`].
    pub(super) evict: AtomicBool,
    pub(super) worker: usize,
}

/// Classes, in the order they are evicted when the server is full.
pub(super) const BUSY: u64 = 0; // reading a body or sending a response: never evicted
pub(super) const PARTIAL_HEAD: u64 = 1; // part of a request head: the oldest goes second
pub(super) const IDLE: u64 = 2; // no request in progress: the longest idle goes first
pub(super) const CLOSING: u64 = 3; // answered and closing anyway
const CLASS_SHIFT: u32 = 62;

/// Milliseconds since the server started, for [`Standing`].
fn millis(at: Instant) -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    at.saturating_duration_since(start).as_millis() as u64 & ((1 << CLASS_SHIFT) - 1)
}

impl Standing {
    pub(super) fn new(worker: usize) -> Standing {
        Standing {
            word: AtomicU64::new((IDLE << CLASS_SHIFT) | millis(Instant::now())),
            counted: AtomicBool::new(true),
            evict: AtomicBool::new(false),
            worker,
        }
    }

    pub(super) fn publish(&self, class: u64, since: Instant) {
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

pub(super) fn accept_loop(
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
