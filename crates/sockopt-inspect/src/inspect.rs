//! Looking at live sockets: type, domain, protocol, fileno, getsockname,
//! getpeername and every option (notes 6.1–6.4 and 6.6).
//!
//! The program makes, on loopback, the sockets a course program has:
//!
//! * `listener` — TCP after socket, bind, listen (via `common::net::tcp_listen`,
//!   which sets SO_REUSEADDR like every server here, so it shows `on`);
//! * `client` — TCP after connect to that listener;
//! * `accepted` — the socket `accept` returned for that connection (`conn` in
//!   the notes): same local address as the listener, the client as its peer;
//! * `udp` — UDP after bind;
//! * `udp6` — UDP over IPv6 after bind to `[::1]:0`, when IPv6 is there.
//!
//! and asks the OS about each. A question the OS refuses — getpeername on
//! a socket with no peer, IP_MTU on an unconnected one — is shown with the
//! OS's own error as the answer, and everything else still prints.
//!
//! ```text
//! cargo run -p sockopt-inspect              # for people
//! cargo run -p sockopt-inspect -- --json    # one JSON document
//! ```

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use anyhow::Context;
use serde::Serialize;
use socket2::{Domain, Protocol, Socket, Type};

use crate::options::{self, Answer, Readings, Shown, SocketKind};

/// One socket to look at, with a line saying what it is.
pub struct Sample {
    pub name: &'static str,
    pub about: &'static str,
    pub socket: Socket,
}

/// Make the sockets described at the top of this file. `skipped` gets a
/// line for each one this machine cannot make (IPv6 switched off).
pub fn open_samples(skipped: &mut Vec<String>) -> anyhow::Result<Vec<Sample>> {
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let listener = common::net::tcp_listen(loopback)?;
    let server = listener
        .local_addr()
        .context("getsockname of the listener")?;
    common::trace::listening("tcp", server);
    let client = common::net::tcp_connect(server)?;
    let (accepted, _) = listener
        .accept()
        .with_context(|| format!("accept {server}"))?;
    let udp = common::net::udp_bind(loopback)?;
    // --trace: the samples' handshake, each side as the kernel reports it.
    if common::trace::enabled() {
        let ends = common::trace::Ends {
            local: client.local_addr().ok(),
            peer: Some(server),
        };
        ends.note("connect");
        let ends = common::trace::Ends {
            local: Some(server),
            peer: accepted.peer_addr().ok(),
        };
        ends.note("accept");
        if let Ok(local) = udp.local_addr() {
            common::trace::listening("udp", local);
        }
    }
    let mut samples = vec![
        Sample {
            name: "listener",
            about: "TCP after socket, bind, listen (SO_REUSEADDR set, as every server here does)",
            socket: listener.into(),
        },
        Sample {
            name: "client",
            about: "TCP after connect to the listener",
            socket: client.into(),
        },
        Sample {
            name: "accepted",
            about: "TCP returned by the listener's accept: conn in the notes",
            socket: accepted.into(),
        },
        Sample {
            name: "udp",
            about: "UDP after bind",
            socket: udp.into(),
        },
    ];
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
    match UdpSocket::bind(v6) {
        Ok(udp6) => samples.push(Sample {
            name: "udp6",
            about: "UDP over IPv6 after bind",
            socket: udp6.into(),
        }),
        Err(err) => skipped.push(format!(
            "udp6: not shown, IPv6 is off here: bind {v6}: {err}"
        )),
    }
    Ok(samples)
}

/// Everything the OS tells about one socket; serialised as the JSON the
/// issue specifies.
#[derive(Serialize)]
pub struct Report {
    pub name: &'static str,
    #[serde(skip)]
    pub about: &'static str,
    pub fd: i32,
    #[serde(rename = "type")]
    pub ty: String,
    pub domain: String,
    pub protocol: String,
    pub local: Answer<String>,
    pub peer: Answer<String>,
    pub options: Readings,
}

/// `{"sockets":[…]}`.
#[derive(Serialize)]
pub struct Document {
    pub sockets: Vec<Report>,
}

/// Ask the OS everything about one socket.
pub fn describe(sample: &Sample) -> Report {
    let socket = &sample.socket;
    let ty = socket.r#type().ok();
    let local = socket.local_addr();
    let domain = local.as_ref().ok().map(|addr| addr.domain());
    let kind = SocketKind {
        tcp: ty == Some(Type::STREAM),
        ipv6: domain == Some(Domain::IPV6),
    };
    Report {
        name: sample.name,
        about: sample.about,
        // fileno(): the small integer the process knows this socket by.
        fd: socket.as_raw_fd(),
        ty: ty.map_or_else(|| "unknown".into(), |t| options::type_name(t.into())),
        domain: domain.map_or_else(|| "unknown".into(), domain_name),
        protocol: protocol_name(socket, ty),
        local: address(local),
        peer: address(socket.peer_addr()),
        options: options::read_all(socket.as_raw_fd(), kind),
    }
}

