//! What two or more of the course programs share, and the one library a
//! lesson gives its students finished ([`framing`]) — nothing else.
//!
//! Like the `lib/` folder of Stevens' *UNIX Network Programming*, this crate
//! keeps the boring, easy-to-get-wrong parts in one place so that each
//! program's own code can read like the lesson it belongs to:
//!
//! * [`report`] — one place that turns an error into the single line
//!   `error: <what> <address>: <reason>` and an exit status (README,
//!   "Conventions", rule 4).
//! * [`log`] — log lines on stdout, written at once so that a pipe sees them.
//! * [`net`] — binding a listener, announcing `listening on ADDR`, connecting,
//!   and raising the open-file limit for servers with many clients.
//! * [`server`] — the accept loop that gives each TCP client its own thread.
//! * [`text`] — showing received bytes as readable text (`\n`, `\xNN`).
//! * [`trace`] — `--trace FILE`: one JSON line per socket event, for `wire`.
//! * [`units`] — byte counts with K/M/G suffixes on the command line.
//! * [`framing`] — message boundaries on a TCP byte stream (lesson 2). Only
//!   sticky-demo uses it; its header says why it lives here.

pub mod framing;
pub mod log;
pub mod net;
pub mod report;
pub mod server;
pub mod text;
pub mod trace;
pub mod units;

pub use net::{announce_listening, parse_socket_addr};
pub use report::{run_main, UsageError};
pub use text::show_bytes;
pub use units::parse_byte_count;
