//! Which recv took which send's bytes: TCP by byte offset, UDP by order
//! and content, connect to accept — and a column for a peer nobody traced.

use std::collections::{BTreeMap, HashMap};

use crate::diagram::{Arrow, ArrowKind, Column, Diagram, Key, Row};
use crate::trace::{same_socket, Event};

impl Diagram {
    /// TCP: sends and recvs of each direction of each connection, matched
    /// by byte offsets; empty recvs to FINs, resets to the peer's close.
    pub(crate) fn match_tcp(&mut self) {
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
    pub(crate) fn match_udp(&mut self) {
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
    pub(crate) fn connect_arrows(&mut self) {
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
    pub(crate) fn unreceived_arrows(&mut self, index: &mut HashMap<Key, usize>) {
        let lonely = self.lonely_rows(index);
        let (map, ghosts) = self.insert_ghosts(lonely);
        for (partner, ghost, ghost_sends) in ghosts {
            let p = map[partner];
            let e = &self.rows[p].event;
            // Into a column nobody traced, a send is just bytes sent: only a
            // traced peer that has no recv for them did not receive them.
            let untraced = self.columns[self.rows[ghost].column].trace.is_none();
            let kind = match e.ev.as_str() {
                "connect" | "accept" => ArrowKind::Connect,
                "shutdown" => ArrowKind::Fin,
                "close" if e.how.as_deref() == Some("reset") => ArrowKind::Reset,
                "close" => ArrowKind::Fin,
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

    /// The rows whose arrow has no other end among the traced rows, each
    /// with the ghost row that stands for its peer: `(row, ghost, whether
    /// the ghost is the sender)`.
    fn lonely_rows(&mut self, index: &mut HashMap<Key, usize>) -> Vec<(usize, Row, bool)> {
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
            // A close into a column nobody traced is the FIN (or, after
            // SO_LINGER 0, the RST) that peer got; a traced peer shows its
            // own empty recv instead.
            let untraced_close = e.is("close")
                && e.proto == "tcp"
                && e.peer.as_deref().is_some_and(|p| {
                    self.column_of(p)
                        .map_or(true, |c| self.columns[c].trace.is_none())
                });
            let outgoing = matches!(e.ev.as_str(), "send" | "sendto" | "connect")
                || (e.is("shutdown") && e.how.as_deref() != Some("read"))
                || untraced_close;
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
        extra
    }

    /// Insert each ghost row beside its partner. Returns where each old row
    /// went, and `(partner's old row, ghost's new row, whether the ghost
    /// sends)` for each ghost.
    fn insert_ghosts(
        &mut self,
        extra: Vec<(usize, Row, bool)>,
    ) -> (Vec<usize>, Vec<(usize, usize, bool)>) {
        let n = self.rows.len();
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
        (map, ghosts)
    }
}
