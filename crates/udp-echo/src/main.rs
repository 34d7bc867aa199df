//! udp-echo — lessons 3, 4 and 5: the UDP server (notes section 3, "UDP
//! 数据报套接字服务器"), the UDP client (section 4, "udp 客户端"), and what
//! sets UDP apart from TCP (section 5, "tcp 和 udp 的区别").
//!
//! The server is one datagram socket: `recvfrom` a datagram, `sendto` it back
//! to whoever sent it. No listen, no accept, no connection. It logs every
//! datagram, and says so — with the datagram's real size — when one was
//! larger than its buffer and the rest was lost. The client sends each
//! message as one datagram and waits a bounded time for the reply, because
//! UDP promises no delivery.
//!
//! ```text
//! cargo run -p udp-echo -- server                                 # terminal 1
//! cargo run -p udp-echo -- client 127.0.0.1:9003 hello "two words" # terminal 2
//! cargo run -p udp-echo -- client 127.0.0.1:9003 --size 2000      # truncation
//! cargo run -p udp-echo -- client 127.0.0.1:9004 hi               # timeout: no one there
//! ```

use std::ffi::OsString;
use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

mod client;
mod datagram;
mod server;

#[derive(Parser)]
#[command(
    name = "udp-echo",
    version,
    about = "UDP echo server and client (lessons 3-5: UDP server, UDP client, TCP vs UDP)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Append one JSON line per socket event to FILE (README, "Traces";
    /// `cargo run -p wire -- FILE` draws it).
    #[arg(long, global = true, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Send every datagram back to its sender; log each one (recvfrom, sendto).
    Server(ServerArgs),
    /// Send each message (or stdin line) as one datagram and print the reply.
    Client(ClientArgs),
}

#[derive(Args)]
pub struct ServerArgs {
    /// Address to bind (port 0: the OS picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9003", value_parser = common::parse_socket_addr)]
    pub bind: SocketAddr,
    /// Bytes asked for in each recvfrom, like recvfrom(1024) in the notes. The
    /// part of a larger datagram that does not fit is lost.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=datagram::MAX_BUF_SIZE as i64))]
    pub buf_size: u32,
    /// Exit (status 0) after echoing this many datagrams [default: never].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

#[derive(Args)]
pub struct ClientArgs {
    /// The server's address, such as 127.0.0.1:9003 or [::1]:9003. Only a
    /// datagram from exactly this address counts as the reply.
    #[arg(value_name = "ADDR", value_parser = common::parse_socket_addr)]
    pub addr: SocketAddr,
    /// Messages to send: each one is one datagram. Without messages (and
    /// without --size), each line of stdin is one datagram.
    /// (On Unix an argument is bytes, not necessarily UTF-8; they are sent as they are.)
    #[arg(value_name = "MESSAGE", conflicts_with = "size", value_parser = clap::value_parser!(OsString))]
    pub messages: Vec<OsString>,
    /// How long to wait for each reply, in milliseconds, before giving up
    /// (a lost datagram is never resent: UDP has no retransmission).
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    pub timeout: u64,
    /// Bytes asked for in each recvfrom. The default fits any UDP datagram;
    /// make it smaller to see a reply truncated on the client's side.
    #[arg(long, value_name = "N", default_value_t = datagram::MAX_BUF_SIZE, value_parser = clap::value_parser!(u32).range(1..=datagram::MAX_BUF_SIZE as i64))]
    pub buf_size: u32,
    /// Send one datagram of this many bytes (filler text) instead of messages;
    /// at most 65507 over IPv4, 65527 over IPv6.
    #[arg(long, value_name = "BYTES", value_parser = common::parse_byte_count)]
    pub size: Option<u64>,
    /// connect() the UDP socket to ADDR first. No packet is sent by that: it
    /// only fixes the peer, so the kernel drops datagrams from other
    /// addresses and reports an ICMP "port unreachable" as an error.
    #[arg(long)]
    pub connect: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    common::run_main(|| {
        common::trace::start("udp-echo", cli.trace.as_deref())?;
        match cli.command {
            Command::Server(args) => server::run(&args),
            Command::Client(args) => client::run(&args),
        }
    })
}
