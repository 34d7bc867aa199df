//! wire — socket traces (`--trace FILE`, README "Traces") as sequence diagrams.
//!
//! A trace is what one process did with its sockets, one JSON line per call.
//! This crate reads one or more traces, gives every endpoint (a process's
//! local socket address) a column, and matches each side's calls against the
//! other's:
//!
//! * on a TCP connection by **byte offset**: a send covering bytes 10–14 of
//!   the stream is drawn to every recv that took any of those bytes, so five
//!   sends meeting one recv are five arrows into one point, and a frame split
//!   over two reads is one send with two arrows out;
//! * an empty recv is the peer's FIN, drawn from its shutdown or close; a
//!   recv that failed with ECONNRESET is its RST;
//! * on UDP by **order and content**: each recvfrom takes the earliest
//!   unmatched sendto from its sender with the same first bytes — one
//!   broadcast reaching three receivers is one send with three arrows, and a
//!   datagram cut short by a small buffer says so.
//!
//! [`Diagram::build`] does the matching and the layout (rows in time order,
//! a long trace's middle summarised); [`render`] draws it as text or SVG;
//! [`Diagram::structure`] is its shape without times or ports, which
//! `scripts/diagrams --check` compares with what is committed.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

pub mod render;

/// The trace format this reader understands (`"wire_trace":1`).
pub const FORMAT_VERSION: u64 = 1;

/// ECONNRESET on Linux, the BSDs and macOS: the peer answered with RST.
const ECONNRESET: &[i64] = &[104, 54];

/// Do two socket addresses name the same socket? Equal, or one of them on
/// the wildcard address (`0.0.0.0:P`, `[::]:P`: a socket bound to every
/// address, which its peer sees at one of them) with the same port.
pub fn same_socket(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let split = |s: &str| {
        s.rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.to_string()))
    };
    match (split(a), split(b)) {
        (Some((ha, pa)), Some((hb, pb))) => {
            let wild = |h: &str| h == "0.0.0.0" || h == "[::]";
            pa == pb && (wild(&ha) || wild(&hb))
        }
        _ => false,
    }
}

/// One socket event, as a trace line has it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Event {
    /// Nanoseconds on the machine's monotonic clock.
    pub t: u64,
    /// connect, accept, listen, bind, send, recv, sendto, recvfrom,
    /// shutdown, close, timeout, error.
    pub ev: String,
    /// tcp or udp.
    pub proto: String,
    pub local: Option<String>,
    pub peer: Option<String>,
    /// Bytes sent or received.
    pub len: Option<u64>,
    /// The first bytes, as TEXT (README rule 6).
    pub text: String,
    /// Bytes not shown in `text`.
    pub more: u64,
    /// The size the recv asked for.
    pub asked: Option<u64>,
    /// A datagram larger than the buffer: the rest was lost.
    pub truncated: bool,
    /// Its real size, where the OS says.
    pub size: Option<u64>,
    /// shutdown: read, write or both.
    pub how: Option<String>,
    /// error or timeout: the call that failed.
    pub op: Option<String>,
    pub error: Option<String>,
    pub errno: Option<i64>,
}

impl Event {
    fn is(&self, ev: &str) -> bool {
        self.ev == ev
    }
    fn len(&self) -> u64 {
        self.len.unwrap_or(0)
    }
    fn is_reset(&self) -> bool {
        self.is("error")
            && (self.errno.is_some_and(|e| ECONNRESET.contains(&e))
                || self.error.as_deref().is_some_and(|e| e.contains("reset")))
    }
}

/// One process's trace: who it was and what it did.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub program: String,
    pub events: Vec<Event>,
}

#[derive(Deserialize)]
struct Header {
    wire_trace: u64,
    #[serde(default)]
    program: String,
}

