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
//!
//! The rooms: [`trace`] reads trace files; [`diagram`] lays out columns
//! and rows and gives the diagram's structure; `matching` draws the
//! arrows between them; `summary` shortens a long diagram; [`render`]
//! draws it.

pub mod diagram;
mod matching;
pub mod render;
mod summary;
pub mod trace;

pub use diagram::{describe, Arrow, ArrowKind, Column, Diagram, Options, Row};
pub use trace::{same_socket, Event, Trace};

/// The trace format this reader understands (`"wire_trace":1`).
pub const FORMAT_VERSION: u64 = 1;

#[cfg(test)]
mod tests;
