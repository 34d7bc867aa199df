//! A test stopped by the grader's time limit still reports.
//!
//! `scripts/grade` (cargo-nextest's `slow-timeout`) stops a test that runs
//! past its limit with `SIGTERM`, and `SIGKILL` a second later. No panic
//! happens, so the panic hook never prints the report: without this, a
//! student whose server never closes a connection sees the test's steps
//! and nothing of what the server printed. The handler only writes a byte
//! to a pipe (all a signal handler may safely do); a thread waiting on that
//! pipe prints the report and exits the test process, and every program the
//! test started dies with it (see `process`).

use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// The pipe's write end, for the handler.
static WAKE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn handler(_signal: libc::c_int) {
    let fd = WAKE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; the buffer is a constant.
        unsafe {
            libc::write(fd, b"x".as_ptr().cast(), 1);
        }
    }
}

/// On `SIGTERM`, run `report` on a thread of its own, then exit with the
/// status a `SIGTERM` gives (143). Installed once per process.
pub(crate) fn on_sigterm(report: impl FnOnce() + Send + 'static) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two descriptors we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    // SAFETY: fds[0] is ours alone from here on.
    let mut wake = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let started = std::thread::Builder::new()
        .name("blackbox-sigterm".into())
        .spawn(move || {
            let mut byte = [0u8; 1];
            if matches!(wake.read(&mut byte), Ok(1)) {
                report();
                std::process::exit(128 + libc::SIGTERM);
            }
        });
    if started.is_err() {
        return;
    }
    WAKE.store(fds[1], Ordering::Relaxed);
    // SAFETY: the handler only calls write(2); sigaction is given a
    // zeroed struct with the handler and an empty mask.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}
