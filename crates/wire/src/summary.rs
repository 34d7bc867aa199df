//! A long diagram keeps its first and last rows; the middle becomes one
//! summary row per column.

use std::collections::BTreeMap;

use crate::diagram::{Arrow, Diagram, Row};
use crate::trace::Event;

impl Diagram {
    /// Keep the first and last rows of a long diagram; the middle becomes
    /// one summary row per column (and the arrows inside it go).
    pub(crate) fn summarise(&mut self, max_rows: usize) {
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
}
