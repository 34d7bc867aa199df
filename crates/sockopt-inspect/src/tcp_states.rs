//! The kernel's list of TCP sockets and their states, as `ss -tan` shows it.
//!
//! Linux publishes every TCP socket of the network namespace in
//! `/proc/net/tcp` (IPv4) and `/proc/net/tcp6` (IPv6), one line each:
//! local and remote address in hex, the state as a hex number, and for a
//! socket in TIME_WAIT the time left on its timer. Connections that a program
//! already closed are still there — that is how TIME_WAIT becomes visible
//! after the program holding the connection has let go of it.
//!
//! Parsing is pure and works anywhere; reading the files needs Linux.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One line of `/proc/net/tcp`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: &'static str,
    /// Seconds left on the socket's timer, when the timer is the TIME_WAIT
    /// one.
    pub time_wait_left: Option<f64>,
}

/// The state numbers of `include/net/tcp_states.h`.
fn state_name(code: u8) -> &'static str {
    match code {
        0x01 => "ESTABLISHED",
        0x02 => "SYN_SENT",
        0x03 => "SYN_RECV",
        0x04 => "FIN_WAIT1",
        0x05 => "FIN_WAIT2",
        0x06 => "TIME_WAIT",
        0x07 => "CLOSE",
        0x08 => "CLOSE_WAIT",
        0x09 => "LAST_ACK",
        0x0A => "LISTEN",
        0x0B => "CLOSING",
        0x0C => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    }
}

/// `0100007F:1F91` → 127.0.0.1:8081. The address is the kernel's bytes
/// printed as native-endian 32-bit words; the port is a plain number.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..ip.len()).step_by(8) {
        let word = u32::from_str_radix(ip.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Parse the text of `/proc/net/tcp` or `/proc/net/tcp6`; lines that do not
/// parse are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = parse_address(fields.get(1)?)?;
            let remote = parse_address(fields.get(2)?)?;
            let state = state_name(u8::from_str_radix(fields.get(3)?, 16).ok()?);
            // "tr:tm->when": timer 3 is TIME_WAIT's, counted in USER_HZ
            // (100) ticks.
            let (timer, when) = fields.get(5)?.split_once(':')?;
            let time_wait_left = (timer == "03")
                .then(|| u64::from_str_radix(when, 16).ok())
                .flatten()
                .map(|ticks| ticks as f64 / 100.0);
            Some(Entry {
                local,
                remote,
                state,
                time_wait_left,
            })
        })
        .collect()
}

/// Every TCP socket the kernel knows, IPv4 and IPv6.
#[cfg(target_os = "linux")]
pub fn read() -> std::io::Result<Vec<Entry>> {
    let mut entries = parse(&std::fs::read_to_string("/proc/net/tcp")?);
    // No tcp6 file when IPv6 is compiled out: nothing to add then.
    if let Ok(text) = std::fs::read_to_string("/proc/net/tcp6") {
        entries.extend(parse(&text));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listen_and_time_wait_lines() {
        // Built from this machine's own byte order, as the kernel prints it.
        let lo = format!("{:08X}", u32::from_ne_bytes([127, 0, 0, 1]));
        let text = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             0: {lo}:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123 1\n\
             1: {lo}:1F91 {lo}:D431 06 00000000:00000000 03:00001770 00000000     0        0 0 3\n"
        );
        let entries = parse(&text);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].local, "127.0.0.1:8081".parse().unwrap());
        assert_eq!(entries[0].state, "LISTEN");
        assert_eq!(entries[0].time_wait_left, None);
        assert_eq!(entries[1].remote, "127.0.0.1:54321".parse().unwrap());
        assert_eq!(entries[1].state, "TIME_WAIT");
        assert_eq!(entries[1].time_wait_left, Some(60.0));
    }

    #[test]
    fn parses_ipv6_loopback() {
        let mut words = String::new();
        let octets = Ipv6Addr::LOCALHOST.octets();
        for chunk in octets.chunks(4) {
            let word = u32::from_ne_bytes(chunk.try_into().unwrap());
            words.push_str(&format!("{word:08X}"));
        }
        assert_eq!(
            parse_address(&format!("{words}:0050")),
            Some("[::1]:80".parse().unwrap())
        );
        assert_eq!(parse_address("XYZ:0050"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_live_listener_is_listed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let entries = read().unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e.local == addr && e.state == "LISTEN"),
            "{addr} not in {entries:?}"
        );
    }
}
