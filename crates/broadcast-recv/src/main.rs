//! broadcast-recv — lesson 7, UDP broadcast (notes section 7, "udp 应用之广播").
//!
//! The receiving end of "one sends, many receive" (一端发送，多端接收). It
//! binds 0.0.0.0:9004 — every address of this host, so datagrams sent to a
//! broadcast address reach it too — with SO_REUSEADDR, so that several
//! receivers on one host share the port and each gets every broadcast. It
//! prints `listening on ADDR`, then `from PEER: TEXT` for each datagram.
//!
//! ```text
//! cargo run -p broadcast-recv                            # terminal 1
//! cargo run -p broadcast-recv                            # terminal 2: same port, no error
//! cargo run -p broadcast-recv -- --bind 127.0.0.1:9004   # terminal 3: hears no broadcast
//! cargo run -p broadcast-send -- hello                   # terminal 4
//! ```

use std::net::SocketAddr;

use clap::Parser;

mod receiver;

#[derive(Parser)]
#[command(
    name = "broadcast-recv",
    version,
    about = "Receive UDP broadcasts; several receivers can share one port (lesson 7)"
)]
pub struct Args {
    /// Address to bind. 0.0.0.0 (every local address) receives broadcasts;
    /// 127.0.0.1 receives only datagrams sent to 127.0.0.1 itself. The
    /// receiver never replies: on 0.0.0.0 it only logs what others send.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9004", value_parser = common::parse_socket_addr)]
    pub bind: SocketAddr,
    /// Exit (status 0) after this many datagrams [default: never].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Exit (status 1, `error: timeout …`) when no datagram arrives for this
    /// many milliseconds — from the start, or since the last one [default: wait forever].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Append one JSON line per socket event to FILE (README, "Traces";
    /// `cargo run -p wire -- FILE` draws it).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    common::run_main(|| {
        common::trace::start("broadcast-recv", args.trace.as_deref())?;
        receiver::run(&args)
    })
}
