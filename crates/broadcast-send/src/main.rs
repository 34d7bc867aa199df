//! broadcast-send — lesson 7, UDP broadcast (notes section 7, "udp 应用之广播").
//!
//! Sends one datagram to every host of a network at once: it sets
//! SO_BROADCAST, the permission the OS asks for before it lets a socket send
//! to a broadcast address, and sends MESSAGE `--count` times. Every
//! `broadcast-recv` listening on the port hears every copy.
//!
//! The default destination, 127.255.255.255:9004, is the broadcast address of
//! the loopback network 127.0.0.0/8: it never leaves this machine. A LAN's
//! broadcast address is one `--to` away, but only on purpose.
//!
//! ```text
//! cargo run -p broadcast-recv                            # terminal 1 (and 2, and 3…)
//! cargo run -p broadcast-send -- hello                   # terminal 4
//! cargo run -p broadcast-send -- --no-broadcast-flag hi  # the OS says no
//! sudo scripts/lan-lab.sh                                # a virtual LAN
//! ```

use std::net::SocketAddr;

use clap::Parser;

mod sender;
mod storm;

/// The loopback network's broadcast address and the course's broadcast port.
pub const DEFAULT_TO: &str = "127.255.255.255:9004";

#[derive(Parser)]
#[command(
    name = "broadcast-send",
    version,
    about = "Send a UDP broadcast: one datagram to every host of a network (lesson 7)",
    after_help = "Examples:\n  broadcast-send hello                         # 127.255.255.255:9004, stays on this machine\n  broadcast-send --count 5 --interval 200 hi   # five times, 200 ms apart\n  broadcast-send --no-broadcast-flag hi        # see the OS refuse without SO_BROADCAST\n  broadcast-send --to 192.168.1.255:9004 hi    # leaves this machine: every host of 192.168.1.0/24\n  broadcast-send --to 255.255.255.255:9004 hi  # leaves this machine: every host on the local link"
)]
pub struct Args {
    /// Where to send. The default is the loopback network's broadcast address,
    /// which never leaves this machine. A LAN's directed broadcast address
    /// (its host bits all ones, such as 192.168.1.255 for 192.168.1.0/24) or
    /// the limited broadcast 255.255.255.255 reaches every host on that LAN.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_TO, value_parser = common::parse_socket_addr)]
    pub to: SocketAddr,
    /// How many datagrams to send (0: keep sending until interrupted).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u64,
    /// Milliseconds between two datagrams. Below 10 ms needs --force: every
    /// host on the network must handle every broadcast (a broadcast storm).
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    pub interval: u64,
    /// Leave SO_BROADCAST off, to see the OS refuse to send to a broadcast
    /// address (Permission denied).
    #[arg(long)]
    pub no_broadcast_flag: bool,
    /// Allow an --interval below 10 ms.
    #[arg(long)]
    pub force: bool,
    /// The datagram's content (UTF-8 text; an empty string is an empty datagram).
    #[arg(value_name = "MESSAGE")]
    pub message: String,
    /// Append one JSON line per socket event to FILE (README, "Traces";
    /// `cargo run -p wire -- FILE` draws it).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    common::run_main(|| {
        common::trace::start("broadcast-send", args.trace.as_deref())?;
        sender::run(&args)
    })
}
