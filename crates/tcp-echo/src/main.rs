//! tcp-echo — lesson 1, TCP data transfer (notes section 1, "tcp 数据传输"),
//! and lesson 9, ten thousand clients (`--model threads|poll|async`).
//!
//! A server that sends back every byte it receives, and a client to talk to
//! it. The server logs every `recv` call, so you can watch what the notes
//! describe: bytes wait in the receive buffer, a small `recv` leaves the rest
//! for the next call, and `recv` returns empty when the peer disconnects.
//!
//! ```text
//! cargo run -p tcp-echo -- server                          # terminal 1
//! cargo run -p tcp-echo -- client 127.0.0.1:9001 hello     # terminal 2
//! cargo run -p tcp-echo -- server --buf-size 4             # recv 4, 4, 2 …
//! cargo run -p tcp-echo -- server --model poll             # one thread, epoll
//! ```

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod asynch;
mod client;
mod poll;
mod server;

#[derive(Parser)]
#[command(
    name = "tcp-echo",
    version,
    about = "TCP echo server and client (lesson 1: TCP data transfer)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Append one JSON line per socket event to FILE (README, "Traces";
    /// `cargo run -p wire -- FILE` draws it).
    #[arg(long, global = true, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
    /// How the server serves many clients (lesson 9): a thread per client,
    /// one thread's event loop (epoll), or async tasks (tokio). Accepted
    /// anywhere, so `tcp-echo --model poll` can stand for the program; the
    /// client ignores it.
    #[arg(long, global = true, value_enum, value_name = "MODEL", default_value_t = Model::Threads)]
    model: Model,
}

/// The three ways `server` serves its clients (lesson 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Model {
    /// A thread per client, blocking recv and send (lesson 1).
    Threads,
    /// One thread, non-blocking sockets, an edge-triggered readiness loop.
    Poll,
    /// One task per client on tokio's current-thread runtime.
    Async,
}

#[derive(Subcommand)]
enum Command {
    /// Echo every byte back to its sender; log each recv call.
    Server(ServerArgs),
    /// Send messages (or stdin) to an echo server and print what comes back.
    Client(ClientArgs),
}

#[derive(Args)]
pub struct ServerArgs {
    /// Address to listen on (port 0: the OS picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9001", value_parser = common::parse_socket_addr)]
    pub bind: SocketAddr,
    /// Bytes asked for in each recv call, like recv(1024) in the notes.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub buf_size: u32,
    /// Exit (status 0) once this many clients have disconnected [default: never].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_clients: Option<u64>,
    /// Do not log each recv call (for benchmarks); connects, closes and errors still show.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct ClientArgs {
    /// The server's address, such as 127.0.0.1:9001.
    #[arg(value_name = "ADDR", value_parser = common::parse_socket_addr)]
    pub addr: SocketAddr,
    /// Messages to send, one after another; each echo prints on its own line.
    /// Without messages, stdin is sent and the echoed bytes go to stdout.
    #[arg(value_name = "MESSAGE", conflicts_with = "bench")]
    pub messages: Vec<String>,
    /// Stream this many bytes (K, M, G suffixes allowed), check every echoed
    /// byte, and print the throughput.
    #[arg(long, value_name = "BYTES", value_parser = common::parse_byte_count)]
    pub bench: Option<u64>,
    /// With messages: how long to wait for each echo, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    common::run_main(|| {
        common::trace::start("tcp-echo", cli.trace.as_deref())?;
        match cli.command {
            Command::Server(args) => match cli.model {
                Model::Threads => server::run(&args),
                Model::Poll => poll::run(&args),
                Model::Async => asynch::run(&args),
            },
            Command::Client(args) => client::run(&args),
        }
    })
}
