//! Log lines, written and flushed at once.
//!
//! Tests, graders and scripts read a program's output through a pipe, where a
//! buffered line could sit unseen for a long time (README, "Conventions", rule
//! 3). A write that fails — the reader went away — is ignored: losing a log
//! line must never bring a server down.

use std::fmt;
use std::io::Write;

/// Write one line on stdout and flush it.
pub fn out_line(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(args);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Write one line on stderr (unbuffered already).
pub fn err_line(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.write_all(b"\n");
}

/// `say!("recv {n} bytes from {peer}")`: one log line on stdout, flushed.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::log::out_line(format_args!($($arg)*))
    };
}

/// `say_error!("recv {peer}: {err}")`: one `error: …` line on stderr, for a
/// failure a server survives (one connection's reset, a malformed frame).
#[macro_export]
macro_rules! say_error {
    ($($arg:tt)*) => {
        $crate::log::err_line(format_args!("error: {}", format_args!($($arg)*)))
    };
}
