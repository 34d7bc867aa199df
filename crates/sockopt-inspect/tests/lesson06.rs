//! Lesson 6 — the socket module: black-box tests of `sockopt-inspect`.
//!
//! The values a kernel gives depend on its version and settings (buffer
//! sizes, TTL, keepalive times), so no number here is written down: every
//! expected value comes from a getsockopt this test makes itself, on a
//! socket of the same kind made the same way, on the same machine. Set
//! `IMPL_SOCKOPT_INSPECT` to grade another implementation.
//!
//! The option numbers are Linux's, so the file runs on Linux only.
#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use blackbox::{program, Outcome, Program};
use serde_json::{json, Value as Json};

fn sockopt_inspect() -> Program {
    program!("sockopt-inspect")
}

// ---------------------------------------------------------------------------
// The test's own getsockopt.

#[derive(Clone, Copy, Debug)]
enum Kind {
    Flag,
    Int,
    Linger,
    Timeout,
}

/// The options the lesson promises, with Linux's numbers.
struct Required {
    name: &'static str,
    level: libc::c_int,
    option: libc::c_int,
    kind: Kind,
}

const fn req(name: &'static str, level: libc::c_int, option: libc::c_int, kind: Kind) -> Required {
    Required {
        name,
        level,
        option,
        kind,
    }
}

const SOCKET_OPTIONS: &[Required] = &[
    req(
        "SO_ACCEPTCONN",
        libc::SOL_SOCKET,
        libc::SO_ACCEPTCONN,
        Kind::Flag,
    ),
    req(
        "SO_BROADCAST",
        libc::SOL_SOCKET,
        libc::SO_BROADCAST,
        Kind::Flag,
    ),
    req("SO_DEBUG", libc::SOL_SOCKET, libc::SO_DEBUG, Kind::Flag),
    req(
        "SO_DONTROUTE",
        libc::SOL_SOCKET,
        libc::SO_DONTROUTE,
        Kind::Flag,
    ),
    req("SO_ERROR", libc::SOL_SOCKET, libc::SO_ERROR, Kind::Int),
    req(
        "SO_KEEPALIVE",
        libc::SOL_SOCKET,
        libc::SO_KEEPALIVE,
        Kind::Flag,
    ),
    req("SO_LINGER", libc::SOL_SOCKET, libc::SO_LINGER, Kind::Linger),
    req(
        "SO_OOBINLINE",
        libc::SOL_SOCKET,
        libc::SO_OOBINLINE,
        Kind::Flag,
    ),
    req("SO_RCVBUF", libc::SOL_SOCKET, libc::SO_RCVBUF, Kind::Int),
    req("SO_SNDBUF", libc::SOL_SOCKET, libc::SO_SNDBUF, Kind::Int),
    req(
        "SO_RCVLOWAT",
        libc::SOL_SOCKET,
        libc::SO_RCVLOWAT,
        Kind::Int,
    ),
    req(
        "SO_SNDLOWAT",
        libc::SOL_SOCKET,
        libc::SO_SNDLOWAT,
        Kind::Int,
    ),
    req(
        "SO_RCVTIMEO",
        libc::SOL_SOCKET,
        libc::SO_RCVTIMEO,
        Kind::Timeout,
    ),
    req(
        "SO_SNDTIMEO",
        libc::SOL_SOCKET,
        libc::SO_SNDTIMEO,
        Kind::Timeout,
    ),
    req(
        "SO_REUSEADDR",
        libc::SOL_SOCKET,
        libc::SO_REUSEADDR,
        Kind::Flag,
    ),
    req(
        "SO_REUSEPORT",
        libc::SOL_SOCKET,
        libc::SO_REUSEPORT,
        Kind::Flag,
    ),
    req("SO_TYPE", libc::SOL_SOCKET, libc::SO_TYPE, Kind::Int),
];

const IPV4_OPTIONS: &[Required] = &[
    req("IP_TOS", libc::IPPROTO_IP, libc::IP_TOS, Kind::Int),
    req("IP_TTL", libc::IPPROTO_IP, libc::IP_TTL, Kind::Int),
];

