//! The UDP echo server: the notes' four steps (section 3), and nothing more:
//! create a datagram socket; bind a local IP and port; `recvfrom` and `sendto`
//! in a loop; close the socket.
//!
//! There is no `listen` and no `accept`: no client ever "connects". Every
//! datagram arrives on the same socket with its sender's address attached,
//! and the reply is addressed back to that address explicitly. One socket,
//! one loop, one thread — however many clients there are, their datagrams
//! simply interleave in one queue.
//!
//! ```text
//! cargo run -p udp-echo -- server --bind 127.0.0.1:9003 --buf-size 1024
//! cargo run -p udp-echo -- client 127.0.0.1:9003 hello
//! ```

use std::io::ErrorKind;

use anyhow::Context;
use common::{say, say_error};

use crate::datagram::RecvBuf;
use crate::ServerArgs;

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    // Steps 1 and 2: socket(AF_INET, SOCK_DGRAM) and bind. From here on the
    // kernel queues every datagram addressed to this port.
    // With --trace, its bind, every recvfrom and sendto are logged.
    let socket = common::trace::TracedUdp::bound(common::net::udp_bind(args.bind)?);
    let local = socket
        .local_addr()
        .with_context(|| format!("getsockname {}", args.bind))?;
    common::announce_listening(local);

    // region: recvfrom-sendto — loop: buf.recv_from(&socket) gives one datagram and its sender; log `recv N bytes from PEER` (plus datagram.fit.note()), send_to the same bytes back to that sender; stop after --count
    let mut buf = RecvBuf::new(args.buf_size as usize);
    let mut echoed: u64 = 0;
    // Step 3. Step 4, closing, happens when `socket` is dropped on return.
    loop {
        if args.count.is_some_and(|count| echoed >= count) {
            return Ok(());
        }
        let datagram = match buf.recv_from(&socket) {
            Ok(datagram) => datagram,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => {
                // Windows reports an earlier reply's ICMP "port unreachable"
                // on the next recvfrom (WSAECONNRESET). It concerns one client
                // that went away; the server goes on.
                say_error!("recvfrom {local}: {err}");
                continue;
            }
        };
        let peer = datagram.peer;
        say!(
            "recv {} bytes from {peer}{}",
            datagram.data.len(),
            datagram.fit.note()
        );
        // The reply is one datagram, sent to the address that came with the
        // request. sendto either queues all of it or fails: a datagram is
        // never half-sent, so there is no sendall for UDP.
        if let Err(err) = socket.send_to(datagram.data, peer) {
            say_error!("sendto {peer}: {err}");
        }
        echoed += 1;
    }
    // endregion: recvfrom-sendto
}
