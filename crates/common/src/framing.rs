//! Message framing over a TCP byte stream (lesson 2, notes section 2,
//! "tcp 粘包").
//!
//! TCP delivers bytes, not messages: two `send`s may come out of one `recv`,
//! and one `send` may need several. The boundaries a program cares about must
//! therefore travel *inside* the bytes. This module gives the two remedies of
//! the notes that really work, as encoders and decoders over plain byte
//! buffers — no sockets, so they are tested here by feeding every possible
//! split of their input:
//!
//! * [`Framing::Line`] — "每次发送消息结束位置加标志": every message ends with
//!   `\n` (a message may not contain `\n`).
//! * [`Framing::Length`] — "发送的消息添加结构描述": every message is preceded
//!   by its length as a 4-byte unsigned big-endian integer (network byte
//!   order, Python's `struct.pack("!I", n)`), then exactly that many bytes.
//!
//! The decoder never blocks and never takes a read boundary for a message
//! boundary: given whatever has arrived so far it answers "here is a complete
//! message, it used so many bytes" or "need more bytes". [`FrameBuffer`] adds
//! the receive buffer around it: read into its free space, then take out every
//! complete message, without copying or allocating per message.
//!
//! Why here, in `common`, when only sticky-demo uses it: lesson 2's student
//! writes the recv loops that *use* a decoder (the `recv-raw` and
//! `recv-messages` regions), not the decoder itself. `scripts/exercise start`
//! makes a starter from the program's own crate with its regions cut out,
//! and builds it against `crates/common` as given. Kept here, the framing a
//! student's loop calls is the reference's, tested once by feeding every
//! split of its input, and the graded crate holds only the student's code.
//! Lesson 2 links to this file and shows its `next-message` region; the
//! Python version (`sticky_demo.py`) has its own decoder, which is an
//! exercise there (`frame-decoder`).
//!
//! ```
//! use common::framing::{encode, FrameBuffer, Framing};
//!
//! let mut wire = Vec::new();
//! encode(Framing::Length, b"hello", &mut wire).unwrap();
//! encode(Framing::Length, "你好".as_bytes(), &mut wire).unwrap();
//! assert_eq!(&wire[..9], b"\x00\x00\x00\x05hello");
//!
//! // The two frames arrive cut in the middle of the second one.
//! let mut buffer = FrameBuffer::new(Framing::Length, 1 << 20);
//! buffer.push(&wire[..11]);
//! assert_eq!(buffer.next_message().unwrap(), Some(&b"hello"[..]));
//! assert_eq!(buffer.next_message().unwrap(), None); // need more bytes
//! buffer.push(&wire[11..]);
//! assert_eq!(buffer.next_message().unwrap(), Some("你好".as_bytes()));
//! ```

use std::fmt;
use std::io::{self, Write};

/// Size of the length header in [`Framing::Length`].
pub const LENGTH_HEADER: usize = 4;

/// The largest message a 4-byte length header can describe.
pub const MAX_LENGTH_FRAME: u64 = u32::MAX as u64;

/// Default largest message a receiver accepts (16 MiB): a peer must not make
/// us allocate whatever its header claims.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// How message boundaries are written into the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with `\n` (a delimiter, like a line of text).
    Line,
    /// Each message is preceded by its length: 4 bytes, unsigned, big-endian.
    Length,
}