impl Trace {
    /// Read a trace file's text: the header line, then one event per line.
    /// Blank lines are skipped; a malformed line is an error naming it.
    pub fn parse(text: &str) -> Result<Trace, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err("empty: no header line".into());
        };
        let header: Header = serde_json::from_str(first)
            .map_err(|e| format!("line 1: not a wire trace header ({e})"))?;
        if header.wire_trace != FORMAT_VERSION {
            return Err(format!(
                "line 1: trace format version {} (this wire reads version {FORMAT_VERSION})",
                header.wire_trace
            ));
        }
        let mut events = Vec::new();
        for (i, line) in lines {
            let event: Event =
                serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
            events.push(event);
        }
        Ok(Trace {
            program: header.program,
            events,
        })
    }
}

/// A column: one socket address of one process (or of a peer nobody traced).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// `sticky-demo client`, `tcp-echo server`, or `not traced`.
    pub title: String,
    pub addr: String,
    /// Which trace it came from (None: a peer seen only from the other side).
    pub trace: Option<usize>,
}

/// What an arrow stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    /// Bytes of a send, to a recv that took some of them.
    Data,
    /// The handshake: connect to accept.
    Connect,
    /// shutdown(write) or close: the peer's recv returned empty.
    Fin,
    /// The peer's recv failed with ECONNRESET.
    Reset,
    /// A datagram, whole.
    Datagram,
    /// A datagram the buffer cut short.
    Truncated,
    /// Sent, and no traced recv took it (lost, or the peer is not traced).
    Unreceived,
}

/// One arrow between two rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub from_row: usize,
    pub to_row: usize,
    pub kind: ArrowKind,
}

/// One row: one event, in one column, at one time.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub column: usize,
    /// Nanoseconds since the first event.
    pub t: u64,
    pub event: Event,
    /// `s3` (third send of its column), `r1`…: how other rows refer to it.
    pub tag: String,
    /// A summary row stands for many events (`… 9,980 events …`).
    pub summary: Option<String>,
    /// A row with no event of its own: the untraced end of an arrow.
    pub ghost: bool,
}

/// A sequence diagram, ready to draw.
#[derive(Clone, Debug, Default)]
pub struct Diagram {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub arrows: Vec<Arrow>,
}

/// Options for [`Diagram::build`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Draw at most this many rows; the middle of a longer trace becomes one
    /// summary row per column.
    pub max_rows: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { max_rows: 60 }
    }
}

/// A column key: (trace index, local address).
type Key = (Option<usize>, String);

impl Diagram {
    /// Match the traces' events against each other and lay them out.
    pub fn build(traces: &[Trace], options: Options) -> Diagram {
        // Every event, in time order (ties keep file order).
        let mut all: Vec<(usize, &Event)> = traces
            .iter()
            .enumerate()
            .flat_map(|(i, tr)| tr.events.iter().map(move |e| (i, e)))
            .collect();
        all.sort_by_key(|(_, e)| e.t);
        let t0 = all.first().map(|(_, e)| e.t).unwrap_or(0);

        // Columns in order of first appearance.
        let mut columns: Vec<Column> = Vec::new();
        let mut index: HashMap<Key, usize> = HashMap::new();
        let mut roles: Vec<(bool, bool)> = Vec::new(); // (listens/accepts, connects)
        for &(ti, e) in &all {
            let addr = e.local.clone().unwrap_or_else(|| "?".into());
            let key = (Some(ti), addr.clone());
            let col = *index.entry(key).or_insert_with(|| {
                columns.push(Column {
                    title: traces[ti].program.clone(),
                    addr,
                    trace: Some(ti),
                });
                roles.push((false, false));
                columns.len() - 1
            });
            match e.ev.as_str() {
                "listen" | "accept" | "bind" => roles[col].0 = true,
                "connect" => roles[col].1 = true,
                _ => {}
            }
        }
        for (col, (serves, connects)) in columns.iter_mut().zip(&roles) {
            if *serves {
                col.title.push_str(" server");
            } else if *connects {
                col.title.push_str(" client");
            }
        }

        let mut rows: Vec<Row> = Vec::with_capacity(all.len());
        let mut counters: HashMap<(usize, char), usize> = HashMap::new();
        for &(ti, e) in &all {
            let addr = e.local.clone().unwrap_or_else(|| "?".into());
            let column = index[&(Some(ti), addr)];
            let letter = match e.ev.as_str() {
                "send" | "sendto" => Some('s'),
                "recv" | "recvfrom" => Some('r'),
                _ => None,
            };
            let tag = match letter {
                Some(c) => {
                    let n = counters.entry((column, c)).or_insert(0);
                    *n += 1;
                    format!("{c}{n}")
                }
                None => String::new(),
            };
            rows.push(Row {
                column,
                t: e.t - t0,
                event: e.clone(),
                tag,
                summary: None,
                ghost: false,
            });
        }

        let mut diagram = Diagram {
            columns,
            rows,
            arrows: Vec::new(),
        };
        diagram.match_tcp();
        diagram.match_udp();
        diagram.connect_arrows();
        diagram.unreceived_arrows(&mut index);
        diagram.arrows.sort_by_key(|a| (a.from_row, a.to_row));
        diagram.summarise(options.max_rows);
        diagram
    }

