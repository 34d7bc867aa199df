//! Drawing a [`Diagram`]: plain text for the terminal, SVG for the lessons.

use std::fmt::Write;

use crate::{describe, ArrowKind, Diagram};

/// Widest label drawn, in characters; longer ones end in `…`.
const LABEL_CHARS: usize = 34;

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Milliseconds, as the time column shows them.
fn ms(t: u64) -> String {
    format!("{:.3}", t as f64 / 1e6)
}

/// Consecutive tags shortened: `s1 s2 s3 s4` → `s1–s4`.
fn tag_list(tags: &[String]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tags.len() {
        let split = |t: &str| -> Option<(char, u64)> {
            let c = t.chars().next()?;
            Some((c, t[1..].parse().ok()?))
        };
        let mut j = i;
        while j + 1 < tags.len() {
            match (split(&tags[j]), split(&tags[j + 1])) {
                (Some((a, x)), Some((b, y))) if a == b && y == x + 1 => j += 1,
                _ => break,
            }
        }
        if j >= i + 2 {
            parts.push(format!("{}–{}", tags[i], tags[j]));
        } else {
            parts.extend(tags[i..=j].iter().cloned());
        }
        i = j + 1;
    }
    parts.join(" ")
}

fn kind_word(kind: ArrowKind) -> &'static str {
    match kind {
        ArrowKind::Data | ArrowKind::Datagram => "",
        ArrowKind::Connect => "handshake ",
        ArrowKind::Fin => "FIN ",
        ArrowKind::Reset => "RST ",
        ArrowKind::Truncated => "TRUNCATED ",
        ArrowKind::Unreceived => "not received ",
    }
}

/// Where a row's arrows go and come from, in words: ` → B r1`, ` ← A s1–s5`.
fn annotation(d: &Diagram, r: usize) -> String {
    let mut out = String::new();
    let mut group = |arrows: Vec<(usize, ArrowKind)>, sign: &str| {
        let mut by_col: Vec<(usize, ArrowKind, Vec<String>)> = Vec::new();
        for (other, kind) in arrows {
            let row = &d.rows[other];
            let tag = row.tag.clone();
            match by_col
                .iter_mut()
                .find(|(c, k, _)| *c == row.column && *k == kind)
            {
                Some((_, _, tags)) => tags.push(tag),
                None => by_col.push((row.column, kind, vec![tag])),
            }
        }
        for (col, kind, tags) in by_col {
            let tags: Vec<String> = tags.into_iter().filter(|t| !t.is_empty()).collect();
            let _ = write!(
                out,
                "  {sign} {}{}{}",
                kind_word(kind),
                Diagram::column_letter(col),
                if tags.is_empty() {
                    String::new()
                } else {
                    format!(" {}", tag_list(&tags))
                }
            );
        }
    };
    group(d.arrows_from(r).map(|a| (a.to_row, a.kind)).collect(), "→");
    group(d.arrows_to(r).map(|a| (a.from_row, a.kind)).collect(), "←");
    out
}

