//! Turning a failure into one line and an exit status (README, "Conventions").
//!
//! Every program's `main` is `common::run_main(|| { ... })`. Errors carry their
//! context with `anyhow::Context`, so what reaches the user reads like
//!
//! ```text
//! error: bind 127.0.0.1:9001: Address already in use (os error 98)
//! ```
//!
//! — what failed, the address, and the operating system's own reason.

use std::fmt;
use std::process::ExitCode;

/// Bad usage found after argument parsing (a value clap cannot judge alone,
/// such as a datagram larger than UDP allows). Exits with status 2, like the
/// usage errors clap reports itself.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Exit status of a failure (1) or of bad usage (2).
pub fn exit_status(err: &anyhow::Error) -> u8 {
    if err.chain().any(|cause| cause.is::<UsageError>()) {
        2
    } else {
        1
    }
}

/// The one line a failure is reported as: `error: ` and the whole chain of
/// context, outermost first, joined with `: `.
pub fn error_line(err: &anyhow::Error) -> String {
    format!("error: {err:#}")
}

/// Print `error: …` on stderr. Used for a program's last words, and by servers
/// for a failure that ends one connection only.
pub fn report_error(err: &anyhow::Error) {
    crate::log::err_line(format_args!("{}", error_line(err)));
}

/// Run a program's real `main` and map its result onto the exit status:
/// 0 on success, 1 on failure, 2 on bad usage.
///
/// It also replaces the default panic message (several lines and a hint about
/// backtraces) with a single `error:` line. A panic is a bug in this code — no
/// input is meant to reach one — but if one happens in a connection thread the
/// thread ends and the server goes on.
pub fn run_main(main: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        crate::log::err_line(format_args!("error: internal bug{place}: {message}"));
    }));
    match main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_error(&err);
            ExitCode::from(exit_status(&err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn error_line_joins_context_and_os_reason() {
        let os = std::io::Error::from_raw_os_error(98);
        let err = Err::<(), _>(os).context("bind 127.0.0.1:9001").unwrap_err();
        let line = error_line(&err);
        assert!(line.starts_with("error: bind 127.0.0.1:9001: "), "{line}");
        assert!(line.contains("os error 98"), "{line}");
        assert_eq!(exit_status(&err), 1);
    }

    #[test]
    fn usage_error_exits_two_even_under_context() {
        let err = Err::<(), _>(UsageError("too big".into()))
            .context("--size")
            .unwrap_err();
        assert_eq!(exit_status(&err), 2);
        assert_eq!(error_line(&err), "error: --size: too big");
    }
}