/// What went wrong with a frame: a message that cannot be encoded, or bytes
/// from the peer that are not a valid stream of frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Line framing cannot carry a message that contains `\n`: the receiver
    /// would see two messages. `at` is the offset of the first `\n`.
    NewlineInMessage { at: usize },
    /// Length framing cannot carry more than 4 GiB − 1 bytes in one message.
    TooLongForHeader { len: usize },
    /// A length header declares more than the receiver's limit.
    FrameTooLarge { declared: u64, max: usize },
    /// More than `max` bytes arrived without the `\n` that ends the line.
    LineTooLong { max: usize },
    /// The stream ended inside a message: `have` bytes of it had arrived.
    /// `needed` is the whole frame's size when the length header was complete.
    Truncated {
        framing: Framing,
        have: usize,
        needed: Option<usize>,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::NewlineInMessage { at } => write!(
                f,
                "message contains \\n (at byte {at}), which ends a message in line framing"
            ),
            FrameError::TooLongForHeader { len } => write!(
                f,
                "message of {len} bytes does not fit a 4-byte length header (at most {MAX_LENGTH_FRAME})"
            ),
            FrameError::FrameTooLarge { declared, max } => {
                write!(f, "frame of {declared} bytes exceeds --max-frame {max}")
            }
            FrameError::LineTooLong { max } => {
                write!(f, "line of more than {max} bytes exceeds --max-frame {max}")
            }
            FrameError::Truncated {
                framing: Framing::Line,
                have,
                ..
            } => write!(f, "{have} bytes arrived but not the \\n that ends them"),
            FrameError::Truncated {
                framing: Framing::Length,
                have,
                needed: Some(needed),
            } => write!(
                f,
                "{have} of the frame's {needed} bytes arrived (4-byte header included)"
            ),
            FrameError::Truncated {
                framing: Framing::Length,
                have,
                needed: None,
            } => write!(f, "{have} of the 4 bytes of the length header arrived"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Append `message`, framed, to `out`.
///
/// Fails without touching `out` if the message cannot be framed: a `\n`
/// inside a line, or more than 4 GiB − 1 bytes for a length header.
pub fn encode(framing: Framing, message: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
    check(framing, message)?;
    match framing {
        Framing::Line => {
            out.reserve(message.len() + 1);
            out.extend_from_slice(message);
            out.push(b'\n');
        }
        Framing::Length => {
            out.reserve(LENGTH_HEADER + message.len());
            out.extend_from_slice(&length_header(message.len()));
            out.extend_from_slice(message);
        }
    }
    Ok(())
}

/// Write `message`, framed, to `out` (an `io::Write`, typically a
/// `BufWriter` around a socket, so that many small frames leave in one
/// `send`). A message that cannot be framed is an `InvalidInput` error
/// carrying the [`FrameError`], and nothing is written.
pub fn write_frame<W: Write + ?Sized>(
    out: &mut W,
    framing: Framing,
    message: &[u8],
) -> io::Result<()> {
    check(framing, message).map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
    match framing {
        Framing::Line => {
            out.write_all(message)?;
            out.write_all(b"\n")
        }
        Framing::Length => {
            out.write_all(&length_header(message.len()))?;
            out.write_all(message)
        }
    }
}

/// Can `message` be sent with `framing`?
pub fn check(framing: Framing, message: &[u8]) -> Result<(), FrameError> {
    match framing {
        Framing::Line => match message.iter().position(|&b| b == b'\n') {
            Some(at) => Err(FrameError::NewlineInMessage { at }),
            None => Ok(()),
        },
        Framing::Length if message.len() as u64 > MAX_LENGTH_FRAME => {
            Err(FrameError::TooLongForHeader { len: message.len() })
        }
        Framing::Length => Ok(()),
    }
}

/// The 4-byte big-endian header for a message of `len` bytes (callers have
/// checked that `len` fits).
fn length_header(len: usize) -> [u8; LENGTH_HEADER] {
    (len as u32).to_be_bytes()
}

/// What a decoder found in the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A complete message (without its framing), taken from the front of the
    /// input; `consumed` bytes of the input (framing included) belong to it.
    Message { message: &'a [u8], consumed: usize },
    /// The input holds no complete message yet. At least `at_least` more bytes
    /// are needed before one can complete — exactly that many for the length
    /// framing; 1 for lines, whose end nobody can know in advance.
    NeedMore { at_least: usize },
}

/// Finds message boundaries in received bytes. Holds almost no state: the
/// caller keeps the bytes, passes everything received and not yet consumed,
/// and drops the `consumed` bytes of each message it gets back.
///
/// After [`Decoded::NeedMore`], call again with the same bytes plus the new
/// ones: the line decoder remembers how far it has already searched for `\n`,
/// so a long line arriving in many small pieces is scanned once, not once per
/// piece.
#[derive(Clone, Debug)]
pub struct Decoder {
    framing: Framing,
    max_frame: usize,
    /// Line framing: bytes at the front of the input known to hold no `\n`.
    scanned: usize,
}

impl Decoder {
    /// A decoder that refuses messages longer than `max_frame` bytes.
    pub fn new(framing: Framing, max_frame: usize) -> Decoder {
        Decoder {
            framing,
            max_frame,
            scanned: 0,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Look for one complete message at the front of `input`.
    ///
    /// An error means the stream cannot be trusted any further (a header
    /// claiming too much, a line too long): the connection should end.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, FrameError> {
        match self.framing {
            Framing::Line => self.decode_line(input),
            Framing::Length => self.decode_length(input),
        }
    }

    fn decode_line<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, FrameError> {
        // Only the bytes not searched before can hold the first `\n`.
        let from = self.scanned.min(input.len());
        match input[from..].iter().position(|&b| b == b'\n') {
            Some(offset) => {
                let end = from + offset;
                self.scanned = 0;
                if end > self.max_frame {
                    return Err(FrameError::LineTooLong {
                        max: self.max_frame,
                    });
                }
                Ok(Decoded::Message {
                    message: &input[..end],
                    consumed: end + 1,
                })
            }
            None => {
                self.scanned = input.len();
                if input.len() > self.max_frame {
                    // Waiting longer would only let a peer fill our memory.
                    return Err(FrameError::LineTooLong {
                        max: self.max_frame,
                    });
                }
                Ok(Decoded::NeedMore { at_least: 1 })
            }
        }
    }

    fn decode_length<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, FrameError> {
        let Some((header, rest)) = input.split_first_chunk::<LENGTH_HEADER>() else {
            return Ok(Decoded::NeedMore {
                at_least: LENGTH_HEADER - input.len(),
            });
        };
        let declared = u32::from_be_bytes(*header) as usize;
        // Judge the header as soon as it is complete, before any body byte:
        // a bad length must not make us wait for (or buffer) gigabytes.
        if declared > self.max_frame {
            return Err(FrameError::FrameTooLarge {
                declared: declared as u64,
                max: self.max_frame,
            });
        }
        match rest.get(..declared) {
            Some(message) => Ok(Decoded::Message {
                message,
                consumed: LENGTH_HEADER + declared,
            }),
            None => Ok(Decoded::NeedMore {
                at_least: declared - rest.len(),
            }),
        }
    }

    /// The stream has ended with `left` still unconsumed. Nothing left is a
    /// clean end; anything else is a message cut short by the peer's close.
    pub fn finish(&self, left: &[u8]) -> Result<(), FrameError> {
        if left.is_empty() {
            return Ok(());
        }
        let needed = match self.framing {
            Framing::Line => None,
            Framing::Length => left
                .first_chunk::<LENGTH_HEADER>()
                .map(|header| LENGTH_HEADER + u32::from_be_bytes(*header) as usize),
        };
        Err(FrameError::Truncated {
            framing: self.framing,
            have: left.len(),
            needed,
        })
    }
}

/// A receive buffer with a [`Decoder`]: read bytes into [`space`], mark them
/// with [`filled`], then take out every complete message with
/// [`next_message`] until it answers `None` ("need more bytes").
///
/// One large read can hold thousands of small frames; they all come out of
/// the same buffer, as borrowed slices, with no copy and no allocation per
/// message. The only copy is of an incomplete message, moved to the front
/// when the free space runs short. The buffer grows only as far as the
/// largest message the decoder accepts.
///
/// [`space`]: FrameBuffer::space
/// [`filled`]: FrameBuffer::filled
/// [`next_message`]: FrameBuffer::next_message
#[derive(Clone, Debug)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
    /// `bytes[start..end]` is received and not yet consumed.
    start: usize,
    end: usize,
    decoder: Decoder,
    at_least: usize,
}

impl FrameBuffer {
    pub fn new(framing: Framing, max_frame: usize) -> FrameBuffer {
        FrameBuffer {
            bytes: Vec::new(),
            start: 0,
            end: 0,
            decoder: Decoder::new(framing, max_frame),
            at_least: least_to_start(framing),
        }
    }

    /// Free space for at most `len` new bytes, to read into; say how many
    /// arrived with [`FrameBuffer::filled`].
    pub fn space(&mut self, len: usize) -> &mut [u8] {
        if self.start == self.end {
            // Everything received was consumed: start again at the front.
            self.start = 0;
            self.end = 0;
        }
        if self.bytes.len() - self.end < len {
            if self.start > 0 {
                // Move the incomplete message to the front (usually a few
                // bytes) so the free space is one piece again.
                self.bytes.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.bytes.len() - self.end < len {
                self.bytes.resize(self.end + len, 0);
            }
        }
        &mut self.bytes[self.end..self.end + len]
    }

    /// `len` bytes were written at the front of the last [`FrameBuffer::space`].
    pub fn filled(&mut self, len: usize) {
        self.end = (self.end + len).min(self.bytes.len());
    }

    /// Append `bytes` (for input that is not read straight into the buffer).
    pub fn push(&mut self, bytes: &[u8]) {
        self.space(bytes.len()).copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// The next complete message, or `None` if more bytes are needed.
    /// After an error the stream is out of step; stop reading it.
    pub fn next_message(&mut self) -> Result<Option<&[u8]>, FrameError> {
        // region: next-message
        let pending = &self.bytes[self.start..self.end];
        match self.decoder.decode(pending)? {
            Decoded::Message { message, consumed } => {
                // The message sits after the header (length framing) or at
                // the very front (line framing) of what was pending.
                let header = match self.decoder.framing {
                    Framing::Line => 0,
                    Framing::Length => LENGTH_HEADER,
                };
                let from = self.start + header;
                let to = from + message.len();
                self.start += consumed;
                self.at_least = least_to_start(self.decoder.framing);
                Ok(Some(&self.bytes[from..to]))
            }
            Decoded::NeedMore { at_least } => {
                self.at_least = at_least;
                Ok(None)
            }
        }
        // endregion: next-message
    }

    /// How many more bytes the decoder needs, at least, before the next
    /// message can complete (as of the last `next_message` that returned
    /// `None`). A reader that must not read past the current message reads
    /// no more than this.
    pub fn wanted(&self) -> usize {
        self.at_least
    }

    /// Bytes received and not yet part of a returned message.
    pub fn pending(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// The peer has closed: Ok if the stream ended between messages, the
    /// [`FrameError::Truncated`] error if it ended inside one.
    pub fn finish(&self) -> Result<(), FrameError> {
        self.decoder.finish(self.pending())
    }
}

/// The fewest bytes a message can take before anything has arrived: a `\n`,
/// or a 4-byte header.
fn least_to_start(framing: Framing) -> usize {
    match framing {
        Framing::Line => 1,
        Framing::Length => LENGTH_HEADER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages chosen to catch the usual mistakes: an empty message, binary
    /// bytes (0x00, 0xff, 0x0a inside the length framing), a Chinese
    /// character whose 3 bytes a split can separate.
    fn samples(framing: Framing) -> Vec<Vec<u8>> {
        let mut list = vec![
            b"hi".to_vec(),
            Vec::new(),
            "粘包".as_bytes().to_vec(),
            b"x".to_vec(),
        ];
        if framing == Framing::Length {
            list.push(vec![0x00, b'\n', 0xff, 0x00]);
        }
        list
    }

    fn wire(framing: Framing, messages: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            encode(framing, m, &mut out).unwrap();
        }
        out
    }

    /// Feed `pieces` one after another, as reads would deliver them, and
    /// collect every message; also check that no message appears early and
    /// that "need more" reports a true lower bound.
    fn feed(framing: Framing, pieces: &[&[u8]]) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut buffer = FrameBuffer::new(framing, 1 << 10);
        let mut got = Vec::new();
        for piece in pieces {
            let wanted_before = buffer.wanted();
            buffer.push(piece);
            let mut produced = false;
            while let Some(message) = buffer.next_message()? {
                got.push(message.to_vec());
                produced = true;
            }
            if produced && framing == Framing::Length {
                // A message completed, so at least `wanted` bytes had to come.
                assert!(
                    piece.len() >= wanted_before,
                    "a message completed with fewer bytes than `wanted` said"
                );
            }
        }
        buffer.finish()?;
        Ok(got)
    }

    /// Every way to cut `bytes` into consecutive non-empty pieces: 2^(n-1) of
    /// them, one per subset of the n-1 inner cut points.
    fn for_every_split(bytes: &[u8], mut check: impl FnMut(&[&[u8]])) {
        let n = bytes.len();
        assert!(n <= 20, "2^(n-1) splits: keep the input short");
        let inner = n.saturating_sub(1);
        for mask in 0u32..(1u32 << inner) {
            let mut pieces = Vec::new();
            let mut from = 0;
            for cut in 1..n {
                if mask & (1 << (cut - 1)) != 0 {
                    pieces.push(&bytes[from..cut]);
                    from = cut;
                }
            }
            pieces.push(&bytes[from..]);
            check(&pieces);
        }
    }

    #[test]
    fn line_encoding_appends_a_newline() {
        let mut out = Vec::new();
        encode(Framing::Line, "你好".as_bytes(), &mut out).unwrap();
        encode(Framing::Line, b"", &mut out).unwrap();
        assert_eq!(out, b"\xe4\xbd\xa0\xe5\xa5\xbd\n\n");
    }

    #[test]
    fn length_encoding_is_four_big_endian_bytes_then_the_message() {
        let mut out = Vec::new();
        encode(Framing::Length, b"hello", &mut out).unwrap();
        encode(Framing::Length, b"", &mut out).unwrap();
        assert_eq!(out, b"\x00\x00\x00\x05hello\x00\x00\x00\x00");
        let big = vec![7u8; 0x0102];
        out.clear();
        encode(Framing::Length, &big, &mut out).unwrap();
        assert_eq!(&out[..4], &[0, 0, 1, 2]);
        assert_eq!(out.len(), 4 + 0x0102);
    }

    #[test]
    fn write_frame_matches_encode() {
        for framing in [Framing::Line, Framing::Length] {
            let mut written = Vec::new();
            for m in samples(framing) {
                write_frame(&mut written, framing, &m).unwrap();
            }
            assert_eq!(written, wire(framing, &samples(framing)));
        }
    }

    #[test]
    fn line_framing_refuses_a_message_with_a_newline() {
        let mut out = b"kept".to_vec();
        assert_eq!(
            encode(Framing::Line, b"two\nlines", &mut out),
            Err(FrameError::NewlineInMessage { at: 3 })
        );
        assert_eq!(out, b"kept", "nothing may be written for a refused message");
        let err = write_frame(&mut Vec::new(), Framing::Line, b"a\n").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // The length framing carries any bytes, `\n` included.
        assert!(encode(Framing::Length, b"two\nlines", &mut out).is_ok());
    }

    #[test]
    fn every_split_of_the_stream_gives_back_the_same_messages() {
        for framing in [Framing::Line, Framing::Length] {
            // Short enough for all 2^(n-1) splits, long enough to hold an
            // empty message and a character cut anywhere.
            let messages: Vec<Vec<u8>> = match framing {
                Framing::Line => vec![b"ab".to_vec(), Vec::new(), "粘包".as_bytes().to_vec()],
                Framing::Length => vec![b"a\n".to_vec(), Vec::new(), "粘".as_bytes().to_vec()],
            };
            let bytes = wire(framing, &messages);
            let mut splits = 0;
            for_every_split(&bytes, |pieces| {
                let got = feed(framing, pieces)
                    .unwrap_or_else(|e| panic!("{framing:?}: pieces {pieces:?} gave error {e}"));
                assert_eq!(got, messages, "{framing:?}: pieces {pieces:?}");
                splits += 1;
            });
            assert_eq!(splits, 1 << (bytes.len() - 1));
        }
    }

    #[test]
    fn one_byte_at_a_time_and_all_at_once_agree() {
        for framing in [Framing::Line, Framing::Length] {
            let messages = samples(framing);
            let bytes = wire(framing, &messages);
            let single: Vec<&[u8]> = bytes.chunks(1).collect();
            assert_eq!(feed(framing, &single).unwrap(), messages);
            assert_eq!(feed(framing, &[&bytes]).unwrap(), messages);
            // Every split into two and into three pieces of the longer stream.
            for a in 0..=bytes.len() {
                assert_eq!(
                    feed(framing, &[&bytes[..a], &bytes[a..]]).unwrap(),
                    messages
                );
                for b in a..=bytes.len() {
                    let pieces = [&bytes[..a], &bytes[a..b], &bytes[b..]];
                    assert_eq!(feed(framing, &pieces).unwrap(), messages, "cuts {a} {b}");
                }
            }
        }
    }

    #[test]
    fn a_read_boundary_is_not_a_message_boundary() {
        // Two reads, each ending exactly where a message would be if reads
        // were messages: the decoder must still wait for the real end.
        let mut buffer = FrameBuffer::new(Framing::Line, 100);
        buffer.push(b"hel");
        assert_eq!(buffer.next_message().unwrap(), None);
        buffer.push(b"lo\nwor");
        assert_eq!(buffer.next_message().unwrap(), Some(&b"hello"[..]));
        assert_eq!(buffer.next_message().unwrap(), None);
        assert_eq!(buffer.pending(), b"wor");
    }

    #[test]
    fn wanted_starts_with_a_whole_header() {
        let mut buffer = FrameBuffer::new(Framing::Length, 100);
        assert_eq!(buffer.wanted(), 4);
        buffer.push(b"\x00\x00\x00\x02ab\x00");
        assert_eq!(buffer.next_message().unwrap(), Some(&b"ab"[..]));
        assert_eq!(buffer.next_message().unwrap(), None);
        assert_eq!(buffer.wanted(), 3);
        assert_eq!(FrameBuffer::new(Framing::Line, 100).wanted(), 1);
    }

    #[test]
    fn need_more_says_exactly_how_many_bytes_a_length_frame_lacks() {
        let mut decoder = Decoder::new(Framing::Length, 100);
        assert_eq!(decoder.decode(b""), Ok(Decoded::NeedMore { at_least: 4 }));
        assert_eq!(
            decoder.decode(b"\x00\x00"),
            Ok(Decoded::NeedMore { at_least: 2 })
        );
        assert_eq!(
            decoder.decode(b"\x00\x00\x00\x05he"),
            Ok(Decoded::NeedMore { at_least: 3 })
        );
        assert_eq!(
            decoder.decode(b"\x00\x00\x00\x05hello\x00"),
            Ok(Decoded::Message {
                message: b"hello",
                consumed: 9
            })
        );
    }

    #[test]
    fn an_oversize_header_is_refused_before_its_body_arrives() {
        let mut buffer = FrameBuffer::new(Framing::Length, 1000);
        buffer.push(&1001u32.to_be_bytes());
        assert_eq!(
            buffer.next_message(),
            Err(FrameError::FrameTooLarge {
                declared: 1001,
                max: 1000
            })
        );
        let mut buffer = FrameBuffer::new(Framing::Length, 1000);
        buffer.push(&1000u32.to_be_bytes());
        assert_eq!(
            buffer.next_message(),
            Ok(None),
            "exactly the limit is allowed"
        );
        assert_eq!(
            FrameError::FrameTooLarge {
                declared: 1001,
                max: 1000
            }
            .to_string(),
            "frame of 1001 bytes exceeds --max-frame 1000"
        );
    }

    #[test]
    fn a_line_without_end_is_refused_once_longer_than_the_limit() {
        let mut buffer = FrameBuffer::new(Framing::Line, 5);
        buffer.push(b"12345");
        assert_eq!(buffer.next_message(), Ok(None));
        buffer.push(b"6");
        assert_eq!(
            buffer.next_message(),
            Err(FrameError::LineTooLong { max: 5 })
        );
        let mut buffer = FrameBuffer::new(Framing::Line, 5);
        buffer.push(b"12345\n");
        assert_eq!(buffer.next_message(), Ok(Some(&b"12345"[..])));
    }

    #[test]
    fn the_line_decoder_scans_each_byte_once() {
        // After "need more", searching resumes where it stopped; a stale
        // position must never skip a `\n` in new input.
        let mut decoder = Decoder::new(Framing::Line, 100);
        assert_eq!(
            decoder.decode(b"abc"),
            Ok(Decoded::NeedMore { at_least: 1 })
        );
        assert_eq!(decoder.scanned, 3);
        assert_eq!(
            decoder.decode(b"abc\nd"),
            Ok(Decoded::Message {
                message: b"abc",
                consumed: 4
            })
        );
        assert_eq!(decoder.scanned, 0);
        assert_eq!(
            decoder.decode(b"\n"),
            Ok(Decoded::Message {
                message: b"",
                consumed: 1
            })
        );
    }

    #[test]
    fn a_stream_that_ends_inside_a_message_is_reported_for_every_cut() {
        for framing in [Framing::Line, Framing::Length] {
            let messages = samples(framing);
            let bytes = wire(framing, &messages);
            // Offsets where a message ends: the only clean places to stop.
            let mut ends = vec![0];
            for m in &messages {
                let frame = match framing {
                    Framing::Line => m.len() + 1,
                    Framing::Length => m.len() + 4,
                };
                ends.push(ends.last().unwrap() + frame);
            }
            for cut in 0..=bytes.len() {
                let result = feed(framing, &[&bytes[..cut]]);
                if ends.contains(&cut) {
                    assert!(result.is_ok(), "{framing:?} cut at {cut}: {result:?}");
                } else {
                    match result {
                        Err(FrameError::Truncated { have, .. }) => {
                            let last = ends.iter().filter(|&&e| e <= cut).max().unwrap();
                            assert_eq!(have, cut - last, "{framing:?} cut at {cut}");
                        }
                        other => {
                            panic!("{framing:?} cut at {cut}: expected Truncated, got {other:?}")
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn truncation_messages_name_what_arrived() {
        let decoder = Decoder::new(Framing::Length, 100);
        assert_eq!(
            decoder.finish(b"\x00\x00").unwrap_err().to_string(),
            "2 of the 4 bytes of the length header arrived"
        );
        assert_eq!(
            decoder
                .finish(b"\x00\x00\x00\x0aabc")
                .unwrap_err()
                .to_string(),
            "7 of the frame's 14 bytes arrived (4-byte header included)"
        );
        let decoder = Decoder::new(Framing::Line, 100);
        assert_eq!(
            decoder.finish(b"abc").unwrap_err().to_string(),
            "3 bytes arrived but not the \\n that ends them"
        );
    }

    #[test]
    fn many_frames_in_one_read_come_out_of_one_buffer_without_growing_it() {
        let mut out = Vec::new();
        for i in 0..1000u32 {
            encode(Framing::Length, &i.to_be_bytes(), &mut out).unwrap();
        }
        let mut buffer = FrameBuffer::new(Framing::Length, 64);
        let mut count = 0u32;
        for chunk in out.chunks(1000) {
            let space = buffer.space(1000);
            space[..chunk.len()].copy_from_slice(chunk);
            buffer.filled(chunk.len());
            while let Some(m) = buffer.next_message().unwrap() {
                assert_eq!(m, count.to_be_bytes());
                count += 1;
            }
        }
        assert_eq!(count, 1000);
        // Room for one read plus at most one incomplete frame, never the stream.
        assert!(
            buffer.bytes.len() <= 1000 + 8,
            "buffer grew to {}",
            buffer.bytes.len()
        );
    }

    #[test]
    fn a_message_larger_than_one_read_grows_the_buffer_as_needed() {
        let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        encode(Framing::Length, &big, &mut out).unwrap();
        encode(Framing::Length, b"after", &mut out).unwrap();
        let pieces: Vec<&[u8]> = out.chunks(7).collect();
        let mut buffer = FrameBuffer::new(Framing::Length, 5000);
        let mut got = Vec::new();
        for piece in pieces {
            buffer.push(piece);
            while let Some(m) = buffer.next_message().unwrap() {
                got.push(m.to_vec());
            }
        }
        assert_eq!(got, vec![big, b"after".to_vec()]);
        assert!(buffer.finish().is_ok());
    }
}
