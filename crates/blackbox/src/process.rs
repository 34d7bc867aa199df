//! Starting and ending the programs under test, so that nothing a test starts
//! outlives it.
//!
//! On Unix every program runs in a process group of its own (its pid is the
//! group's id), and ending it means `SIGKILL` to the whole group: a program
//! that forked a helper, or a `sh -c` line that started a pipeline, is gone
//! entirely, then reaped. Three things make that hold whatever happens to
//! the test:
//!
//! - **The test ends, fails or panics**: the [`Running`](crate::Running) is
//!   dropped (during unwinding too) and kills the group; a one-shot run kills
//!   whatever its program left in the group when it exits.
//! - **The test process itself dies** (killed by a timeout, by `SIGKILL`):
//!   on Linux the program was started with `PR_SET_PDEATHSIG = SIGKILL`, so
//!   the kernel kills it with the test process. That setting belongs to the
//!   *thread* that forked the program, so every program is started from one
//!   thread that lives as long as the test process (a test's helper thread
//!   that started a server and then returned would otherwise kill it).
//! - **Grandchildren** do not inherit `PDEATHSIG`, so each group also holds a
//!   small guard, `sh -c 'read _; kill -s KILL -- -PGID'`, whose stdin is a pipe
//!   only the test process writes to. When the test process dies, however it
//!   dies, the kernel closes that pipe, `read` returns, and the guard kills
//!   the group, itself included. (This works on macOS too.)

use std::io;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Prepare `command` to run in its own process group, and on Linux to die
/// with the test process.
pub(crate) fn isolate(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: between fork and exec only async-signal-safe calls
            // (prctl, getppid) run, and nothing is allocated.
            unsafe {
                command.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // The test process may have died before prctl took effect.
                    if libc::getppid() != parent {
                        return Err(io::Error::other("the test process is gone"));
                    }
                    Ok(())
                });
            }
        }
    }
    #[cfg(not(unix))]
    let _ = command;
}

/// `PR_SET_PDEATHSIG = SIGTERM` for `command` (Linux; a no-op elsewhere).
pub(crate) fn terminate_with_spawning_thread(command: &mut Command) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(io::Error::other("the test process is gone"));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = command;
}

type Job = Box<dyn FnOnce() + Send>;

/// Start a program with `start` on the one thread that starts every program
/// (see the module comment: `PDEATHSIG` follows the forking thread). If that
/// thread cannot be had, the start fails like a failed spawn.
fn on_spawner_thread(
    start: impl FnOnce() -> io::Result<Child> + Send + 'static,
) -> io::Result<Child> {
    static SPAWNER: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (sender, jobs) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("blackbox-spawner".into())
            .spawn(move || {
                for job in jobs {
                    job();
                }
            })
            .ok()
            .map(|_| Mutex::new(sender))
    });
    let gone = || io::Error::other("the thread that starts programs is gone");
    let spawner = spawner
        .as_ref()
        .ok_or_else(|| io::Error::other("cannot start the thread that starts programs"))?;
    let (reply, answer) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(start());
    });
    spawner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .map_err(|_| gone())?;
    answer.recv().map_err(|_| gone())?
}

/// A started program and the guard of its process group.
pub(crate) struct Group {
    pub child: Child,
    guard: Option<Child>,
    status: Option<ExitStatus>,
    ended: bool,
}

impl Group {
    /// Start `command` (prepared by [`isolate`]) and its guard.
    pub fn spawn(command: Command) -> io::Result<Group> {
        let mut command = command;
        let child = on_spawner_thread(move || command.spawn())?;
        let guard = start_guard(child.id());
        Ok(Group {
            child,
            guard,
            status: None,
            ended: false,
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the program has exited (it stays unreaped until
    /// [`Group::end`], so its group id cannot be reused meanwhile).
    pub fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = exited(&mut self.child);
        }
        self.status
    }

    /// Wait until `deadline` for the program to exit by itself.
    pub fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.poll() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kill everything left in the program's process group (the program
    /// itself if it still runs, whatever it forked, the guard) and reap the
    /// program and the guard. Returns the program's exit status if it exited
    /// by itself.
    pub fn end(&mut self) -> Option<ExitStatus> {
        if self.ended {
            return self.status;
        }
        self.ended = true;
        let exited_by_itself = self.poll();
        kill_group(&mut self.child);
        let reaped = self.child.wait().ok();
        if let Some(mut guard) = self.guard.take() {
            let _ = guard.kill();
            let _ = guard.wait();
        }
        self.status = exited_by_itself.or(reaped);
        exited_by_itself
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.end();
    }
}

/// Has the child exited? On Linux, without reaping it (`WNOWAIT`), so that
/// its pid, which is also its process group's id, stays taken until the
/// group is killed. (Elsewhere std's try_wait reaps it; Unix still keeps a
/// group's id from being reused while any member of the group lives.)
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exited(child: &mut Child) -> Option<ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    // SAFETY: waitid writes only into `info`, which we own.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let done = unsafe {
        libc::waitid(
            libc::P_PID,
            child.id() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if done != 0 {
        // Already reaped (or not our child): ask std, which knows.
        return child.try_wait().ok().flatten();
    }
    // SAFETY: after a successful waitid the pid/status fields are set.
    let (pid, status, code) = unsafe { (info.si_pid(), info.si_status(), info.si_code) };
    if pid == 0 {
        return None;
    }
    Some(if code == libc::CLD_EXITED {
        ExitStatus::from_raw((status & 0xff) << 8)
    } else {
        ExitStatus::from_raw(status & 0x7f)
    })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exited(child: &mut Child) -> Option<ExitStatus> {
    child.try_wait().ok().flatten()
}

#[cfg(unix)]
fn kill_group(child: &mut Child) {
    // SAFETY: kill(2) with a negative pid signals the process group whose id
    // is the child's pid; the unreaped child keeps that id ours.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let _ = child.kill();
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}

/// The guard of a process group (see the module comment); `None` if it
/// cannot be started, in which case Drop and `PDEATHSIG` still apply.
#[cfg(unix)]
fn start_guard(pgid: u32) -> Option<Child> {
    use std::os::unix::process::CommandExt;
    let mut guard = Command::new("sh");
    guard
        .arg("-c")
        .arg("read _ ; kill -s KILL -- -\"$1\" 2>/dev/null")
        .arg("blackbox-guard")
        .arg(pgid.to_string())
        .process_group(pgid as i32)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The pipe to its stdin is close-on-exec on our side: no other program
    // inherits it, so it closes exactly when the test process ends.
    guard.spawn().ok()
}

#[cfg(not(unix))]
fn start_guard(_pgid: u32) -> Option<Child> {
    let _ = Stdio::null();
    None
}