    /// The column a peer address belongs to: a traced one whose local
    /// address it is, if any.
    fn column_of(&self, addr: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.addr == addr)
            .or_else(|| self.columns.iter().position(|c| same_socket(&c.addr, addr)))
    }

    /// TCP: sends and recvs of each direction of each connection, matched
    /// by byte offsets; empty recvs to FINs, resets to the peer's close.
    fn match_tcp(&mut self) {
        // (from, to) address pair -> send rows, recv rows.
        let mut sends: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        let mut recvs: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        let mut ends: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, row) in self.rows.iter().enumerate() {
            let e = &row.event;
            if e.proto != "tcp" {
                continue;
            }
            let (Some(local), Some(peer)) = (e.local.clone(), e.peer.clone()) else {
                continue;
            };
            match e.ev.as_str() {
                "send" => sends.entry((local, peer)).or_default().push(i),
                "recv" => recvs.entry((peer, local)).or_default().push(i),
                "error" if e.is_reset() => recvs.entry((peer, local)).or_default().push(i),
                "shutdown" if e.how.as_deref() != Some("read") => {
                    ends.entry((local, peer)).or_default().push(i)
                }
                "close" => ends.entry((local, peer)).or_default().push(i),
                _ => {}
            }
        }
        for (pair, recv_rows) in &recvs {
            let send_rows = sends.get(pair).cloned().unwrap_or_default();
            // Byte ranges of the stream, in the order each side saw them.
            let mut spans = Vec::new();
            let mut at = 0u64;
            for &s in &send_rows {
                let n = self.rows[s].event.len();
                spans.push((at, at + n, s));
                at += n;
            }
            let mut at = 0u64;
            for &r in recv_rows {
                let e = &self.rows[r].event;
                if e.is("error") {
                    // RST: drawn from the peer's close (or last send).
                    let from = ends
                        .get(pair)
                        .and_then(|v| v.iter().rev().find(|&&x| self.rows[x].event.is("close")))
                        .copied();
                    if let Some(from) = from {
                        self.arrows.push(Arrow {
                            from_row: from,
                            to_row: r,
                            kind: ArrowKind::Reset,
                        });
                    }
                    continue;
                }
                let n = e.len();
                if n == 0 {
                    // FIN: the peer's first shutdown(write) or close.
                    if let Some(&from) = ends.get(pair).and_then(|v| v.first()) {
                        self.arrows.push(Arrow {
                            from_row: from,
                            to_row: r,
                            kind: ArrowKind::Fin,
                        });
                    }
                    continue;
                }
                let (lo, hi) = (at, at + n);
                at = hi;
                for &(s0, s1, s) in &spans {
                    if s0 < hi && lo < s1 {
                        self.arrows.push(Arrow {
                            from_row: s,
                            to_row: r,
                            kind: ArrowKind::Data,
                        });
                    }
                }
            }
        }
    }

    /// UDP: each recvfrom takes the earliest unmatched sendto from its
    /// sender that it could be (sent before, same first bytes).
    fn match_udp(&mut self) {
        let mut taken: HashMap<(usize, usize), ()> = HashMap::new(); // (send row, receiving column)
        for r in 0..self.rows.len() {
            let e = &self.rows[r].event;
            if !(e.is("recvfrom") && e.proto == "udp") {
                continue;
            }
            let Some(from) = e.peer.clone() else { continue };
            let col = self.rows[r].column;
            // Any row: a sender stamps its sendto when it calls it, but the
            // two clocks are read by two processes.
            let candidate = (0..self.rows.len()).find(|&s| {
                let se = &self.rows[s].event;
                se.is("sendto")
                    && se.local.as_deref().is_some_and(|l| same_socket(l, &from))
                    && self.rows[s].column != col
                    && !taken.contains_key(&(s, col))
                    && se.text.starts_with(&e.text)
            });
            if let Some(s) = candidate {
                taken.insert((s, col), ());
                let kind = if e.truncated {
                    ArrowKind::Truncated
                } else {
                    ArrowKind::Datagram
                };
                self.arrows.push(Arrow {
                    from_row: s,
                    to_row: r,
                    kind,
                });
            }
        }
    }

    /// connect → accept on the same address pair.
    fn connect_arrows(&mut self) {
        for a in 0..self.rows.len() {
            let e = &self.rows[a].event;
            if !e.is("accept") {
                continue;
            }
            let (local, peer) = (e.local.clone(), e.peer.clone());
            if let Some(c) = (0..self.rows.len()).find(|&c| {
                let ce = &self.rows[c].event;
                ce.is("connect") && ce.local == peer && ce.peer == local
            }) {
                self.arrows.push(Arrow {
                    from_row: c,
                    to_row: a,
                    kind: ArrowKind::Connect,
                });
            }
        }
    }

    /// Sends nobody traced receiving, and recvs from peers nobody traced:
    /// drawn to (or from) the peer's column, made if needed, at the same
    /// time — a one-sided trace still shows the conversation.
    fn unreceived_arrows(&mut self, index: &mut HashMap<Key, usize>) {
        let matched_from: Vec<bool> = {
            let mut v = vec![false; self.rows.len()];
            for a in &self.arrows {
                v[a.from_row] = true;
            }
            v
        };
        let matched_to: Vec<bool> = {
            let mut v = vec![false; self.rows.len()];
            for a in &self.arrows {
                v[a.to_row] = true;
            }
            v
        };
        let n = self.rows.len();
        let mut extra: Vec<(usize, Row, bool)> = Vec::new(); // (row it pairs with, ghost row, ghost is sender)
        for i in 0..n {
            let row = &self.rows[i];
            let e = &row.event;
            let outgoing = matches!(e.ev.as_str(), "send" | "sendto" | "connect")
                || (e.is("shutdown") && e.how.as_deref() != Some("read"));
            let incoming = matches!(e.ev.as_str(), "recv" | "recvfrom" | "accept") || e.is_reset();
            let lonely = (outgoing && !matched_from[i]) || (incoming && !matched_to[i]);
            if !lonely {
                continue;
            }
            let Some(peer) = e.peer.clone() else { continue };
            // Only draw to a column nobody traced: a traced peer that did not
            // receive it gets a dangling arrow into its column.
            let col = match self.column_of(&peer) {
                Some(c) => c,
                None => {
                    let key = (None, peer.clone());
                    *index.entry(key).or_insert_with(|| {
                        self.columns.push(Column {
                            title: "not traced".into(),
                            addr: peer.clone(),
                            trace: None,
                        });
                        self.columns.len() - 1
                    })
                }
            };
            if col == row.column {
                continue;
            }
            extra.push((
                i,
                Row {
                    column: col,
                    t: row.t,
                    event: Event::default(),
                    tag: String::new(),
                    summary: None,
                    ghost: true,
                },
                incoming,
            ));
        }
        // Insert each ghost row just after (or before) its partner.
        let mut new_rows: Vec<Row> = Vec::with_capacity(n + extra.len());
        let mut map = vec![0usize; n];
        let mut ghosts: Vec<(usize, usize, bool)> = Vec::new(); // (partner old row, ghost new row, ghost sends)
        let mut extra_iter = extra.into_iter().peekable();
        for (i, row) in self.rows.drain(..).enumerate() {
            let mut before = None;
            let mut after = None;
            if let Some((_, ghost, ghost_sends)) = extra_iter.next_if(|(p, _, _)| *p == i) {
                if ghost_sends {
                    before = Some(ghost);
                } else {
                    after = Some(ghost);
                }
            }
            if let Some(g) = before {
                ghosts.push((i, new_rows.len(), true));
                new_rows.push(g);
            }
            map[i] = new_rows.len();
            new_rows.push(row);
            if let Some(g) = after {
                ghosts.push((i, new_rows.len(), false));
                new_rows.push(g);
            }
        }
        self.rows = new_rows;
        for a in &mut self.arrows {
            a.from_row = map[a.from_row];
            a.to_row = map[a.to_row];
        }
        for (partner, ghost, ghost_sends) in ghosts {
            let p = map[partner];
            let e = &self.rows[p].event;
            // Into a column nobody traced, a send is just bytes sent: only a
            // traced peer that has no recv for them did not receive them.
            let untraced = self.columns[self.rows[ghost].column].trace.is_none();
            let kind = match e.ev.as_str() {
                "connect" | "accept" => ArrowKind::Connect,
                "shutdown" => ArrowKind::Fin,
                "recv" if e.len() == 0 => ArrowKind::Fin,
                "error" => ArrowKind::Reset,
                "sendto" | "recvfrom" if e.truncated => ArrowKind::Truncated,
                "sendto" | "recvfrom" if ghost_sends => ArrowKind::Datagram,
                "send" if untraced => ArrowKind::Data,
                "sendto" if untraced => ArrowKind::Datagram,
                "send" | "sendto" => ArrowKind::Unreceived,
                _ => ArrowKind::Data,
            };
            let (from_row, to_row) = if ghost_sends { (ghost, p) } else { (p, ghost) };
            self.arrows.push(Arrow {
                from_row,
                to_row,
                kind,
            });
        }
    }

    /// Keep the first and last rows of a long diagram; the middle becomes
    /// one summary row per column (and the arrows inside it go).
    fn summarise(&mut self, max_rows: usize) {
        let n = self.rows.len();
        if max_rows < 8 || n <= max_rows {
            return;
        }
        let head = max_rows / 2 - 1;
        let tail_start = n - (max_rows - head - self.columns.len()).max(2);
        if tail_start <= head {
            return;
        }
        // Counts per column of what the cut rows did.
        let mut per_col: BTreeMap<usize, BTreeMap<String, (u64, u64)>> = BTreeMap::new();
        for row in &self.rows[head..tail_start] {
            if row.ghost {
                continue;
            }
            let c = per_col.entry(row.column).or_default();
            let entry = c.entry(row.event.ev.clone()).or_insert((0, 0));
            entry.0 += 1;
            entry.1 += row.event.len();
        }
        let cut_t = self.rows[head].t;
        let mut summary_rows = Vec::new();
        for (col, counts) in per_col {
            let text = counts
                .iter()
                .map(|(ev, (count, bytes))| {
                    if *bytes > 0 {
                        format!("{count} {ev} ({bytes} B)")
                    } else {
                        format!("{count} {ev}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            summary_rows.push(Row {
                column: col,
                t: cut_t,
                event: Event::default(),
                tag: String::new(),
                summary: Some(format!("… {text} …")),
                ghost: false,
            });
        }
        let added = summary_rows.len();
        let removed = tail_start - head;
        let mut rows: Vec<Row> = self.rows.drain(..head).collect();
        let tail: Vec<Row> = self.rows.drain(removed..).collect();
        rows.extend(summary_rows);
        rows.extend(tail);
        self.rows = rows;
        let remap = |r: usize| -> Option<usize> {
            if r < head {
                Some(r)
            } else if r >= tail_start {
                Some(r - removed + added)
            } else {
                None
            }
        };
        self.arrows = self
            .arrows
            .iter()
            .filter_map(|a| {
                Some(Arrow {
                    from_row: remap(a.from_row)?,
                    to_row: remap(a.to_row)?,
                    kind: a.kind,
                })
            })
            .collect();
    }

    /// Arrows leaving row `r`.
    pub fn arrows_from(&self, r: usize) -> impl Iterator<Item = &Arrow> {
        self.arrows.iter().filter(move |a| a.from_row == r)
    }

    /// Arrows arriving at row `r`.
    pub fn arrows_to(&self, r: usize) -> impl Iterator<Item = &Arrow> {
        self.arrows.iter().filter(move |a| a.to_row == r)
    }

    /// A column's name for the structure: `A`, `B`…
    pub fn column_letter(c: usize) -> String {
        let mut s = String::new();
        let mut c = c;
        loop {
            s.insert(0, (b'A' + (c % 26) as u8) as char);
            if c < 26 {
                break;
            }
            c = c / 26 - 1;
        }
        s
    }

    /// The diagram's shape without times, ports or addresses: each column's
    /// events in order, each with where its arrows go — what
    /// `scripts/diagrams --check` compares. Per column, because the order
    /// of two processes' events within the same millisecond is the
    /// scheduler's, not the program's.
    pub fn structure(&self) -> String {
        let mut out = String::new();
        for (c, col) in self.columns.iter().enumerate() {
            out.push_str(&format!("{} {}\n", Self::column_letter(c), col.title));
        }
        for c in 0..self.columns.len() {
            out.push('\n');
            for (r, row) in self.rows.iter().enumerate() {
                if row.column != c || row.ghost {
                    continue;
                }
                out.push_str(&Self::column_letter(c));
                out.push_str(": ");
                out.push_str(&describe(&stable(row), false));
                // Arrow ends sorted by name: which of two receivers read
                // first is the scheduler's choice.
                let mut ends: Vec<String> = Vec::new();
                for a in self.arrows_from(r) {
                    let to = &self.rows[a.to_row];
                    ends.push(format!(
                        " -> {}{}",
                        Self::column_letter(to.column),
                        if to.tag.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", to.tag)
                        }
                    ));
                }
                for a in self.arrows_to(r) {
                    let from = &self.rows[a.from_row];
                    ends.push(format!(
                        " <- {}{}",
                        Self::column_letter(from.column),
                        if from.tag.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", from.tag)
                        }
                    ));
                }
                ends.sort();
                out.push_str(&ends.concat());
                out.push('\n');
            }
        }
        out
    }
}