fn address(result: std::io::Result<socket2::SockAddr>) -> Answer<String> {
    Answer::from_io(result.map(|addr| match addr.as_socket() {
        Some(addr) => addr.to_string(),
        None => format!("{addr:?}"),
    }))
}

fn domain_name(domain: Domain) -> String {
    match domain {
        Domain::IPV4 => "AF_INET".into(),
        Domain::IPV6 => "AF_INET6".into(),
        Domain::UNIX => "AF_UNIX".into(),
        other => format!("domain {}", i32::from(other)),
    }
}

/// The protocol, from SO_PROTOCOL where the OS has it (Linux), else from the
/// type: on an IP socket SOCK_STREAM means TCP and SOCK_DGRAM means UDP.
fn protocol_name(socket: &Socket, ty: Option<Type>) -> String {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let asked = socket.protocol().ok().flatten();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let asked: Option<Protocol> = {
        let _ = socket;
        None
    };
    let protocol = asked.or(match ty {
        Some(Type::STREAM) => Some(Protocol::TCP),
        Some(Type::DGRAM) => Some(Protocol::UDP),
        _ => None,
    });
    match protocol {
        Some(Protocol::TCP) => "IPPROTO_TCP".into(),
        Some(Protocol::UDP) => "IPPROTO_UDP".into(),
        Some(other) => format!("protocol {}", i32::from(other)),
        None => "unknown".into(),
    }
}

/// `sockopt-inspect [--json]`.
pub fn run(json: bool) -> anyhow::Result<()> {
    let mut skipped = Vec::new();
    let samples = open_samples(&mut skipped)?;
    let reports: Vec<Report> = samples.iter().map(describe).collect();
    if json {
        let document = Document { sockets: reports };
        let text = serde_json::to_string_pretty(&document).context("write JSON")?;
        common::say!("{text}");
        return Ok(());
    }
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            common::say!("");
        }
        print_report(report);
    }
    for line in skipped {
        common::say!("");
        common::say!("{line}");
    }
    Ok(())
}

fn answer_text(answer: &Answer<String>) -> String {
    match &answer.0 {
        Ok(text) => text.clone(),
        Err(err) => format!("error: {err}"),
    }
}

/// The human form: a header, the notes' calls with their answers, then one
/// line per option, in table order.
fn print_report(report: &Report) {
    common::say!("{} — {}", report.name, report.about);
    common::say!("  {:<22} {}", "fileno()", report.fd);
    common::say!("  {:<22} {}", "type", report.ty);
    common::say!("  {:<22} {}", "domain", report.domain);
    common::say!("  {:<22} {}", "protocol", report.protocol);
    common::say!("  {:<22} {}", "getsockname()", answer_text(&report.local));
    common::say!("  {:<22} {}", "getpeername()", answer_text(&report.peer));
    let mut level = None;
    for (opt, answer) in &report.options.0 {
        if level != Some(opt.level) {
            level = Some(opt.level);
            common::say!("  {}:", opt.level.name());
        }
        match &answer.0 {
            Ok(value) => common::say!(
                "    {:<20} {}",
                opt.name,
                Shown {
                    kind: opt.kind,
                    value
                }
            ),
            Err(err) => common::say!("    {:<20} error: {err}", opt.name),
        }
    }
}

/// `sockopt-inspect list`: the table itself.
pub fn list(json: bool) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Row {
        name: &'static str,
        level: &'static str,
        option: i32,
        applies_to: &'static str,
        writable: bool,
        socket2: &'static str,
        about: &'static str,
    }
    let rows: Vec<Row> = options::OPTIONS
        .iter()
        .map(|o| Row {
            name: o.name,
            level: o.level.name(),
            option: o.option,
            applies_to: o.level.scope(),
            writable: o.writable,
            socket2: o.socket2,
            about: o.about,
        })
        .collect();
    if json {
        let text = serde_json::to_string_pretty(&rows).context("write JSON")?;
        common::say!("{text}");
        return Ok(());
    }
    for row in rows {
        common::say!(
            "{:<20} {:<12} {:>3}  {}{}",
            row.name,
            row.level,
            row.option,
            row.applies_to,
            if row.writable { "" } else { ", read-only" }
        );
        common::say!("    {}", row.about);
        if row.socket2.is_empty() {
            common::say!(
                "    socket2: no accessor; libc::getsockopt({}, {})",
                row.level,
                row.name
            );
        } else {
            common::say!("    socket2: {}", row.socket2);
        }
    }
    Ok(())
}