const IPV6_OPTIONS: &[Required] = &[
    req(
        "IPV6_V6ONLY",
        libc::IPPROTO_IPV6,
        libc::IPV6_V6ONLY,
        Kind::Flag,
    ),
    req(
        "IPV6_UNICAST_HOPS",
        libc::IPPROTO_IPV6,
        libc::IPV6_UNICAST_HOPS,
        Kind::Int,
    ),
];

const TCP_OPTIONS: &[Required] = &[
    req(
        "TCP_NODELAY",
        libc::IPPROTO_TCP,
        libc::TCP_NODELAY,
        Kind::Flag,
    ),
    req("TCP_MAXSEG", libc::IPPROTO_TCP, libc::TCP_MAXSEG, Kind::Int),
    req(
        "TCP_KEEPIDLE",
        libc::IPPROTO_TCP,
        libc::TCP_KEEPIDLE,
        Kind::Int,
    ),
];

/// The value of one option on `fd`, in the JSON shape the lesson gives:
/// `true`, `131072`, `{"on":false,"seconds":0}`, `{"sec":0,"usec":0}`.
fn getsockopt_json(fd: RawFd, opt: &Required) -> Json {
    let mut buf = [0u8; 64];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `buf`.
    let rc =
        unsafe { libc::getsockopt(fd, opt.level, opt.option, buf.as_mut_ptr().cast(), &mut len) };
    if rc != 0 {
        return json!({ "error": std::io::Error::last_os_error().to_string() });
    }
    let int = |at: usize| i32::from_ne_bytes(buf[at..at + 4].try_into().unwrap());
    match opt.kind {
        Kind::Flag => json!(int(0) != 0),
        Kind::Int => json!(int(0)),
        Kind::Linger => json!({ "on": int(0) != 0, "seconds": int(4) }),
        Kind::Timeout => {
            let sec = i64::from_ne_bytes(buf[0..8].try_into().unwrap());
            let usec = i64::from_ne_bytes(buf[8..16].try_into().unwrap());
            json!({ "sec": sec, "usec": usec })
        }
    }
}

/// The OS's words for an errno, without any "(os error N)" or "[Errno N]".
fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

// ---------------------------------------------------------------------------
// The program's JSON.

/// Run `sockopt-inspect --json` and return its sockets.
fn inspect_json() -> (Vec<Json>, Outcome) {
    let out = sockopt_inspect().run(["--json"], b"");
    assert_eq!(
        out.code(),
        Some(0),
        "ran `--json`; expected exit status 0\n{}",
        out.describe()
    );
    let document: Json = match serde_json::from_slice(&out.stdout) {
        Ok(document) => document,
        Err(err) => panic!(
            "ran `--json`; expected stdout to be one JSON document, it does not parse: {err}\n{}",
            out.describe()
        ),
    };
    let Some(sockets) = document.get("sockets").and_then(Json::as_array).cloned() else {
        panic!(
            "ran `--json`; expected {{\"sockets\": [...]}}\n{}",
            out.describe()
        );
    };
    (sockets, out)
}

fn field<'a>(socket: &'a Json, key: &str) -> &'a Json {
    socket.get(key).unwrap_or(&Json::Null)
}

fn text(socket: &Json, key: &str) -> String {
    field(socket, key).as_str().unwrap_or("").to_string()
}

fn option<'a>(socket: &'a Json, name: &str) -> Option<&'a Json> {
    socket.get("options").and_then(|o| o.get(name))
}

fn is_tcp(socket: &Json) -> bool {
    text(socket, "type") == "SOCK_STREAM"
}

fn is_listening(socket: &Json) -> bool {
    option(socket, "SO_ACCEPTCONN") == Some(&Json::Bool(true))
}

fn address(socket: &Json, key: &str) -> Option<SocketAddr> {
    field(socket, key).as_str().and_then(|a| a.parse().ok())
}

