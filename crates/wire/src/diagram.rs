//! The diagram: a column per endpoint, a row per event in time order, and
//! the arrows between rows (`matching.rs` draws them).

use std::collections::HashMap;

use crate::trace::{same_socket, Event, Trace};

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
pub(crate) type Key = (Option<usize>, String);

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

        let (columns, mut index) = columns_of(traces, &all);

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
    pub(crate) fn column_of(&self, addr: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.addr == addr)
            .or_else(|| self.columns.iter().position(|c| same_socket(&c.addr, addr)))
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

/// The columns, in order of first appearance, titled with their program
/// and role; and the column of each (trace, local address).
fn columns_of(traces: &[Trace], all: &[(usize, &Event)]) -> (Vec<Column>, HashMap<Key, usize>) {
    let mut columns: Vec<Column> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut roles: Vec<(bool, bool)> = Vec::new(); // (listens/accepts, connects)
    for &(ti, e) in all {
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

    (columns, index)
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
        "close" if e.how.as_deref() == Some("reset") => s.push_str(" (RST: SO_LINGER 0)"),
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
