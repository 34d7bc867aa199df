//! One event's JSON line (README "Traces"), built field by field and
//! written with one `write` call.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;

use super::{now_ns, FILE, SHOWN_BYTES};
use crate::text::show_bytes;

/// One event under construction: `Event::new("send", "tcp", local, peer)`,
/// then fields, then [`Event::write`].
pub struct Event {
    line: String,
}

impl Event {
    pub fn new(
        ev: &str,
        proto: &str,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
    ) -> Event {
        Event::at(now_ns(), ev, proto, local, peer)
    }

    /// An event that happened at `t` (a send is stamped when it was called:
    /// its bytes may reach the peer's recv before the call returns).
    pub fn at(
        t: u64,
        ev: &str,
        proto: &str,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
    ) -> Event {
        let mut line = String::with_capacity(160);
        let _ = write!(line, "{{\"t\":{t},\"ev\":\"{ev}\",\"proto\":\"{proto}\"");
        let mut event = Event { line };
        event.addr("local", local);
        event.addr("peer", peer);
        event
    }

    fn addr(&mut self, key: &str, addr: Option<SocketAddr>) {
        match addr {
            Some(addr) => {
                let _ = write!(self.line, ",\"{key}\":\"{addr}\"");
            }
            None => {
                let _ = write!(self.line, ",\"{key}\":null");
            }
        }
    }

    pub fn num(mut self, key: &str, value: u64) -> Event {
        let _ = write!(self.line, ",\"{key}\":{value}");
        self
    }

    pub fn flag(mut self, key: &str, value: bool) -> Event {
        let _ = write!(self.line, ",\"{key}\":{value}");
        self
    }

    pub fn string(mut self, key: &str, value: &str) -> Event {
        let _ = write!(self.line, ",\"{key}\":{}", json_string(value));
        self
    }

    /// `len`, `text` (the first [`SHOWN_BYTES`] by README rule 6) and, when
    /// some were left out, `more`.
    pub fn bytes(self, bytes: &[u8]) -> Event {
        let shown = &bytes[..bytes.len().min(SHOWN_BYTES)];
        let event = self
            .num("len", bytes.len() as u64)
            .string("text", &show_bytes(shown));
        if bytes.len() > SHOWN_BYTES {
            event.num("more", (bytes.len() - SHOWN_BYTES) as u64)
        } else {
            event
        }
    }

    /// An OS error: its text and, where there is one, its errno.
    pub fn error(self, op: &str, err: &io::Error) -> Event {
        let event = self.string("op", op).string("error", &err.to_string());
        match err.raw_os_error() {
            Some(code) => event.num("errno", code as u64),
            None => event,
        }
    }

    /// Append the line to the trace file. A failed write is ignored: a
    /// trace must never bring a program down.
    pub fn write(mut self) {
        self.line.push_str("}\n");
        if let Some(file) = FILE.get() {
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(self.line.as_bytes());
            }
        }
    }
}

/// A JSON string literal. `show_bytes` output has no control characters
/// left, but names and error texts might.
pub(super) fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(json_string("粘包"), "\"粘包\"");
    }

    #[test]
    fn an_event_line_carries_bytes_as_text_and_counts_the_rest() {
        let local: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut event = Event::new("send", "tcp", Some(local), None).bytes(&[b'x'; 70]);
        event.line.push('}');
        assert!(event.line.contains("\"ev\":\"send\""), "{}", event.line);
        assert!(
            event
                .line
                .contains("\"local\":\"127.0.0.1:1\",\"peer\":null"),
            "{}",
            event.line
        );
        assert!(event.line.contains("\"len\":70"), "{}", event.line);
        assert!(event
            .line
            .contains(&format!("\"text\":\"{}\"", "x".repeat(64))));
        assert!(event.line.ends_with(",\"more\":6}"), "{}", event.line);
    }
}
