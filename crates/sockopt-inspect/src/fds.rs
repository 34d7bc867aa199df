//! `fds`: file descriptors, the numbers behind `s.fileno()` (notes 6.4).
//!
//! Every open file, socket or pipe of a process is an entry in the process's
//! descriptor table, and the program names it by its index there: a small
//! integer. 0, 1 and 2 are stdin, stdout and stderr, open before `main`
//! runs, so the first socket gets 3. POSIX says each new descriptor is the
//! lowest number not in use — so no two open descriptors of one process
//! share a number, but a number comes back as soon as it is closed, now
//! naming something else. (The notes say the numbers "are never repeated in
//! a process"; that holds only for descriptors open at the same time.)
//!
//! ```text
//! cargo run -p sockopt-inspect -- fds
//! ```
//!
//! Output lines `open fd N …` and `close fd N …` are the contract the
//! lesson's tests read.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use anyhow::Context;

/// An open descriptor with a line saying what it is.
struct Open {
    what: String,
    fd: OwnedFd,
}

impl Open {
    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn announce(open: &Open, note: &str) {
    common::say!("open  fd {}  {}{note}", open.raw(), open.what);
}

fn udp() -> anyhow::Result<Open> {
    let socket = common::net::udp_bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    let addr = socket.local_addr().context("getsockname")?;
    Ok(Open {
        what: format!("UDP socket {addr}"),
        fd: socket.into(),
    })
}

fn file() -> anyhow::Result<Open> {
    let path = std::env::current_exe().context("find this program's file")?;
    let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
    Ok(Open {
        what: format!("file {}", path.display()),
        fd: file.into(),
    })
}

/// What the kernel says each descriptor is, from `/proc/self/fd` (`ls -l
/// /proc/self/fd` shows the same): `socket:[INODE]` for a socket.
#[cfg(target_os = "linux")]
fn show_kernel_table() {
    let entries = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries,
        Err(err) => {
            common::say!("kernel: cannot list /proc/self/fd: {err}");
            return;
        }
    };
    let mut fds: Vec<(RawFd, String)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path())
                .map(|p| p.display().to_string())
                .unwrap_or_else(|err| format!("({err})"));
            Some((fd, target))
        })
        .collect();
    fds.sort();
    common::say!("the kernel's table for this process (/proc/self/fd):");
    for (fd, target) in fds {
        let note = if target.starts_with("/proc/") && target.ends_with("/fd") {
            "   (the directory being listed right now)"
        } else {
            ""
        };
        common::say!("  fd {fd} -> {target}{note}");
    }
}

#[cfg(not(target_os = "linux"))]
fn show_kernel_table() {
    common::say!("(on Linux the kernel's table would follow here, from /proc/self/fd)");
}

pub fn run() -> anyhow::Result<()> {
    common::say!("fd 0, 1, 2: stdin, stdout, stderr, open before main runs");
    let listener = common::net::tcp_listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    let addr = listener.local_addr().context("getsockname")?;
    common::say!(
        "open  fd {}  TCP listening socket {addr}",
        listener.as_raw_fd()
    );
    let client = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    let client = Open {
        what: format!("TCP socket connected to {addr}"),
        fd: client.into(),
    };
    announce(&client, "");
    let (accepted, peer) = listener
        .accept()
        .with_context(|| format!("accept {addr}"))?;
    let accepted = Open {
        what: format!("TCP socket accepted from {peer}"),
        fd: accepted.into(),
    };
    announce(
        &accepted,
        "   (accept makes a new socket: conn in the notes)",
    );
    let listen = Open {
        what: format!("TCP listening socket {addr}"),
        fd: listener.into(),
    };
    let udp_socket = udp()?;
    announce(&udp_socket, "");
    let exe = file()?;
    announce(&exe, "   (files and sockets share one numbering)");
    show_kernel_table();

    let mut open = vec![listen, client, accepted, udp_socket, exe];
    // Close two from the middle, then open two more: each new one takes the
    // lowest free number.
    for index in [3, 1] {
        let closed = open.remove(index);
        common::say!("close fd {}  {}", closed.raw(), closed.what);
        drop(closed);
    }
    let again = udp()?;
    announce(&again, "   (the lowest free number is reused)");
    open.push(again);
    let again = file()?;
    announce(&again, "   (the next lowest free one)");
    open.push(again);

    let mut numbers: Vec<RawFd> = open.iter().map(Open::raw).collect();
    numbers.sort_unstable();
    let list: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    common::say!(
        "open now: fd {} — all different, all small",
        list.join(", ")
    );
    Ok(())
}
