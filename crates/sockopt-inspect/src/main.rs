//! sockopt-inspect — lesson 6, the socket module (notes section 6, "socket模块").
//!
//! Makes real sockets on loopback — a TCP listener, both ends of a TCP
//! connection, a UDP socket (and an IPv6 one) — and shows what the notes'
//! calls return for each: `s.type`, `getpeername`, `getsockname`, `fileno`,
//! and `getsockopt` for every option in one table, W. R. Stevens' checkopts
//! done in Rust. Subcommands set options and read them back, make TIME_WAIT
//! and SO_REUSEADDR visible, and show how descriptor numbers are handed out.
//!
//! ```text
//! cargo run -p sockopt-inspect                        # every socket, every option
//! cargo run -p sockopt-inspect -- --json              # the same as one JSON document
//! cargo run -p sockopt-inspect -- set SO_RCVBUF=9973  # setsockopt, then getsockopt
//! cargo run -p sockopt-inspect -- reuseaddr-demo      # TIME_WAIT vs SO_REUSEADDR
//! cargo run -p sockopt-inspect -- fds                 # fileno: small, distinct, reused
//! cargo run -p sockopt-inspect -- list                # the option table itself
//! ```
//!
//! Everything here talks to the kernel in Unix terms (option numbers,
//! descriptors, /proc); on other systems the program says so and exits 1.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

#[cfg(unix)]
mod fds;
#[cfg(unix)]
mod inspect;
#[cfg(unix)]
mod options;
#[cfg(unix)]
mod reuseaddr;
#[cfg(unix)]
mod set;
#[cfg(target_os = "linux")]
mod tcp_states;

#[derive(Parser)]
#[command(
    name = "sockopt-inspect",
    version,
    about = "A socket's type, addresses, fileno and options, read from the kernel (lesson 6: the socket module)",
    long_about = "A socket's type, addresses, fileno and options, read from the kernel \
                  (lesson 6: the socket module).\n\nWithout a subcommand: make a TCP listener, a connected TCP pair, a UDP socket \
                  (and an IPv6 UDP socket when IPv6 is on) on loopback and show, for each, its type, \
                  domain, protocol, fileno, getsockname, getpeername and every socket option."
)]
struct Cli {
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Append one JSON line per socket event to FILE (README, "Traces"):
    /// the sample sockets' listen, connect, accept and bind.
    #[arg(long, global = true, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Set options on a fresh socket, then read each back: what the kernel keeps.
    Set {
        /// Kind of fresh socket to set the options on.
        #[arg(long, value_enum, default_value = "tcp")]
        socket: SocketChoice,
        /// OPTION=VALUE, such as SO_RCVBUF=9973, TCP_NODELAY=on, SO_LINGER=5,
        /// SO_RCVTIMEO=2.5 (`sockopt-inspect list` shows every option).
        #[arg(value_name = "OPTION=VALUE", required = true)]
        assignments: Vec<String>,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A server closes a connection first; bind its port again without and with SO_REUSEADDR.
    ReuseaddrDemo {
        /// Address of the demo server (port 0: the OS picks a free port).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = common::parse_socket_addr)]
        bind: SocketAddr,
        /// Which side closes the connection first (and so holds TIME_WAIT).
        #[arg(long, value_enum, default_value = "server")]
        closer: Closer,
        /// The first server does not set SO_REUSEADDR (the notes' server does).
        #[arg(long)]
        first_without_reuseaddr: bool,
    },
    /// Open sockets and a file, close some, open more: descriptor numbers at work.
    Fds,
    /// Every option this program knows: level, number, which sockets, what it does.
    List {
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(unix)]
use reuseaddr::Closer;
#[cfg(unix)]
use set::SocketChoice;

/// Stand-ins so the arguments still parse where the program cannot run.
#[cfg(not(unix))]
#[derive(Clone, Copy, clap::ValueEnum)]
enum SocketChoice {
    Tcp,
    Udp,
    Tcp6,
    Udp6,
}

#[cfg(not(unix))]
#[derive(Clone, Copy, clap::ValueEnum)]
enum Closer {
    Server,
    Client,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    common::run_main(|| {
        common::trace::start("sockopt-inspect", cli.trace.as_deref())?;
        run(cli)
    })
}

#[cfg(unix)]
fn run(cli: Cli) -> anyhow::Result<()> {
    use common::UsageError;
    let no_json = |what: &str| {
        if cli.json {
            Err(UsageError(format!("--json is not available for {what}")))
        } else {
            Ok(())
        }
    };
    match &cli.command {
        None => inspect::run(cli.json),
        Some(Command::Set {
            socket,
            assignments,
            json,
        }) => set::run(*socket, assignments, cli.json || *json),
        Some(Command::ReuseaddrDemo {
            bind,
            closer,
            first_without_reuseaddr,
        }) => {
            no_json("reuseaddr-demo")?;
            reuseaddr::run(*bind, *closer, !first_without_reuseaddr)
        }
        Some(Command::Fds) => {
            no_json("fds")?;
            fds::run()
        }
        Some(Command::List { json }) => inspect::list(cli.json || *json),
    }
}

#[cfg(not(unix))]
fn run(_cli: Cli) -> anyhow::Result<()> {
    anyhow::bail!(
        "sockopt-inspect reads socket options by their Unix numbers, and file descriptors, \
         which {} does not have; run it on Linux (or macOS)",
        std::env::consts::OS
    )
}