fn name(socket: &Json) -> String {
    format!(
        "socket {:?} (fd {})",
        text(socket, "name"),
        field(socket, "fd")
    )
}

/// The sockets the lesson names, found by what they are, not by name.
struct Found {
    listener: Json,
    client: Json,
    accepted: Json,
    udp: Json,
}

fn find_sockets(sockets: &[Json], out: &Outcome) -> Found {
    let listeners: Vec<&Json> = sockets
        .iter()
        .filter(|s| is_tcp(s) && is_listening(s) && text(s, "domain") == "AF_INET")
        .collect();
    let Some(listener) = listeners.first() else {
        panic!(
            "expected an AF_INET SOCK_STREAM socket with SO_ACCEPTCONN true (the listener)\n{}",
            out.describe()
        );
    };
    let listen_addr = address(listener, "local");
    let accepted = sockets
        .iter()
        .find(|s| is_tcp(s) && !is_listening(s) && address(s, "local") == listen_addr);
    let Some(accepted) = accepted else {
        panic!(
            "expected the socket accept() returned: TCP, not listening, with the listener's \
             own address {listen_addr:?} as its local address (getsockname)\n{}",
            out.describe()
        );
    };
    let client = sockets
        .iter()
        .find(|s| is_tcp(s) && !is_listening(s) && address(s, "peer") == listen_addr);
    let Some(client) = client else {
        panic!(
            "expected the client end: TCP, connected to the listener, so its peer \
             (getpeername) is {listen_addr:?}\n{}",
            out.describe()
        );
    };
    let udp = sockets
        .iter()
        .find(|s| text(s, "type") == "SOCK_DGRAM" && text(s, "domain") == "AF_INET");
    let Some(udp) = udp else {
        panic!(
            "expected an AF_INET SOCK_DGRAM socket (UDP)\n{}",
            out.describe()
        );
    };
    Found {
        listener: (*listener).clone(),
        client: client.clone(),
        accepted: accepted.clone(),
        udp: udp.clone(),
    }
}

