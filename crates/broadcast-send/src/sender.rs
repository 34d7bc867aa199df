//! Sending a broadcast: SO_BROADCAST, then `sendto` the broadcast address.
//!
//! Notes 7: `s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)`. The option is a
//! safety catch, not a feature switch: the kernel knows from its routing
//! table which addresses are broadcast addresses (`ip route show table
//! local` lists them, such as `broadcast 127.255.255.255 dev lo`), and it
//! refuses to send to one — `EACCES`, "Permission denied" — unless the
//! program has said, with SO_BROADCAST, that it means to reach every host.
//! A typo in an address should not wake up a whole network.
//!
//! Nothing else about the socket is special: no `bind` (the first `sendto`
//! picks an ephemeral port), no `connect`, one datagram per `sendto`.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use common::{say, UsageError};
use socket2::{Domain, Protocol, Socket, Type};

use crate::{storm, Args};

/// The largest UDP payload over IPv4: 65,535 bytes of IP packet minus a
/// 20-byte IP header and an 8-byte UDP header.
pub const MAX_DATAGRAM: usize = 65_507;

/// Send `args.message` `args.count` times to `args.to`, `args.interval` apart.
pub fn run(args: &Args) -> anyhow::Result<()> {
    storm::check_interval(args.interval, args.count, args.force)?;
    check_destination(args.to)?;
    if args.message.len() > MAX_DATAGRAM {
        return Err(UsageError(format!(
            "MESSAGE is {} bytes; one UDP datagram over IPv4 holds at most {MAX_DATAGRAM}",
            args.message.len()
        ))
        .into());
    }
    let broadcast_flag = !args.no_broadcast_flag;
    // With --trace, every sendto is logged.
    let socket = common::trace::TracedUdp::new(open_socket(broadcast_flag)?);
    let interval = Duration::from_millis(args.interval);
    let mut next = Instant::now();
    let mut sent: u64 = 0;
    loop {
        send_one(&socket, args.message.as_bytes(), args.to, broadcast_flag)?;
        sent += 1;
        if args.count != 0 && sent >= args.count {
            return Ok(());
        }
        // A steady beat (start + k × interval), however long a send took.
        next += interval;
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

/// Broadcast is an IPv4 idea; IPv6 dropped it for multicast (lesson 7).
fn check_destination(to: SocketAddr) -> Result<(), UsageError> {
    if to.is_ipv6() {
        return Err(UsageError(format!(
            "--to {to}: IPv6 has no broadcast; it reaches groups of hosts with multicast instead \
             (lesson 7). Give an IPv4 broadcast address, such as {}",
            crate::DEFAULT_TO
        )));
    }
    Ok(())
}

/// A UDP socket, with SO_BROADCAST on unless `broadcast_flag` is false.
fn open_socket(broadcast_flag: bool) -> anyhow::Result<UdpSocket> {
    // region: so-broadcast — socket2 Socket::new(Domain::IPV4, Type::DGRAM, UDP); when broadcast_flag, set_broadcast(true) (SO_BROADCAST: the kernel refuses a broadcast address without it); return it as a UdpSocket
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .context("socket AF_INET SOCK_DGRAM")?;
    if broadcast_flag {
        socket
            .set_broadcast(true)
            .context("setsockopt SO_BROADCAST")?;
    }
    Ok(socket.into())
    // endregion: so-broadcast
}

/// One `sendto`; logs `sent N bytes to ADDR`.
fn send_one(
    socket: &common::trace::TracedUdp,
    message: &[u8],
    to: SocketAddr,
    broadcast_flag: bool,
) -> anyhow::Result<()> {
    // region: send-one — send_to(message, to); log `sent N bytes to ADDR`; a PermissionDenied (EACCES) without the flag is the error `send to ADDR: … — SO_BROADCAST is off`
    match socket.send_to(message, to) {
        Ok(n) => {
            say!("sent {n} bytes to {to}");
            Ok(())
        }
        // EACCES: the kernel's answer to a broadcast without SO_BROADCAST.
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied && !broadcast_flag => {
            Err(anyhow!("{err} — SO_BROADCAST is off")).context(format!("send to {to}"))
        }
        Err(err) => Err(err).context(format!("send to {to}")),
    }
    // endregion: send-one
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_destinations_are_refused_with_the_reason() {
        let err = check_destination("[::1]:9004".parse().unwrap())
            .unwrap_err()
            .0;
        assert!(err.contains("IPv6 has no broadcast"), "{err}");
        assert!(err.contains("multicast"), "{err}");
        assert!(check_destination("127.255.255.255:9004".parse().unwrap()).is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_so_broadcast_the_kernel_refuses_a_broadcast_address() {
        // Loopback's broadcast address: the attempt never leaves the machine.
        let to: SocketAddr = "127.255.255.255:9".parse().unwrap();
        let socket = open_socket(false).unwrap();
        let err = send_one(&common::trace::TracedUdp::new(socket), b"x", to, false).unwrap_err();
        let line = format!("{err:#}");
        assert!(line.starts_with("send to 127.255.255.255:9: "), "{line}");
        assert!(line.ends_with("— SO_BROADCAST is off"), "{line}");
    }
}