/// The diagram as text: one line per event, in its column, with where its
/// bytes went (`→ B r1`) or came from (`← A s1–s5`).
pub fn text(d: &Diagram) -> String {
    const W: usize = 30;
    let mut out = String::new();
    let cols = d.columns.len();
    let _ = writeln!(out, "{:>10}  {}", "ms", {
        let mut s = String::new();
        for (c, col) in d.columns.iter().enumerate() {
            let _ = write!(
                s,
                "{:<W$}",
                clip(
                    &format!("{} {}", Diagram::column_letter(c), col.title),
                    W - 1
                )
            );
        }
        s.trim_end().to_string()
    });
    let _ = writeln!(out, "{:>10}  {}", "", {
        let mut s = String::new();
        for col in &d.columns {
            let _ = write!(s, "{:<W$}", clip(&col.addr, W - 1));
        }
        s.trim_end().to_string()
    });
    for (r, row) in d.rows.iter().enumerate() {
        if row.ghost {
            continue;
        }
        let mut line = format!(
            "{:>10}  ",
            if row.summary.is_some() {
                "…".to_string()
            } else {
                ms(row.t)
            }
        );
        for c in 0..row.column.min(cols) {
            let _ = c;
            line.push_str(&format!("{:<W$}", "│"));
        }
        line.push_str(&describe(row, true));
        line.push_str(&annotation(d, r));
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn colour(kind: ArrowKind) -> (&'static str, &'static str) {
    // (stroke colour, dash pattern)
    match kind {
        ArrowKind::Data => ("#1f6feb", ""),
        ArrowKind::Connect => ("#2da44e", "6 4"),
        ArrowKind::Fin => ("#6e7781", "6 4"),
        ArrowKind::Reset => ("#cf222e", ""),
        ArrowKind::Datagram => ("#8250df", ""),
        ArrowKind::Truncated => ("#cf222e", "3 3"),
        ArrowKind::Unreceived => ("#999999", "2 4"),
    }
}

/// Where things go in the SVG: columns across, rows down.
struct Layout {
    rows: usize,
}

impl Layout {
    const LEFT: f64 = 84.0; // time labels
    const LABEL_W: f64 = 250.0; // event labels beside a lifeline
    const GAP: f64 = 300.0; // between two lifelines
    const TOP: f64 = 92.0;
    const ROW_H: f64 = 24.0;

    /// A column's lifeline.
    fn x(&self, c: usize) -> f64 {
        Self::LEFT + Self::LABEL_W + c as f64 * Self::GAP
    }

    /// A row's line.
    fn y(&self, r: usize) -> f64 {
        Self::TOP + 18.0 + r as f64 * Self::ROW_H
    }

    /// Where the lifelines end.
    fn bottom(&self) -> f64 {
        self.y(self.rows)
    }
}

/// Every arrow kind, in the legend's order, with its word there.
const KINDS: [(ArrowKind, &str); 7] = [
    (ArrowKind::Data, "bytes"),
    (ArrowKind::Connect, "handshake"),
    (ArrowKind::Fin, "FIN"),
    (ArrowKind::Reset, "RST"),
    (ArrowKind::Datagram, "datagram"),
    (ArrowKind::Truncated, "truncated"),
    (ArrowKind::Unreceived, "not received"),
];

/// The diagram as SVG: a lifeline per column, a row per event (times at
/// the left), an arrow per send to each recv that took its bytes.
pub fn svg(d: &Diagram, title: &str) -> String {
    let at = Layout { rows: d.rows.len() };
    let cols = d.columns.len().max(1);
    let width = at.x(cols - 1) + Layout::LABEL_W + 20.0;
    let height = at.bottom() + 60.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">"#
    );
    let _ = writeln!(s, "<title>{}</title>", xml(title));
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    s.push_str("<defs>\n");
    for (kind, _) in KINDS {
        let (c, _) = colour(kind);
        let _ = writeln!(
            s,
            r#"<marker id="m{k:?}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>"#,
            k = kind
        );
    }
    s.push_str("</defs>\n");
    let _ = writeln!(
        s,
        r##"<text x="12" y="22" font-size="14" font-weight="bold" fill="#24292f">{}</text>"##,
        xml(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="{:.0}" fill="#57606a">ms</text>"##,
        Layout::TOP + 2.0
    );
    svg_lifelines(&mut s, d, &at);
    svg_arrows(&mut s, d, &at);
    for r in 0..d.rows.len() {
        svg_row(&mut s, d, &at, r);
    }
    svg_legend(&mut s, d, &at);
    s.push_str("</svg>\n");
    s
}

/// Lifelines and their headers.
fn svg_lifelines(s: &mut String, d: &Diagram, at: &Layout) {
    for (c, col) in d.columns.iter().enumerate() {
        let cx = at.x(c);
        let fill = if col.trace.is_some() {
            "#f6f8fa"
        } else {
            "#fff8c5"
        };
        let _ = writeln!(
            s,
            r##"<rect x="{:.0}" y="36" width="240" height="40" rx="6" fill="{fill}" stroke="#8c959f"/>"##,
            cx - 120.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{cx:.0}" y="52" text-anchor="middle" font-weight="bold" fill="#24292f">{} {}</text>"##,
            Diagram::column_letter(c),
            xml(&clip(&col.title, 28))
        );
        let _ = writeln!(
            s,
            r##"<text x="{cx:.0}" y="68" text-anchor="middle" fill="#57606a">{}</text>"##,
            xml(&col.addr)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{cx:.0}" y1="76" x2="{cx:.0}" y2="{:.0}" stroke="#d0d7de" stroke-width="2"/>"##,
            at.bottom()
        );
    }
}

/// Arrows, drawn before the rows so that the labels are on top.
fn svg_arrows(s: &mut String, d: &Diagram, at: &Layout) {
    for a in &d.arrows {
        let (from, to) = (&d.rows[a.from_row], &d.rows[a.to_row]);
        let (x1, y1) = (at.x(from.column), at.y(a.from_row));
        let (x2, y2) = (at.x(to.column), at.y(a.to_row));
        let (c, dash) = colour(a.kind);
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = writeln!(
            s,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{c}" stroke-width="1.6"{dash} marker-end="url(#m{k:?})"/>"#,
            k = a.kind
        );
    }
}

/// Row `r`: its time, a dot on the lifeline, the label on the side away
/// from the row's arrows.
fn svg_row(s: &mut String, d: &Diagram, at: &Layout, r: usize) {
    let row = &d.rows[r];
    let cy = at.y(r);
    let cx = at.x(row.column);
    if row.ghost {
        let _ = writeln!(
            s,
            r##"<text x="{:.0}" y="{:.0}" fill="#9a6700">?</text>"##,
            cx + 6.0,
            cy + 4.0
        );
        return;
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.0}" y="{:.0}" text-anchor="end" fill="#57606a">{}</text>"##,
        Layout::LEFT - 8.0,
        cy + 4.0,
        if row.summary.is_some() {
            "…".to_string()
        } else {
            ms(row.t)
        }
    );
    let goes_right = d
        .arrows_from(r)
        .chain(d.arrows_to(r))
        .map(|a| {
            let other = if a.from_row == r {
                a.to_row
            } else {
                a.from_row
            };
            d.rows[other].column > row.column
        })
        .next()
        .unwrap_or(row.column + 1 < d.columns.len());
    let (lx, anchor) = if goes_right {
        (cx - 10.0, "end")
    } else {
        (cx + 10.0, "start")
    };
    let e = &row.event;
    let dot = if row.summary.is_some() {
        "#8c959f"
    } else if e.truncated || e.ev == "error" {
        "#cf222e"
    } else if e.ev == "recv" || e.ev == "recvfrom" {
        "#1a7f37"
    } else {
        "#24292f"
    };
    let _ = writeln!(
        s,
        r#"<circle cx="{cx:.0}" cy="{cy:.0}" r="4" fill="{dot}"/>"#
    );
    let weight = if e.truncated || e.ev == "error" {
        r##" fill="#cf222e""##
    } else {
        r##" fill="#24292f""##
    };
    let _ = writeln!(
        s,
        r##"<text x="{lx:.0}" y="{:.0}" text-anchor="{anchor}"{weight} stroke="#ffffff" stroke-width="4" paint-order="stroke">{}</text>"##,
        cy + 4.0,
        xml(&clip(&describe(row, false), LABEL_CHARS))
    );
}

/// The legend: the kinds of arrow this diagram has.
fn svg_legend(s: &mut String, d: &Diagram, at: &Layout) {
    let ly = at.bottom() + 30.0;
    let mut lx = 12.0;
    for (kind, word) in KINDS {
        if !d.arrows.iter().any(|a| a.kind == kind) {
            continue;
        }
        let (c, dash) = colour(kind);
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.0}" y1="{ly:.0}" x2="{:.0}" y2="{ly:.0}" stroke="{c}" stroke-width="1.6" stroke-dasharray="{dash}" marker-end="url(#m{kind:?})"/>"#,
            lx + 34.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.0}" y="{:.0}" fill="#24292f">{word}</text>"##,
            lx + 42.0,
            ly + 4.0
        );
        lx += 60.0 + 8.0 * word.len() as f64;
    }
}