/// Does this machine have IPv6 on loopback?
fn ipv6_works() -> bool {
    UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

fn options_for(socket: &Json) -> Vec<&'static Required> {
    let mut list: Vec<&Required> = SOCKET_OPTIONS.iter().collect();
    if text(socket, "domain") == "AF_INET6" {
        list.extend(IPV6_OPTIONS);
    } else {
        list.extend(IPV4_OPTIONS);
    }
    if is_tcp(socket) {
        list.extend(TCP_OPTIONS);
    }
    list
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn help_lists_the_subcommands_and_json() {
    sockopt_inspect()
        .assert(["--help"])
        .success()
        .stdout(blackbox::mentions_all(&[
            "--json",
            "set",
            "reuseaddr-demo",
            "fds",
        ]));
}

#[test]
fn json_lists_every_option_on_the_right_kinds_of_socket() {
    let (sockets, out) = inspect_json();
    let found = find_sockets(&sockets, &out);
    for socket in [&found.listener, &found.client, &found.accepted, &found.udp] {
        for opt in options_for(socket) {
            assert!(
                option(socket, opt.name).is_some(),
                "{} should list {} among its options\n{}",
                name(socket),
                opt.name,
                out.describe()
            );
        }
    }
    for opt in TCP_OPTIONS {
        assert!(
            option(&found.udp, opt.name).is_none(),
            "{} is an IPPROTO_TCP option: it belongs on TCP sockets, not on the UDP {}\n{}",
            opt.name,
            name(&found.udp),
            out.describe()
        );
    }
    for opt in IPV6_OPTIONS {
        assert!(
            option(&found.udp, opt.name).is_none(),
            "{} is an IPPROTO_IPV6 option: it belongs on IPv6 sockets, not on the IPv4 {}\n{}",
            opt.name,
            name(&found.udp),
            out.describe()
        );
    }
    if ipv6_works() {
        let v6 = sockets.iter().find(|s| text(s, "domain") == "AF_INET6");
        let Some(v6) = v6 else {
            panic!(
                "this machine has IPv6 on loopback, so expected an AF_INET6 socket showing \
                 IPV6_V6ONLY and IPV6_UNICAST_HOPS\n{}",
                out.describe()
            );
        };
        for opt in options_for(v6) {
            assert!(
                option(v6, opt.name).is_some(),
                "{} should list {}\n{}",
                name(v6),
                opt.name,
                out.describe()
            );
        }
    }
}

#[test]
fn option_values_match_the_tests_own_getsockopt() {
    let (sockets, out) = inspect_json();
    let found = find_sockets(&sockets, &out);

    // The same kinds of socket, made here the same way.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a test listener");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (accepted, _) = listener.accept().expect("accept");
    let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a test UDP socket");

    let mut pairs: Vec<(&Json, RawFd, &str)> = vec![
        (&found.listener, listener.as_raw_fd(), "listener"),
        (&found.client, client.as_raw_fd(), "client"),
        (&found.accepted, accepted.as_raw_fd(), "accepted"),
        (&found.udp, udp.as_raw_fd(), "udp"),
    ];
    // An IPv6 UDP socket bound to the same address as the program's.
    let v6_udp = sockets
        .iter()
        .find(|s| text(s, "domain") == "AF_INET6" && text(s, "type") == "SOCK_DGRAM");
    let mine6 = v6_udp
        .and_then(|s| address(s, "local"))
        .map(|a| UdpSocket::bind(SocketAddr::new(a.ip(), 0)).expect("bind a test IPv6 UDP socket"));
    if let (Some(theirs), Some(mine)) = (v6_udp, &mine6) {
        pairs.push((theirs, mine.as_raw_fd(), "udp6"));
    }

    let mut compared = 0;
    for (theirs, fd, what) in pairs {
        for opt in options_for(theirs) {
            // A server may set SO_REUSEADDR on its listener (the course's
            // servers do), and accept() hands it on to the new socket.
            if opt.name == "SO_REUSEADDR" && (what == "listener" || what == "accepted") {
                continue;
            }
            let expected = getsockopt_json(fd, opt);
            let got = option(theirs, opt.name).cloned().unwrap_or(Json::Null);
            assert_eq!(
                got,
                expected,
                "{}: {} — the program shows {got}, but getsockopt on this test's own {what} \
                 socket (made the same way on the same machine) answers {expected}\n{}",
                name(theirs),
                opt.name,
                out.describe()
            );
            compared += 1;
        }
    }
    assert!(compared > 60, "compared only {compared} values");
}

#[test]
fn listener_has_no_peer_so_getpeername_is_an_error_value() {
    let (sockets, out) = inspect_json();
    let found = find_sockets(&sockets, &out);
    let peer = field(&found.listener, "peer");
    let error = peer.get("error").and_then(Json::as_str).unwrap_or("");
    let not_connected = strerror(libc::ENOTCONN);
    assert!(
        error.to_lowercase().contains(&not_connected.to_lowercase()),
        "a listening socket has no peer: getpeername fails with ENOTCONN ({not_connected:?}); \
         expected \"peer\": {{\"error\": \"…{not_connected}…\"}}, got {peer}\n{}",
        out.describe()
    );
    let udp_peer = field(&found.udp, "peer");
    assert!(
        udp_peer.get("error").is_some(),
        "an unconnected UDP socket has no peer either; expected {{\"error\": …}}, got {udp_peer}"
    );
}

#[test]
fn accepted_socket_shares_the_listeners_address_and_mirrors_the_client() {
    let (sockets, out) = inspect_json();
    let found = find_sockets(&sockets, &out);
    let listen = address(&found.listener, "local");
    assert!(
        listen.is_some_and(|a| a.ip().is_loopback() && a.port() != 0),
        "the listener's local address (getsockname) should be a loopback address with the \
         port the OS chose; got {}\n{}",
        field(&found.listener, "local"),
        out.describe()
    );
    assert_eq!(
        address(&found.accepted, "peer"),
        address(&found.client, "local"),
        "getpeername on the accepted socket should be the client's getsockname\n{}",
        out.describe()
    );
    assert_eq!(
        address(&found.client, "peer"),
        listen,
        "getpeername on the client should be the listener's address\n{}",
        out.describe()
    );
}

#[test]
fn every_socket_has_its_own_small_fileno() {
    let (sockets, out) = inspect_json();
    let mut seen = HashSet::new();
    for socket in &sockets {
        let fd = field(socket, "fd").as_i64();
        let Some(fd) = fd else {
            panic!(
                "{}: \"fd\" should be a number (fileno)\n{}",
                name(socket),
                out.describe()
            );
        };
        assert!(
            (3..1024).contains(&fd),
            "{}: fd {fd}; 0, 1, 2 are stdin, stdout, stderr and a process's descriptors are \
             small numbers\n{}",
            name(socket),
            out.describe()
        );
        assert!(
            seen.insert(fd),
            "fd {fd} appears twice: two sockets open at the same time never share a \
             descriptor number\n{}",
            out.describe()
        );
    }
    assert!(sockets.len() >= 4, "{}", out.describe());
}

#[test]
fn human_output_shows_every_option_and_the_peer_error_in_place() {
    let out = sockopt_inspect().run::<[&str; 0], _>([], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let stdout = out.stdout_text();
    for opt in SOCKET_OPTIONS.iter().chain(IPV4_OPTIONS).chain(TCP_OPTIONS) {
        assert!(
            stdout.contains(opt.name),
            "the text output should show {}\n{}",
            opt.name,
            out.describe()
        );
    }
    for word in ["SOCK_STREAM", "SOCK_DGRAM", "AF_INET"] {
        assert!(
            stdout.contains(word),
            "expected {word} in the text output\n{}",
            out.describe()
        );
    }
    let not_connected = strerror(libc::ENOTCONN);
    assert!(
        stdout.contains(&not_connected),
        "getpeername on the listener fails; the text output should show the OS's reason \
         ({not_connected:?}) in place of the address\n{}",
        out.describe()
    );
}

/// The line of `set` output about `option`.
fn set_line(out: &Outcome, option: &str) -> String {
    let stdout = out.stdout_text();
    match stdout.lines().find(|l| l.contains(option)) {
        Some(line) => line.to_string(),
        None => panic!("expected a line about {option}\n{}", out.describe()),
    }
}

fn words(line: &str) -> Vec<String> {
    line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn set_reads_back_what_the_os_reports() {
    // What this kernel keeps for those requests, on a fresh TCP socket.
    let fresh = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .expect("socket");
    fresh.set_recv_buffer_size(9973).expect("SO_RCVBUF");
    let rcvbuf = fresh.recv_buffer_size().expect("SO_RCVBUF");
    fresh.set_send_buffer_size(1).expect("SO_SNDBUF");
    let sndbuf = fresh.send_buffer_size().expect("SO_SNDBUF");
    fresh.set_ttl_v4(7).expect("IP_TTL");
    let ttl = fresh.ttl_v4().expect("IP_TTL");

    let out = sockopt_inspect().run(["set", "SO_RCVBUF=9973", "SO_SNDBUF=1", "IP_TTL=7"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    for (option, asked, kept) in [
        ("SO_RCVBUF", "9973", rcvbuf.to_string()),
        ("SO_SNDBUF", "1", sndbuf.to_string()),
        ("IP_TTL", "7", ttl.to_string()),
    ] {
        let line = set_line(&out, option);
        let found = words(&line);
        assert!(
            found.contains(&asked.to_string()) && found.contains(&kept),
            "ran `set {option}={asked}`; expected its line to show the value set ({asked}) and \
             the value getsockopt reads back, which on this kernel is {kept} (Linux doubles \
             buffer sizes and has a minimum); got {line:?}\n{}",
            out.describe()
        );
    }
}

#[test]
fn set_timeout_reads_back_seconds_and_microseconds() {
    // SO_RCVTIMEO and SO_SNDTIMEO are a struct timeval: two longs, seconds
    // and microseconds. Read back as two ints, or as seconds alone, the
    // half second is lost. What this kernel keeps (it rounds to its tick):
    let fresh = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .expect("socket");
    let mut kept = Vec::new();
    for asked in [Duration::from_millis(1500), Duration::from_millis(2250)] {
        fresh.set_read_timeout(Some(asked)).expect("SO_RCVTIMEO");
        let back = fresh
            .read_timeout()
            .expect("SO_RCVTIMEO")
            .unwrap_or_default();
        kept.push((back.as_secs(), back.subsec_micros()));
    }

    let out = sockopt_inspect().run(["set", "SO_RCVTIMEO=1.5", "SO_SNDTIMEO=2.25"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    for ((option, asked), (secs, usecs)) in [("SO_RCVTIMEO", "1.5"), ("SO_SNDTIMEO", "2.25")]
        .into_iter()
        .zip(kept)
    {
        let line = set_line(&out, option);
        let wanted = format!("read back {secs} s {usecs} us");
        assert!(
            line.contains(&wanted),
            "ran `set {option}={asked}`; getsockopt gives a struct timeval (seconds and \
             microseconds), which this kernel reads back as {secs} s {usecs} us: expected its \
             line to say `{wanted}`; got {line:?}\n{}",
            out.describe()
        );
    }
}

#[test]
fn set_flag_reads_back_on() {
    let out = sockopt_inspect().run(["set", "SO_KEEPALIVE=1", "TCP_NODELAY=1"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    for option in ["SO_KEEPALIVE", "TCP_NODELAY"] {
        let line = set_line(&out, option);
        let after = line.split(option).nth(1).unwrap_or("");
        assert!(
            words(after).iter().any(|w| w == "on"),
            "ran `set {option}=1`; flags print as on/off, so expected `on` read back; got {line:?}"
        );
    }
}

#[test]
fn set_refused_by_the_os_shows_its_error_and_the_rest_still_run() {
    // Linux has SO_SNDLOWAT but will not change it: setsockopt fails with
    // ENOPROTOOPT. Ask the kernel here first, so the test states the truth.
    let probe =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let five: libc::c_int = 5;
    // SAFETY: passes a pointer to an int and its size.
    let rc = unsafe {
        libc::setsockopt(
            probe.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDLOWAT,
            (&five as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        eprintln!("this kernel accepts SO_SNDLOWAT; nothing to refuse here");
        return;
    }
    let reason = strerror(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    probe.set_recv_buffer_size(9973).expect("SO_RCVBUF");
    let kept = probe.recv_buffer_size().expect("SO_RCVBUF").to_string();

    let out = sockopt_inspect().run(["set", "SO_SNDLOWAT=5", "SO_RCVBUF=9973"], b"");
    let line = out.assert_error(1);
    assert!(
        line.contains("SO_SNDLOWAT") && line.contains(&reason),
        "ran `set SO_SNDLOWAT=5 SO_RCVBUF=9973`; the kernel refuses SO_SNDLOWAT ({reason:?}), \
         so expected exit status 1 and an error line naming it with that reason; got {line:?}"
    );
    let rcvbuf = set_line(&out, "SO_RCVBUF");
    assert!(
        words(&rcvbuf).contains(&kept),
        "one refused option must not stop the others: expected SO_RCVBUF to be set and read \
         back as {kept}; got {rcvbuf:?}\n{}",
        out.describe()
    );
}

#[test]
fn set_unknown_option_is_a_usage_error() {
    let out = sockopt_inspect().run(["set", "SO_NO_SUCH_OPTION=1"], b"");
    let line = out.assert_error(2);
    assert!(
        line.contains("SO_NO_SUCH_OPTION"),
        "ran `set SO_NO_SUCH_OPTION=1`; expected the error line to name the unknown option; \
         got {line:?}"
    );
    let out = sockopt_inspect().run(["set", "SO_RCVBUF"], b"");
    out.assert_error(2);
    let out = sockopt_inspect().run(["set", "SO_RCVBUF=plenty"], b"");
    out.assert_error(2);
}

#[test]
fn set_out_of_range_value_is_a_usage_error() {
    // A size is never negative: Linux would read -1 as unsigned and quietly
    // take the largest buffer, so the program must refuse it before asking.
    for (assignment, option) in [("SO_RCVBUF=-1", "SO_RCVBUF"), ("IP_TTL=256", "IP_TTL")] {
        let out = sockopt_inspect().run(["set", assignment], b"");
        let line = out.assert_error(2);
        assert!(
            line.contains(option),
            "ran `set {assignment}`; expected the error line to name {option}; got {line:?}"
        );
        assert!(
            out.stdout_text().trim().is_empty(),
            "ran `set {assignment}`: a usage error comes before any socket is made or set, \
             so stdout should be empty\n{}",
            out.describe()
        );
    }
    // The edges of the ranges are values like any other.
    let out = sockopt_inspect().run(["set", "SO_RCVBUF=0", "IP_TTL=255"], b"");
    assert_eq!(
        out.code(),
        Some(0),
        "`set SO_RCVBUF=0 IP_TTL=255` is in range and should exit 0\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// TIME_WAIT, read from the kernel's own table as `ss -tan` does.

struct TcpEntry {
    local: SocketAddr,
    remote: SocketAddr,
    state: u8,
}

const TIME_WAIT: u8 = 0x06;

fn proc_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::new();
    for i in (0..ip.len()).step_by(8) {
        let word = u32::from_str_radix(ip.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::from([bytes[0], bytes[1], bytes[2], bytes[3]]),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn tcp_table() -> Vec<TcpEntry> {
    let mut entries = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(state)) = (
                f.get(1).and_then(|a| proc_address(a)),
                f.get(2).and_then(|a| proc_address(a)),
                f.get(3).and_then(|s| u8::from_str_radix(s, 16).ok()),
            ) else {
                continue;
            };
            entries.push(TcpEntry {
                local,
                remote,
                state,
            });
        }
    }
    entries
}

/// Run the demo; return its output and the address its first server used,
/// taken from the `without SO_REUSEADDR: bind ADDR …` line.
fn reuseaddr_demo(args: &[&str]) -> (Outcome, SocketAddr, String, String) {
    let mut all = vec!["reuseaddr-demo"];
    all.extend(args);
    let out = sockopt_inspect().run(&all, b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let stdout = out.stdout_text();
    let Some(without) = stdout
        .lines()
        .find(|l| l.starts_with("without SO_REUSEADDR: bind "))
    else {
        panic!(
            "expected a line `without SO_REUSEADDR: bind ADDR …`\n{}",
            out.describe()
        );
    };
    let addr = without
        .trim_start_matches("without SO_REUSEADDR: bind ")
        .split_whitespace()
        .next()
        .and_then(|a| a.parse::<SocketAddr>().ok());
    let Some(addr) = addr else {
        panic!("expected an address after `bind` in {without:?}");
    };
    assert!(
        addr.ip().is_loopback() && addr.port() != 0,
        "the demo should run on loopback on a port the OS chose; got {addr}"
    );
    let with = format!("with SO_REUSEADDR: bind {addr} ok");
    let with_line = stdout
        .lines()
        .find(|l| l.starts_with(&with))
        .unwrap_or("")
        .to_string();
    (out, addr, without.to_string(), with_line)
}

#[test]
fn bind_fails_in_time_wait_without_so_reuseaddr_and_succeeds_with_it() {
    let (out, addr, without, with) = reuseaddr_demo(&[]);
    let in_use = strerror(libc::EADDRINUSE);
    assert!(
        without.starts_with(&format!("without SO_REUSEADDR: bind {addr} failed: "))
            && without.contains(&in_use),
        "the server closed first, so its port is in TIME_WAIT: a bind without SO_REUSEADDR \
         must fail; expected `without SO_REUSEADDR: bind {addr} failed: {in_use}`, got \
         {without:?}\n{}",
        out.describe()
    );
    assert!(
        !with.is_empty(),
        "SO_REUSEADDR lets a bind past TIME_WAIT: expected `with SO_REUSEADDR: bind {addr} ok`\n{}",
        out.describe()
    );
    // The failure came from TIME_WAIT: the kernel still lists the old
    // connection (for 60 s). It was not a live listener either, or the bind
    // with SO_REUSEADDR would have failed too.
    let table = tcp_table();
    assert!(
        table
            .iter()
            .any(|e| e.local == addr && e.state == TIME_WAIT),
        "after the demo, the kernel (/proc/net/tcp) should still hold {addr} in TIME_WAIT: \
         the side that closes first keeps it for 2 MSL\n{}",
        out.describe()
    );
}

#[test]
fn client_closing_first_leaves_the_server_port_free() {
    let (out, addr, without, with) = reuseaddr_demo(&["--closer", "client"]);
    assert!(
        without == format!("without SO_REUSEADDR: bind {addr} ok"),
        "with --closer client the client holds TIME_WAIT, not the server's port; expected \
         `without SO_REUSEADDR: bind {addr} ok`, got {without:?}\n{}",
        out.describe()
    );
    assert!(!with.is_empty(), "{}", out.describe());
    let table = tcp_table();
    let client_ends: Vec<SocketAddr> = table
        .iter()
        .filter(|e| e.remote == addr && e.state == TIME_WAIT)
        .map(|e| e.local)
        .collect();
    assert!(
        !client_ends.is_empty(),
        "the client closed first, so the client's end (remote {addr}) should be in \
         TIME_WAIT in /proc/net/tcp\n{}",
        out.describe()
    );
    assert!(
        !table
            .iter()
            .any(|e| e.local == addr && client_ends.contains(&e.remote)),
        "the server did not close first, so its end ({addr}) should be gone, not in \
         TIME_WAIT too\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// File descriptors.

#[test]
fn fds_are_small_distinct_and_reused_after_close() {
    let out = sockopt_inspect().run(["fds"], b"");
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    let mut open: HashSet<i64> = HashSet::new();
    let mut freed: Vec<i64> = Vec::new();
    let (mut opens, mut reused, mut files) = (0, 0, 0);
    for line in out.stdout_text().lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (Some(&verb), Some(&"fd"), Some(number)) = (w.first(), w.get(1), w.get(2)) else {
            continue;
        };
        let Ok(fd) = number.parse::<i64>() else {
            continue;
        };
        match verb {
            "open" => {
                opens += 1;
                assert!(
                    (3..1024).contains(&fd),
                    "fd {fd}: descriptors are small, and 0-2 are taken by stdin/out/err\n{}",
                    out.describe()
                );
                assert!(
                    open.insert(fd),
                    "fd {fd} opened while fd {fd} was still open: open descriptors never share \
                     a number\n{}",
                    out.describe()
                );
                if let Some(lowest) = freed.iter().min().copied() {
                    assert_eq!(
                        fd,
                        lowest,
                        "after closing fds {freed:?}, the next open should get the lowest free \
                         number, {lowest}, again (POSIX); got {fd}\n{}",
                        out.describe()
                    );
                    freed.retain(|f| *f != fd);
                    reused += 1;
                }
                if line.contains("file") {
                    files += 1;
                }
            }
            "close" => {
                assert!(
                    open.remove(&fd),
                    "closed fd {fd}, which was not open\n{}",
                    out.describe()
                );
                freed.push(fd);
            }
            _ => {}
        }
    }
    assert!(
        opens >= 4 && files >= 1,
        "expected `open fd N …` lines for several sockets and a file\n{}",
        out.describe()
    );
    assert!(
        reused >= 1,
        "expected a `close fd N` followed by an `open fd N` that gets the number back\n{}",
        out.describe()
    );
}
