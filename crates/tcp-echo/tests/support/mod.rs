//! What lessons 1 and 9 both do to a server: hold thousands of idle
//! connections open, then check that the old ones are still served.
//! (A folder module, so Cargo does not build it as a test of its own.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use blackbox::step;

/// Opens `clients` connections to `addr` one after another and keeps them
/// all open, within `budget` for all of them. A failure says how many were
/// open, then `why` (what makes a server accept too slowly).
pub fn open_idle(addr: SocketAddr, clients: usize, budget: Duration, why: &str) -> Vec<TcpStream> {
    step(format!(
        "open {clients} connections one after another, keeping each open (at most {budget:?} for all)"
    ));
    let started = Instant::now();
    let mut idle = Vec::with_capacity(clients);
    for i in 0..clients {
        let left = budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            panic!("opened only {i} of {clients} connections in {budget:?}.\n{why}");
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => idle.push(stream),
            Err(err) => panic!(
                "opened {i} connections that stay open; connection {} failed after {:?}: {err}.\n{why}",
                i + 1,
                started.elapsed()
            ),
        }
    }
    step(format!(
        "all {clients} connections open after {:?}",
        started.elapsed()
    ));
    idle
}

/// The idle connections numbered in `which` each send `ping` and must get
/// it back within 10 s: however many clients a server holds, every accepted
/// one is still served.
pub fn ping_idle(idle: &mut [TcpStream], which: &[usize]) {
    let open = idle.len();
    for &i in which {
        let stream = &mut idle[i];
        if let Err(err) = stream.set_read_timeout(Some(Duration::from_secs(10))) {
            panic!("idle connection {i}: could not set a 10 s read timeout: {err}");
        }
        step(format!("idle connection {i}: send `ping`"));
        if let Err(err) = stream.write_all(b"ping") {
            panic!(
                "with {open} connections open, idle connection {i} could not send `ping`: {err}"
            );
        }
        let mut echo = [0u8; 4];
        if let Err(err) = stream.read_exact(&mut echo) {
            panic!(
                "with {open} connections open, idle connection {i} sent `ping` and got no echo within 10 s ({err}).\nHint: every accepted client must be served, however many there are."
            );
        }
        assert_eq!(
            &echo, b"ping",
            "idle connection {i} sent `ping` and must get back exactly `ping`"
        );
    }
}
