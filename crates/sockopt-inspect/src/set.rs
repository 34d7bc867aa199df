//! `set OPTION=VALUE…`: setsockopt on a fresh socket, then getsockopt to see
//! what the kernel really keeps (notes 6.5 and 6.6).
//!
//! What you set is a request, not a value stored as given. Linux doubles
//! SO_RCVBUF and SO_SNDBUF (it counts its own bookkeeping in the buffer),
//! caps them at `net.core.rmem_max`/`wmem_max`, raises tiny ones to a
//! minimum, and refuses some options outright to unprivileged programs
//! (SO_DEBUG, SO_MARK). Reading the option back is the only way to know.
//!
//! ```text
//! cargo run -p sockopt-inspect -- set SO_RCVBUF=9973
//! cargo run -p sockopt-inspect -- set --socket udp SO_BROADCAST=1 IP_TTL=3
//! ```

use std::os::fd::AsRawFd;

use anyhow::{anyhow, Context};
use clap::ValueEnum;
use serde::Serialize;
use socket2::{Domain, Protocol, Socket, Type};

use crate::options::{self, Answer, Kind, SockOpt, SocketKind, Value};
use common::UsageError;

/// Which kind of fresh socket the options are set on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SocketChoice {
    /// TCP over IPv4 (AF_INET, SOCK_STREAM)
    Tcp,
    /// UDP over IPv4 (AF_INET, SOCK_DGRAM)
    Udp,
    /// TCP over IPv6 (AF_INET6, SOCK_STREAM)
    Tcp6,
    /// UDP over IPv6 (AF_INET6, SOCK_DGRAM)
    Udp6,
}

impl SocketChoice {
    fn kind(self) -> SocketKind {
        SocketKind {
            tcp: matches!(self, SocketChoice::Tcp | SocketChoice::Tcp6),
            ipv6: matches!(self, SocketChoice::Tcp6 | SocketChoice::Udp6),
        }
    }

    fn open(self) -> std::io::Result<Socket> {
        let kind = self.kind();
        let domain = if kind.ipv6 {
            Domain::IPV6
        } else {
            Domain::IPV4
        };
        if kind.tcp {
            Socket::new(domain, Type::STREAM, Some(Protocol::TCP))
        } else {
            Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SocketChoice::Tcp => "TCP socket (AF_INET, SOCK_STREAM)",
            SocketChoice::Udp => "UDP socket (AF_INET, SOCK_DGRAM)",
            SocketChoice::Tcp6 => "TCP socket (AF_INET6, SOCK_STREAM)",
            SocketChoice::Udp6 => "UDP socket (AF_INET6, SOCK_DGRAM)",
        }
    }
}

/// One `OPTION=VALUE`, checked against the table before any socket exists.
#[derive(Debug)]
pub struct Assignment {
    pub opt: &'static SockOpt,
    pub value: Value,
}

/// Read `OPTION=VALUE`. Every mistake is a usage error (exit status 2) that
/// says what would have been right.
pub fn parse_assignment(text: &str, socket: SocketChoice) -> Result<Assignment, UsageError> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(UsageError(format!(
            "'{text}' is not OPTION=VALUE (for example SO_RCVBUF=9973)"
        )));
    };
    let name = name.trim();
    let Some(opt) = options::find(name) else {
        let known: Vec<&str> = options::OPTIONS
            .iter()
            .filter(|o| o.writable)
            .map(|o| o.name)
            .collect();
        return Err(UsageError(format!(
            "unknown option '{name}'; options that can be set: {}",
            known.join(" ")
        )));
    };
    if !opt.writable {
        return Err(UsageError(format!(
            "{} is read-only: only the kernel sets it (getsockopt shows it)",
            opt.name
        )));
    }
    if !opt.level.applies_to(socket.kind()) {
        return Err(UsageError(format!(
            "{} is an {} option for {}; this is a {} (choose another with --socket)",
            opt.name,
            opt.level.name(),
            opt.level.scope(),
            socket.describe()
        )));
    }
    let value = options::parse_value(opt.kind, value)
        .map_err(|why| UsageError(format!("{}: {why}", opt.name)))?;
    if let (Value::Int(n), Some((min, max, what))) = (&value, options::int_range(opt.name)) {
        if !(min..=max).contains(n) {
            return Err(UsageError(format!(
                "{}: {n} is out of range: {what}, from {min} to {max}",
                opt.name
            )));
        }
    }
    Ok(Assignment { opt, value })
}

/// What happened to one assignment.
#[derive(Serialize)]
struct Outcome {
    option: &'static str,
    before: Answer<Value>,
    set: Value,
    setsockopt: Answer<&'static str>,
    read_back: Answer<Value>,
}

#[derive(Serialize)]
struct Document {
    socket: &'static str,
    fd: i32,
    results: Vec<Outcome>,
}

