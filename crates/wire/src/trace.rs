//! Trace files (README "Traces"): a header line, then one JSON line per
//! socket call of one process.

use serde::Deserialize;

use crate::FORMAT_VERSION;

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
    pub(crate) fn is(&self, ev: &str) -> bool {
        self.ev == ev
    }
    pub(crate) fn len(&self) -> u64 {
        self.len.unwrap_or(0)
    }
    pub(crate) fn is_reset(&self) -> bool {
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
