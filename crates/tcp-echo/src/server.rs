//! The echo server: one thread per client, each a plain recv → send loop.
//!
//! Blocking sockets and a thread per connection (`common::server`) keep the
//! code as close to the notes' Python as Rust gets: `recv` waits until bytes
//! arrive, `send` waits until the kernel has room for them. A thread costs
//! little while it sleeps in `recv`, so ten thousand idle clients are no
//! problem.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::trace::Traced;

use common::{say, say_error};

use crate::ServerArgs;

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let listener = common::server::listen_and_announce(args.bind)?;

    let buf_size = args.buf_size as usize;
    let quiet = args.quiet;
    let options = common::server::AcceptOptions {
        max_clients: args.max_clients,
        log_connected: true,
    };
    common::server::serve_each_client(listener, options, move |stream, peer| {
        echo_client(stream, peer, buf_size, quiet)
    })
}

/// Echo one client's bytes until it disconnects.
fn echo_client(stream: TcpStream, peer: SocketAddr, buf_size: usize, quiet: bool) {
    // With --trace, every read and write below is logged as a recv or send.
    let mut stream = Traced::accepted(stream);
    // region: recv-send-loop — read up to buf_size bytes until read returns 0 (the peer closed: log `closed PEER after N bytes`); log `recv N bytes from PEER`; write_all each chunk back
    // recv(buf_size) takes at most buf_size bytes of what waits in the receive
    // buffer; whatever it leaves stays there for the next call (notes 1.2).
    let mut buf = vec![0u8; buf_size];
    let mut total: u64 = 0;
    loop {
        let n = match stream.read(&mut buf) {
            // recv returns empty only when the peer has closed its side: no
            // more bytes will ever come on this connection (notes 1.3).
            Ok(0) => {
                say!("closed {peer} after {total} bytes");
                return;
            }
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => {
                say_error!("recv {peer}: {err}");
                return;
            }
        };
        total += n as u64;
        if !quiet {
            say!("recv {n} bytes from {peer}");
        }
        // send may take fewer bytes than offered when the send buffer is
        // nearly full; write_all keeps calling it until every byte is queued
        // (Python's sendall).
        if let Err(err) = stream.write_all(&buf[..n]) {
            say_error!("send {peer}: {err}");
            return;
        }
    }
    // endregion: recv-send-loop
}