/// `sockopt-inspect set [--socket KIND] OPTION=VALUE…`.
pub fn run(socket_choice: SocketChoice, assignments: &[String], json: bool) -> anyhow::Result<()> {
    let assignments = assignments
        .iter()
        .map(|text| parse_assignment(text, socket_choice))
        .collect::<Result<Vec<_>, _>>()?;
    let socket = socket_choice
        .open()
        .with_context(|| format!("socket ({})", socket_choice.describe()))?;
    let fd = socket.as_raw_fd();
    if !json {
        common::say!(
            "fresh {}, fd {fd}, neither bound nor connected",
            socket_choice.describe()
        );
    }
    let mut results = Vec::new();
    let mut first_failure = None;
    for Assignment { opt, value } in assignments {
        let before = Answer::from_io(options::get(fd, opt));
        let done = options::set(fd, opt, &value);
        if let Err(err) = &done {
            first_failure.get_or_insert_with(|| {
                anyhow!(
                    "setsockopt {} {} on a fresh {}: {err}",
                    opt.name,
                    shown(opt.kind, &value),
                    socket_choice.describe()
                )
            });
        }
        let read_back = Answer::from_io(options::get(fd, opt));
        if !json {
            print_outcome(opt, &value, &before, &done, &read_back);
        }
        results.push(Outcome {
            option: opt.name,
            before,
            set: value,
            setsockopt: Answer::from_io(done.map(|()| "ok")),
            read_back,
        });
    }
    if json {
        let document = Document {
            socket: match socket_choice {
                SocketChoice::Tcp => "tcp",
                SocketChoice::Udp => "udp",
                SocketChoice::Tcp6 => "tcp6",
                SocketChoice::Udp6 => "udp6",
            },
            fd,
            results,
        };
        let text = serde_json::to_string_pretty(&document).context("write JSON")?;
        common::say!("{text}");
    }
    match first_failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

fn shown(kind: Kind, value: &Value) -> String {
    options::Shown { kind, value }.to_string()
}

fn answer(kind: Kind, answer: &Answer<Value>) -> String {
    match &answer.0 {
        Ok(value) => shown(kind, value),
        Err(err) => format!("error: {err}"),
    }
}

/// `SO_RCVBUF: set 9973, read back 19946 (was 131072) — doubled by the kernel`
fn print_outcome(
    opt: &SockOpt,
    value: &Value,
    before: &Answer<Value>,
    done: &std::io::Result<()>,
    read_back: &Answer<Value>,
) {
    let set = shown(opt.kind, value);
    let after = answer(opt.kind, read_back);
    let was = answer(opt.kind, before);
    match done {
        Ok(()) => {
            let note = match (value, &read_back.0) {
                (Value::Int(asked), Ok(Value::Int(got))) if *got == asked * 2 && *asked != 0 => {
                    " — doubled by the kernel (lesson 6)"
                }
                (Value::Timeout { .. }, Ok(got)) if value != got => {
                    " — rounded up to the kernel's clock tick"
                }
                (asked, Ok(got)) if asked != got => " — the kernel adjusted it",
                _ => "",
            };
            common::say!(
                "{}: set {set}, read back {after} (was {was}){note}",
                opt.name
            );
        }
        Err(err) => common::say!(
            "{}: set {set} refused: {err}; read back {after} (was {was})",
            opt.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_option_is_a_usage_error_listing_the_known_ones() {
        let err = parse_assignment("SO_NOSUCH=1", SocketChoice::Tcp).unwrap_err();
        assert!(err.0.contains("unknown option 'SO_NOSUCH'"), "{err}");
        assert!(err.0.contains("SO_RCVBUF"), "{err}");
    }

    #[test]
    fn read_only_and_wrong_socket_are_usage_errors() {
        let err = parse_assignment("SO_TYPE=2", SocketChoice::Tcp).unwrap_err();
        assert!(err.0.contains("read-only"), "{err}");
        let err = parse_assignment("TCP_NODELAY=1", SocketChoice::Udp).unwrap_err();
        assert!(err.0.contains("TCP sockets"), "{err}");
        let err = parse_assignment("IPV6_V6ONLY=1", SocketChoice::Tcp).unwrap_err();
        assert!(err.0.contains("IPv6 sockets"), "{err}");
        let err = parse_assignment("SO_RCVBUF", SocketChoice::Tcp).unwrap_err();
        assert!(err.0.contains("OPTION=VALUE"), "{err}");
        let err = parse_assignment("SO_RCVBUF=lots", SocketChoice::Tcp).unwrap_err();
        assert!(err.0.starts_with("SO_RCVBUF: 'lots'"), "{err}");
    }

    #[test]
    fn out_of_range_integers_are_usage_errors() {
        let err = parse_assignment("SO_RCVBUF=-1", SocketChoice::Tcp).unwrap_err();
        assert!(err.0.starts_with("SO_RCVBUF: -1 is out of range"), "{err}");
        let err = parse_assignment("IP_TTL=256", SocketChoice::Udp).unwrap_err();
        assert!(err.0.contains("from -1 to 255"), "{err}");
        for ok in ["SO_RCVBUF=0", "IP_TTL=-1", "IP_TTL=255", "SO_MARK=-1"] {
            assert!(parse_assignment(ok, SocketChoice::Tcp).is_ok(), "{ok}");
        }
    }

    #[test]
    fn assignments_parse_in_any_case() {
        let a = parse_assignment("so_keepalive=on", SocketChoice::Tcp).unwrap();
        assert_eq!(a.opt.name, "SO_KEEPALIVE");
        assert_eq!(a.value, Value::Flag(true));
        let a = parse_assignment("IPV6_V6ONLY=1", SocketChoice::Udp6).unwrap();
        assert_eq!(a.value, Value::Flag(true));
    }
}
