//! One connection's state machine (see [`super`]): receive, answer every
//! complete request in order, and the timeouts of slow or silent clients.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpStream;

use super::admission::{Standing, BUSY, CLOSING, IDLE, PARTIAL_HEAD};
use super::worker::Ctx;
use super::{first_line, LINGER, OUTPUT_HIGH_WATER};
use crate::app::Request;
use crate::request::{parse_head, ChunkedDecoder, Framing, Head, Reject};
use crate::response::{Body, Response};

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
pub(super) enum Flow {
    Open,
    Close,
}

pub(super) enum Phase {
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

pub(super) struct Conn {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) standing: Arc<Standing>,
    pub(super) rejected: bool,
    /// Requests answered on this connection so far.
    pub(super) served: u64,
    pub(super) phase: Phase,
    /// Received bytes not yet parsed (the next request, maybe pipelined).
    pub(super) input: Vec<u8>,
    /// The kernel may hold input we have not read: set by a readable event,
    /// cleared when `recv` finds the receive buffer empty (nginx's
    /// `rev->ready`). While it is clear, `recv` would only say WouldBlock.
    pub(super) may_read: bool,
    /// epoll said the client's FIN has arrived: read on until `recv`
    /// returns 0, whatever the size of the reads before it.
    pub(super) read_closed: bool,
    /// The read-ahead's `recv` returned 0: close once what came before is
    /// answered.
    pub(super) client_closed: bool,
    /// The read-ahead's `recv` failed (reset): close.
    pub(super) broken: bool,
    /// The [`crate::files::tick`] of the last `recv` that brought bytes.
    pub(super) received: u64,
    /// Response bytes not yet sent; `out_pos` of them are sent already.
    pub(super) output: Vec<u8>,
    pub(super) out_pos: usize,
    /// A large file still being sent: the file and the bytes left.
    pub(super) file: Option<(File, u64)>,
    /// Close once `output` is sent (Connection: close, errors).
    pub(super) close_after_output: bool,
    /// When the current request's first byte arrived (head timeout).
    pub(super) head_started: Option<Instant>,
    /// When the connection last made progress (idle and body timeouts).
    pub(super) last_progress: Instant,
    /// --trace: the connection's addresses, for its events.
    pub(super) ends: common::trace::Ends,
}

impl Conn {
    pub(super) fn new(
        stream: TcpStream,
        peer: SocketAddr,
        standing: Arc<Standing>,
        rejected: bool,
    ) -> Conn {
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
    pub(super) fn output_sent(&self) -> bool {
        self.out_pos == self.output.len() && self.file.is_none()
    }

    /// Tell the acceptor what this connection is doing now (see [`Standing`]).
    pub(super) fn publish(&self) {
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
    pub(super) fn drive(&mut self, ctx: &mut Ctx<'_>) -> Flow {
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

    /// The first pass of a turn of the event loop (see [`super::worker::Worker::run`]):
    /// one `recv` of what the client has sent, unless responses still wait
    /// to be sent (back-pressure) or the connection is closing. [`drive`]
    /// does the rest.
    ///
    /// [`drive`]: Conn::drive
    pub(super) fn read_ahead(&mut self, ctx: &mut Ctx<'_>) {
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
            let went_on = match self.phase {
                Phase::Lingering { .. } => false,
                Phase::Head => self.take_head(ctx),
                Phase::Body { .. } => self.take_body(ctx),
            };
            if !went_on {
                return false;
            }
        }
    }

    /// [`Phase::Head`]: parse the request head at the start of `input` and
    /// answer it, or start on its body. False when there is nothing more to
    /// do for now: the head is incomplete, or it was answered with a close.
    fn take_head(&mut self, ctx: &mut Ctx<'_>) -> bool {
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
            // The client waits for `100 Continue` before it sends the body.
            // If the head alone already decides the answer (405, 401, 412,
            // …), send that instead, and close: whatever body still comes
            // is drained, never read as the next request.
            if let Some(decided) = ctx.app.decided_by_head(&head) {
                self.respond(ctx, &head, decided, false);
                return false;
            }
            if self.input.is_empty() {
                self.output
                    .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
        }
        self.phase = match head.framing {
            Framing::None => {
                self.answer(ctx, head, Vec::new());
                return true;
            }
            Framing::Length(n) => Phase::Body {
                head,
                body: Vec::with_capacity(n.min(64 * 1024) as usize),
                remaining: n,
                chunked: None,
            },
            Framing::Chunked => Phase::Body {
                head,
                body: Vec::new(),
                remaining: 0,
                chunked: Some(ChunkedDecoder::new(ctx.config.limits.max_header_bytes)),
            },
        };
        true
    }

    /// [`Phase::Body`]: take the body bytes that have arrived; answer the
    /// request once its body is complete. False when more bytes must come
    /// first, or the body was refused.
    fn take_body(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Phase::Body {
            body,
            remaining,
            chunked,
            ..
        } = &mut self.phase
        else {
            return false;
        };
        let done = match chunked {
            None => {
                let take = (*remaining).min(self.input.len() as u64) as usize;
                body.extend_from_slice(&self.input[..take]);
                self.input.drain(..take);
                *remaining -= take as u64;
                *remaining == 0
            }
            Some(decoder) => match decoder.feed(&self.input, body, ctx.config.limits.max_body) {
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
            },
        };
        if !done {
            return false;
        }
        if let Phase::Body { head, body, .. } = std::mem::replace(&mut self.phase, Phase::Head) {
            self.answer(ctx, head, body);
        }
        true
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
    pub(super) fn refuse(&mut self, ctx: &mut Ctx<'_>, line: &str, reject: Reject) {
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

    pub(super) fn check_timeout(&mut self, ctx: &mut Ctx<'_>) -> Flow {
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

/// The stream's own address, when tracing (a syscall saved otherwise).
fn stream_local(stream: &TcpStream) -> Option<SocketAddr> {
    if common::trace::enabled() {
        stream.local_addr().ok()
    } else {
        None
    }
}