/// A row as the structure shows it: the text cut to what does not change
/// from run to run — the first line of an HTTP head (its Date and Host
/// lines do).
fn stable(row: &Row) -> Row {
    let mut row = row.clone();
    let text = &row.event.text;
    let text = match text.find("\\r\\n") {
        Some(end) => format!("{}\\r\\n…", &text[..end]),
        None => text.clone(),
    };
    row.event.text = text;
    row.event.more = 0;
    row
}

/// A row in words: `s1 send 1 B "a"`, `r1 recv 5 B "abcde"`, `close`.
pub fn describe(row: &Row, with_addr: bool) -> String {
    if let Some(s) = &row.summary {
        return s.clone();
    }
    let e = &row.event;
    let mut s = String::new();
    if !row.tag.is_empty() {
        s.push_str(&row.tag);
        s.push(' ');
    }
    s.push_str(&e.ev);
    match e.ev.as_str() {
        "send" | "recv" | "sendto" | "recvfrom" => {
            let n = e.len();
            if e.is("recv") && n == 0 {
                s.push_str(" 0 B (peer closed)");
            } else {
                s.push_str(&format!(
                    " {n} B \"{}{}\"",
                    e.text,
                    if e.more > 0 { "…" } else { "" }
                ));
            }
            if e.truncated {
                match e.size {
                    Some(size) => s.push_str(&format!(" TRUNCATED (datagram was {size} B)")),
                    None => s.push_str(" TRUNCATED"),
                }
            }
        }
        "shutdown" => {
            if let Some(how) = &e.how {
                s.push_str(&format!(" {how}"));
            }
        }
        "error" | "timeout" => {
            if let Some(op) = &e.op {
                s.push_str(&format!(" {op}"));
            }
            if e.is_reset() {
                s.push_str(" (RST)");
            } else if with_addr {
                if let Some(err) = &e.error {
                    s.push_str(&format!(": {err}"));
                }
            }
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests;
