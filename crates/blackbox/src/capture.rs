//! What a program printed on one stream, kept within a bound.
//!
//! A program can print without end: a server that never takes an empty
//! recv for the end logs `recv 0 bytes from PEER` millions of times a
//! second. A failure report shows only the first and last lines of a stream
//! anyway, so this keeps the first [`HEAD_BYTES`] and the last
//! [`TAIL_BYTES`] and counts the lines in between: memory stays bounded,
//! and the report (rendered in the panic hook, or when the grader's time
//! limit stops the test) takes a millisecond whatever the program did.

use std::collections::VecDeque;

/// Bytes kept from the start of a stream: every line a test reads back
/// (`stdout_text`) comes from here unless the program printed more.
pub(crate) const HEAD_BYTES: usize = 1 << 20;
/// Bytes kept from the end of a stream once the start is full.
pub(crate) const TAIL_BYTES: usize = 64 << 10;

/// The first and last bytes of a stream, and how much came in between.
#[derive(Default)]
pub(crate) struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    /// Bytes dropped between head and tail.
    dropped: u64,
    /// Newlines in everything seen.
    newlines: u64,
    /// Did the stream end without a newline?
    last_byte: Option<u8>,
}

impl Capture {
    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.newlines += bytes.iter().filter(|b| **b == b'\n').count() as u64;
        self.last_byte = bytes.last().copied();
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        if room > 0 && self.tail.is_empty() {
            let take = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        self.tail.extend(bytes);
        if self.tail.len() > 2 * TAIL_BYTES {
            let cut = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..cut);
            self.dropped += cut as u64;
        }
    }

    /// Did anything get dropped?
    pub(crate) fn is_cut(&self) -> bool {
        self.dropped > 0
    }

    /// Every byte kept, in order (all of it when nothing was dropped).
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut all = self.head.clone();
        all.extend(self.tail.iter());
        all
    }

    /// Lines in the whole stream (a last line without `\n` counts).
    pub(crate) fn lines(&self) -> u64 {
        self.newlines + u64::from(self.last_byte.is_some_and(|b| b != b'\n'))
    }

    /// The stream for a report: `(first lines, lines left out, last
    /// lines)` when something was dropped, else `None` (show all of it).
    pub(crate) fn cut_view(&self, first: usize, last: usize) -> Option<(Vec<u8>, u64, Vec<u8>)> {
        if !self.is_cut() {
            return None;
        }
        let head_lines: Vec<&[u8]> = self.head.split(|b| *b == b'\n').take(first).collect();
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        // The tail's first line is cut off at its start: skip it.
        let mut tail_lines: Vec<&[u8]> = tail.split(|b| *b == b'\n').skip(1).collect();
        if tail_lines.last().is_some_and(|l| l.is_empty()) {
            tail_lines.pop();
        }
        let tail_lines = &tail_lines[tail_lines.len().saturating_sub(last)..];
        let shown = (head_lines.len() + tail_lines.len()) as u64;
        Some((
            head_lines.join(&b'\n'),
            self.lines().saturating_sub(shown),
            tail_lines.join(&b'\n'),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_stream_is_kept_whole() {
        let mut c = Capture::default();
        c.push(b"one\ntwo\n");
        c.push(b"three");
        assert_eq!(c.bytes(), b"one\ntwo\nthree");
        assert_eq!(c.lines(), 3);
        assert!(c.cut_view(2, 2).is_none());
    }

    #[test]
    fn an_endless_stream_keeps_its_first_and_last_lines_and_counts_the_rest() {
        let mut c = Capture::default();
        let lines = 2_000_000u64;
        for i in 0..lines {
            c.push(format!("line {i}\n").as_bytes());
        }
        assert_eq!(c.lines(), lines);
        assert!(c.bytes().len() <= HEAD_BYTES + 2 * TAIL_BYTES);
        let (first, left_out, last) = c.cut_view(3, 2).expect("cut");
        assert_eq!(first, b"line 0\nline 1\nline 2");
        assert_eq!(
            last,
            format!("line {}\nline {}", lines - 2, lines - 1).as_bytes()
        );
        assert_eq!(left_out, lines - 5);
    }
}
