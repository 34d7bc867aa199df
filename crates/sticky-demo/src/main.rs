//! sticky-demo — lesson 2, TCP sticky packets (notes section 2, "tcp 粘包").
//!
//! TCP carries a stream of bytes with no message boundaries. The server logs
//! every `recv` call, so you see quick messages arrive glued together ("粘包")
//! or one message arrive in pieces; with `--framing line` or `--framing length`
//! it also recovers each message exactly as it was sent.
//!
//! ```text
//! cargo run -p sticky-demo -- server --read-delay 300             # terminal 1
//! cargo run -p sticky-demo -- client 127.0.0.1:9002 a b c d e     # terminal 2: 5 sends, fewer recvs
//! cargo run -p sticky-demo -- server --framing length --buf-size 3
//! cargo run -p sticky-demo -- client 127.0.0.1:9002 --framing length hello 你好
//! cargo run --release -p sticky-demo -- server --framing length --quiet
//! cargo run --release -p sticky-demo -- client 127.0.0.1:9002 --framing length --bench 10000000
//! ```

use std::ffi::OsString;
use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};
use common::framing::Framing;

mod client;
mod server;

#[derive(Parser)]
#[command(
    name = "sticky-demo",
    version,
    about = "TCP sticky packets (粘包) and message framing (lesson 2)"
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
    /// Log every recv (and every decoded message): see where boundaries go.
    Server(ServerArgs),
    /// Send each MESSAGE in its own write, framed as --framing says.
    Client(ClientArgs),
}

/// How the client marks, and the server finds, where one message ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Raw bytes, no boundaries at all: the server logs each recv.
    None,
    /// Each message ends with \n (the notes' remedy 1: an end marker).
    Line,
    /// Each message follows its length, 4 bytes big-endian (remedy 2: a header).
    Length,
    /// Raw bytes, the client pausing --delay between sends (remedy 3: unreliable).
    Delay,
}

impl Mode {
    /// The framing that carries message boundaries, if this mode has one.
    pub fn framing(self) -> Option<Framing> {
        match self {
            Mode::Line => Some(Framing::Line),
            Mode::Length => Some(Framing::Length),
            Mode::None | Mode::Delay => None,
        }
    }
}

#[derive(Args)]
pub struct ServerArgs {
    /// Address to listen on (port 0: the OS picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9002", value_parser = common::parse_socket_addr)]
    pub bind: SocketAddr,
    /// How messages are delimited on the wire.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = Mode::None)]
    pub framing: Mode,
    /// Bytes asked for in each recv call (K, M suffixes allowed), like
    /// recv(1024) in the notes. Small values split messages across reads.
    #[arg(long, value_name = "N", default_value = "64K", value_parser = parse_buf_size)]
    pub buf_size: usize,
    /// Wait this long before each recv, so that bytes pile up in the receive
    /// buffer and quick messages merge, every time.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub read_delay: u64,
    /// Largest message accepted (line or length framing); a bigger one ends
    /// that connection.
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = parse_max_frame)]
    pub max_frame: usize,
    /// Exit (status 0) once this many clients have disconnected [default: never].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_clients: Option<u64>,
    /// Log only the summary of each connection and errors (for benchmarks).
    #[arg(long)]
    pub quiet: bool,
    /// Line or length framing: never ask recv for more than the current
    /// message still needs (the 4-byte header, then the body; lines one byte
    /// at a time) — the slow way, one or more syscalls per message.
    #[arg(long)]
    pub unbuffered: bool,
}

#[derive(Args)]
pub struct ClientArgs {
    /// The server's address, such as 127.0.0.1:9002.
    #[arg(value_name = "ADDR", value_parser = common::parse_socket_addr)]
    pub addr: SocketAddr,
    /// Messages to send, each in its own write (framed as --framing says).
    #[arg(
        value_name = "MESSAGE",
        required_unless_present = "bench",
        conflicts_with = "bench"
    )]
    pub messages: Vec<OsString>,
    /// How messages are delimited on the wire (must match the server's).
    #[arg(long, value_name = "MODE", value_enum, default_value_t = Mode::None)]
    pub framing: Mode,
    /// Pause between two sends, in milliseconds [default: 100 with
    /// --framing delay, 0 otherwise].
    #[arg(long, value_name = "MS")]
    pub delay: Option<u64>,
    /// Send this many messages of --size bytes as fast as possible (line or
    /// length framing) and print messages per second.
    #[arg(long, value_name = "N")]
    pub bench: Option<u64>,
    /// With --bench: bytes in each message (K, M suffixes allowed).
    #[arg(long, value_name = "S", default_value = "32", value_parser = common::parse_byte_count, requires = "bench")]
    pub size: u64,
    /// With --bench: one write syscall per message instead of filling a
    /// large buffer first (the slow way, for comparison).
    #[arg(long, requires = "bench")]
    pub unbuffered: bool,
    /// How long to wait for the server to close the connection once
    /// everything is sent, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// --buf-size: 1 byte to 64 MiB.
fn parse_buf_size(text: &str) -> Result<usize, String> {
    let n = common::parse_byte_count(text)?;
    if (1..=64 << 20).contains(&n) {
        Ok(n as usize)
    } else {
        Err(format!(
            "'{text}' is out of range: a recv buffer of 1 byte to 64M"
        ))
    }
}

/// --max-frame: up to what a 4-byte length header can declare.
fn parse_max_frame(text: &str) -> Result<usize, String> {
    let n = common::parse_byte_count(text)?;
    match usize::try_from(n) {
        Ok(n) if (n as u64) <= common::framing::MAX_LENGTH_FRAME => Ok(n),
        _ => Err(format!(
            "'{text}' is out of range: at most {} bytes, the largest 4-byte length",
            common::framing::MAX_LENGTH_FRAME
        )),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    common::run_main(|| {
        common::trace::start("sticky-demo", cli.trace.as_deref())?;
        match cli.command {
            Command::Server(args) => server::run(&args),
            Command::Client(args) => client::run(&args),
        }
    })
}
