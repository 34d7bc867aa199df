//! The socket options, as one table — getsockopt and setsockopt driven by data.
//!
//! Every option is a row `{name, level, option, kind}`: the level says which
//! layer of the stack owns it (`SOL_SOCKET` for the socket itself,
//! `IPPROTO_IP`/`IPPROTO_IPV6` for the IP layer, `IPPROTO_TCP` for TCP), the
//! option is the number the kernel knows it by, and the kind says how to
//! decode the bytes the kernel hands back (an `int` used as a flag, an `int`,
//! a `struct linger`, a `struct timeval`, a string). One loop over the table
//! prints every option; there is no block of code per option. This is the
//! shape of W. R. Stevens' `checkopts` program, written anew in Rust.
//!
//! Python's `s.getsockopt(SOL_SOCKET, SO_REUSEADDR)` (notes 6.6) is exactly
//! one such call: a level and an option number in, raw bytes decoded as an
//! `int` out. socket2 has a named accessor for most of these options
//! (`Socket::reuse_address`) but no generic getsockopt, so the table calls
//! `libc::getsockopt` itself; the `socket2` column names the accessor a Rust
//! program would normally use, and the unit tests check that both agree.
//!
//! The level also says which sockets an option applies to: `IPPROTO_TCP`
//! options to TCP sockets, `IPPROTO_IP` to IPv4 and `IPPROTO_IPV6` to IPv6
//! ones. Asking a UDP socket for TCP_NODELAY, or an IPv4 socket for
//! IPV6_V6ONLY, gets an error from the kernel ("Operation not supported"),
//! so the program does not ask. (Linux does answer some `IPPROTO_IP` options
//! on an IPv6 socket, for the IPv4 traffic it may carry as `::ffff:a.b.c.d`;
//! the program keeps each level to its own family.)

use std::fmt;
use std::io;
use std::os::fd::RawFd;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The protocol layer an option belongs to: the `level` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Socket,
    Ipv4,
    Ipv6,
    Tcp,
}

impl Level {
    /// The number passed to getsockopt.
    pub fn number(self) -> libc::c_int {
        match self {
            Level::Socket => libc::SOL_SOCKET,
            Level::Ipv4 => libc::IPPROTO_IP,
            Level::Ipv6 => libc::IPPROTO_IPV6,
            Level::Tcp => libc::IPPROTO_TCP,
        }
    }

    /// Its name in C and in Python's socket module.
    pub fn name(self) -> &'static str {
        match self {
            Level::Socket => "SOL_SOCKET",
            Level::Ipv4 => "IPPROTO_IP",
            Level::Ipv6 => "IPPROTO_IPV6",
            Level::Tcp => "IPPROTO_TCP",
        }
    }

    /// Which sockets it makes sense on.
    pub fn applies_to(self, socket: SocketKind) -> bool {
        match self {
            Level::Socket => true,
            Level::Ipv4 => !socket.ipv6,
            Level::Ipv6 => socket.ipv6,
            Level::Tcp => socket.tcp,
        }
    }

    /// "every socket", "IPv4 sockets"… for `list`.
    pub fn scope(self) -> &'static str {
        match self {
            Level::Socket => "every socket",
            Level::Ipv4 => "IPv4 sockets",
            Level::Ipv6 => "IPv6 sockets",
            Level::Tcp => "TCP sockets",
        }
    }
}

/// What a socket is, as far as option scopes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketKind {
    pub tcp: bool,
    pub ipv6: bool,
}

/// How the bytes of an option are read and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An `int` that means on (non-zero) or off (zero).
    Flag,
    /// An `int` (or, for a few IP options on BSD, one byte).
    Int,
    /// An `int` holding a socket type: 1 is SOCK_STREAM on Linux.
    SockType,
    /// An `int` holding an errno value: 0, or 111 for "Connection refused".
    Errno,
    /// `struct linger { int l_onoff; int l_linger; }`.
    Linger,
    /// `struct timeval { time_t tv_sec; suseconds_t tv_usec; }`.
    Timeout,
    /// A NUL-terminated string (a congestion control algorithm's name).
    /// Only Linux's table has such options.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Text,
}

impl Kind {
    /// What `set OPTION=VALUE` accepts, for error messages and `list`.
    pub fn value_syntax(self) -> &'static str {
        match self {
            Kind::Flag => "on|off (or 1|0)",
            Kind::Int | Kind::SockType | Kind::Errno => "an integer (0x10 for hex)",
            Kind::Linger => "off, or seconds to linger (0: reset on close)",
            Kind::Timeout => "seconds, such as 2.5 (0: no timeout)",
            Kind::Text => "a name",
        }
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct SockOpt {
    pub name: &'static str,
    pub level: Level,
    pub option: libc::c_int,
    pub kind: Kind,
    /// False for options only the kernel sets (SO_TYPE, SO_ERROR…).
    pub writable: bool,
    /// The socket2 accessor that reads it, or "" where socket2 has none.
    pub socket2: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
}

const fn row(
    name: &'static str,
    level: Level,
    option: libc::c_int,
    kind: Kind,
    socket2: &'static str,
    about: &'static str,
) -> SockOpt {
    SockOpt {
        name,
        level,
        option,
        kind,
        writable: true,
        socket2,
        about,
    }
}

const fn read_only(
    name: &'static str,
    level: Level,
    option: libc::c_int,
    kind: Kind,
    socket2: &'static str,
    about: &'static str,
) -> SockOpt {
    SockOpt {
        writable: false,
        ..row(name, level, option, kind, socket2, about)
    }
}

use Kind::*;
use Level::*;

/// Every option Stevens' checkopts prints that this system has, then what
/// socket2 adds, in the order they print.
#[rustfmt::skip]
pub static OPTIONS: &[SockOpt] = &[
    read_only("SO_ACCEPTCONN", Socket, libc::SO_ACCEPTCONN, Flag, "Socket::is_listener",
        "on once listen() was called: the socket only accepts connections"),
    row("SO_BROADCAST", Socket, libc::SO_BROADCAST, Flag, "Socket::broadcast",
        "may send to a broadcast address (UDP; lesson 7)"),
    row("SO_DEBUG", Socket, libc::SO_DEBUG, Flag, "",
        "ask the protocol to keep debugging traces (setting it needs CAP_NET_ADMIN on Linux)"),
    row("SO_DONTROUTE", Socket, libc::SO_DONTROUTE, Flag, "",
        "send only to hosts on a directly connected network, bypassing the routing table"),
    read_only("SO_ERROR", Socket, libc::SO_ERROR, Errno, "Socket::take_error",
        "pending error, cleared by reading it (how a non-blocking connect reports failure)"),
    row("SO_KEEPALIVE", Socket, libc::SO_KEEPALIVE, Flag, "Socket::keepalive",
        "probe an idle TCP connection to find a peer that vanished"),
    row("SO_LINGER", Socket, libc::SO_LINGER, Linger, "Socket::linger",
        "what close() does with unsent data: off = send it in the background; on, 0 s = reset"),
    row("SO_OOBINLINE", Socket, libc::SO_OOBINLINE, Flag, "Socket::out_of_band_inline",
        "TCP urgent data arrives inline with ordinary data"),
    row("SO_RCVBUF", Socket, libc::SO_RCVBUF, Int, "Socket::recv_buffer_size",
        "receive buffer size in bytes (Linux doubles what you set, for its bookkeeping)"),
    row("SO_SNDBUF", Socket, libc::SO_SNDBUF, Int, "Socket::send_buffer_size",
        "send buffer size in bytes (Linux doubles what you set, too)"),
    row("SO_RCVLOWAT", Socket, libc::SO_RCVLOWAT, Int, "",
        "recv and select wait until at least this many bytes are there"),
    row("SO_SNDLOWAT", Socket, libc::SO_SNDLOWAT, Int, "",
        "select reports writable once this much buffer space is free (fixed at 1 on Linux)"),
    row("SO_RCVTIMEO", Socket, libc::SO_RCVTIMEO, Timeout, "Socket::read_timeout",
        "a blocking recv gives up after this long (0 = wait forever)"),
    row("SO_SNDTIMEO", Socket, libc::SO_SNDTIMEO, Timeout, "Socket::write_timeout",
        "a blocking send gives up after this long (0 = wait forever)"),
    row("SO_REUSEADDR", Socket, libc::SO_REUSEADDR, Flag, "Socket::reuse_address",
        "bind may take a port still held by old connections in TIME_WAIT"),
    row("SO_REUSEPORT", Socket, libc::SO_REUSEPORT, Flag, "Socket::reuse_port",
        "several live sockets may bind the same port; the kernel spreads connections over them"),
    read_only("SO_TYPE", Socket, libc::SO_TYPE, SockType, "Socket::type",
        "the socket type: SOCK_STREAM (TCP) or SOCK_DGRAM (UDP) — Python's s.type"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("SO_PRIORITY", Socket, libc::SO_PRIORITY, Int, "Socket::priority",
        "queueing priority of outgoing packets (0-6 without privileges)"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("SO_MARK", Socket, libc::SO_MARK, Int, "Socket::mark",
        "a number firewall and routing rules can match on (setting it needs CAP_NET_ADMIN or CAP_NET_RAW)"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("SO_BINDTODEVICE", Socket, libc::SO_BINDTODEVICE, Text, "Socket::device",
        "send and receive only through this interface (empty: any)"),
    row("IP_TOS", Ipv4, libc::IP_TOS, Int, "Socket::tos_v4",
        "type-of-service byte in every IPv4 header sent (DSCP and ECN)"),
    row("IP_TTL", Ipv4, libc::IP_TTL, Int, "Socket::ttl_v4",
        "time to live: how many routers an IPv4 packet may cross"),
    row("IP_MULTICAST_TTL", Ipv4, libc::IP_MULTICAST_TTL, Int, "Socket::multicast_ttl_v4",
        "time to live of multicast datagrams (1: stay on the local network)"),
    row("IP_MULTICAST_LOOP", Ipv4, libc::IP_MULTICAST_LOOP, Flag, "Socket::multicast_loop_v4",
        "multicast datagrams sent are also delivered back to this host"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("IP_RECVTOS", Ipv4, libc::IP_RECVTOS, Flag, "Socket::recv_tos_v4",
        "recvmsg also reports each datagram's TOS byte"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("IP_MTU_DISCOVER", Ipv4, libc::IP_MTU_DISCOVER, Int, "",
        "path MTU discovery: 0 don't, 1 want (per route), 2 do (set DF), 3 probe"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    read_only("IP_MTU", Ipv4, libc::IP_MTU, Int, "",
        "path MTU to the peer; only a connected socket has one"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("IP_FREEBIND", Ipv4, libc::IP_FREEBIND, Flag, "Socket::freebind_v4",
        "bind may take an address this host does not have (yet)"),
    row("IPV6_V6ONLY", Ipv6, libc::IPV6_V6ONLY, Flag, "Socket::only_v6",
        "an IPv6 socket refuses IPv4 peers (off: [::] also takes IPv4 as ::ffff:a.b.c.d)"),
    row("IPV6_UNICAST_HOPS", Ipv6, libc::IPV6_UNICAST_HOPS, Int, "Socket::unicast_hops_v6",
        "hop limit of IPv6 packets sent: the IPv6 name for TTL"),
    row("IPV6_MULTICAST_HOPS", Ipv6, libc::IPV6_MULTICAST_HOPS, Int, "Socket::multicast_hops_v6",
        "hop limit of IPv6 multicast datagrams"),
    row("IPV6_MULTICAST_LOOP", Ipv6, libc::IPV6_MULTICAST_LOOP, Flag, "Socket::multicast_loop_v6",
        "IPv6 multicast datagrams sent are also delivered back to this host"),
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    row("IPV6_TCLASS", Ipv6, libc::IPV6_TCLASS, Int, "Socket::tclass_v6",
        "traffic class byte of IPv6 packets sent: the IPv6 name for TOS"),
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    row("IPV6_DONTFRAG", Ipv6, libc::IPV6_DONTFRAG, Flag, "",
        "never fragment: a datagram too big for the path fails instead"),
    row("TCP_NODELAY", Tcp, libc::TCP_NODELAY, Flag, "Socket::tcp_nodelay",
        "send small segments at once instead of waiting to merge them (Nagle's algorithm off)"),
    row("TCP_MAXSEG", Tcp, libc::TCP_MAXSEG, Int, "Socket::tcp_mss",
        "largest TCP segment payload: a default before connecting, the agreed MSS after"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_KEEPIDLE", Tcp, libc::TCP_KEEPIDLE, Int, "Socket::tcp_keepalive_time",
        "seconds of silence before the first keepalive probe (when SO_KEEPALIVE is on)"),
    #[cfg(target_vendor = "apple")]
    row("TCP_KEEPALIVE", Tcp, libc::TCP_KEEPALIVE, Int, "Socket::tcp_keepalive_time",
        "seconds of silence before the first keepalive probe (macOS name of TCP_KEEPIDLE)"),
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    row("TCP_KEEPINTVL", Tcp, libc::TCP_KEEPINTVL, Int, "Socket::tcp_keepalive_interval",
        "seconds between keepalive probes"),
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    row("TCP_KEEPCNT", Tcp, libc::TCP_KEEPCNT, Int, "Socket::tcp_keepalive_retries",
        "unanswered keepalive probes before the connection is declared dead"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_USER_TIMEOUT", Tcp, libc::TCP_USER_TIMEOUT, Int, "Socket::tcp_user_timeout",
        "milliseconds sent data may stay unacknowledged before the connection is dropped (0: system default)"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_CONGESTION", Tcp, libc::TCP_CONGESTION, Text, "Socket::tcp_congestion",
        "congestion control algorithm (cubic, reno, bbr…)"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_QUICKACK", Tcp, libc::TCP_QUICKACK, Flag, "Socket::tcp_quickack",
        "acknowledge at once rather than delaying ACKs (the kernel turns it back off by itself)"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_CORK", Tcp, libc::TCP_CORK, Flag, "Socket::tcp_cork",
        "hold partial segments back until the cork is removed (200 ms at most)"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_NOTSENT_LOWAT", Tcp, libc::TCP_NOTSENT_LOWAT, Int, "Socket::tcp_notsent_lowat",
        "writable only while fewer unsent bytes than this are queued"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    row("TCP_DEFER_ACCEPT", Tcp, libc::TCP_DEFER_ACCEPT, Int, "",
        "a listener hands out a connection only once data arrived (seconds to wait)"),
];

/// Find an option by name, in any letter case (`so_rcvbuf` works too).
pub fn find(name: &str) -> Option<&'static SockOpt> {
    OPTIONS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

/// A decoded option value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Flag(bool),
    Int(i64),
    Linger { on: bool, seconds: i64 },
    Timeout { sec: i64, usec: i64 },
    Text(String),
}

/// A value shown for people: `on`, `131072`, `off, 0 s`, `0 s 0 us`.
pub struct Shown<'a> {
    pub kind: Kind,
    pub value: &'a Value,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.value) {
            (_, Value::Flag(on)) => f.write_str(if *on { "on" } else { "off" }),
            (Kind::SockType, Value::Int(n)) => write!(f, "{n} ({})", type_name(*n as i32)),
            (Kind::Errno, Value::Int(0)) => f.write_str("0 (no error)"),
            (Kind::Errno, Value::Int(n)) => {
                write!(f, "{n} ({})", io::Error::from_raw_os_error(*n as i32))
            }
            (_, Value::Int(n)) => write!(f, "{n}"),
            (_, Value::Linger { on, seconds }) => {
                write!(f, "{}, {seconds} s", if *on { "on" } else { "off" })
            }
            (_, Value::Timeout { sec, usec }) => write!(f, "{sec} s {usec} us"),
            (_, Value::Text(text)) if text.is_empty() => f.write_str("\"\""),
            (_, Value::Text(text)) => f.write_str(&common::show_bytes(text.as_bytes())),
        }
    }
}

/// JSON: `true`, `131072`, `{"on":false,"seconds":0}`, `{"sec":0,"usec":0}`.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Flag(on) => serializer.serialize_bool(*on),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Text(text) => serializer.serialize_str(text),
            Value::Linger { on, seconds } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("on", on)?;
                map.serialize_entry("seconds", seconds)?;
                map.end()
            }
            Value::Timeout { sec, usec } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("sec", sec)?;
                map.serialize_entry("usec", usec)?;
                map.end()
            }
        }
    }
}

/// What the OS answered: a value (an option, an address), or the error it
/// gave instead — in JSON `{"error":"…"}` in place of the value.
#[derive(Debug)]
pub struct Answer<T>(pub Result<T, String>);

impl<T> Answer<T> {
    pub fn from_io(result: io::Result<T>) -> Answer<T> {
        Answer(result.map_err(|e| e.to_string()))
    }
}

impl<T: Serialize> Serialize for Answer<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Ok(value) => value.serialize(serializer),
            Err(error) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("error", error)?;
                map.end()
            }
        }
    }
}

/// The name of a socket type number, as in C and Python.
pub fn type_name(ty: i32) -> String {
    match ty {
        libc::SOCK_STREAM => "SOCK_STREAM".into(),
        libc::SOCK_DGRAM => "SOCK_DGRAM".into(),
        libc::SOCK_RAW => "SOCK_RAW".into(),
        libc::SOCK_SEQPACKET => "SOCK_SEQPACKET".into(),
        other => format!("type {other}"),
    }
}

/// Room for the largest value in the table (a 16-byte timeval, a 16-byte
/// congestion control name) with plenty to spare.
const BUFFER: usize = 64;

/// `getsockopt(fd, level, option)`: the raw bytes the kernel wrote.
fn getsockopt_bytes(fd: RawFd, opt: &SockOpt) -> io::Result<Vec<u8>> {
    // region: getsockopt — libc::getsockopt(fd, opt.level.number(), opt.option, buffer, &mut len) in unsafe; rc != 0 is io::Error::last_os_error(); return the first len bytes the kernel wrote
    let mut buf = [0u8; BUFFER];
    let mut len = BUFFER as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `buf` and stores the
    // length it wrote back into `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            opt.level.number(),
            opt.option,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let len = (len as usize).min(BUFFER);
    Ok(buf[..len].to_vec())
    // endregion: getsockopt
}

/// Read one option of the socket `fd` and decode it by the table's kind.
pub fn get(fd: RawFd, opt: &SockOpt) -> io::Result<Value> {
    let bytes = getsockopt_bytes(fd, opt)?;
    decode(opt.kind, &bytes).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} returned {} bytes, which is not a {:?}",
                opt.name,
                bytes.len(),
                opt.kind
            ),
        )
    })
}

/// Turn the kernel's bytes into a value; `None` if the length does not fit
/// the kind.
pub fn decode(kind: Kind, bytes: &[u8]) -> Option<Value> {
    match kind {
        Kind::Flag => integer(bytes).map(|n| Value::Flag(n != 0)),
        Kind::Int | Kind::SockType | Kind::Errno => integer(bytes).map(Value::Int),
        Kind::Linger => {
            let raw: libc::linger = read_struct(bytes)?;
            Some(Value::Linger {
                on: raw.l_onoff != 0,
                seconds: i64::from(raw.l_linger),
            })
        }
        Kind::Timeout => {
            let raw: libc::timeval = read_struct(bytes)?;
            // time_t and suseconds_t are i64 on 64-bit Linux, i32 elsewhere.
            #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
            Some(Value::Timeout {
                sec: raw.tv_sec as i64,
                usec: raw.tv_usec as i64,
            })
        }
        Kind::Text => {
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            Some(Value::Text(
                String::from_utf8_lossy(&bytes[..end]).into_owned(),
            ))
        }
    }
}

/// An `int` option: four bytes on every system here, but BSD answers some
/// IP options (IP_MULTICAST_TTL) with a single byte.
fn integer(bytes: &[u8]) -> Option<i64> {
    match bytes.len() {
        1 => Some(i64::from(bytes[0])),
        4 => Some(i64::from(i32::from_ne_bytes(bytes.try_into().ok()?))),
        8 => Some(i64::from_ne_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

/// A C struct from the kernel's bytes, if there are enough of them.
fn read_struct<T: Copy>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: enough bytes are there, read_unaligned copes with any
    // alignment, and T is a plain C struct of integers (any bits are valid).
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// `setsockopt(fd, level, option, value)`.
pub fn set(fd: RawFd, opt: &SockOpt, value: &Value) -> io::Result<()> {
    // region: setsockopt — encode(value) gives the bytes; libc::setsockopt(fd, opt.level.number(), opt.option, pointer, length) in unsafe; rc != 0 is io::Error::last_os_error()
    let bytes = encode(value)?;
    // SAFETY: the kernel reads `bytes.len()` bytes from the buffer.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            opt.level.number(),
            opt.option,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
    // endregion: setsockopt
}

fn encode(value: &Value) -> io::Result<Vec<u8>> {
    let too_big = || io::Error::new(io::ErrorKind::InvalidInput, "value out of range");
    let bytes = match value {
        Value::Flag(on) => libc::c_int::from(*on).to_ne_bytes().to_vec(),
        Value::Int(n) => libc::c_int::try_from(*n)
            .map_err(|_| too_big())?
            .to_ne_bytes()
            .to_vec(),
        Value::Linger { on, seconds } => struct_bytes(&libc::linger {
            l_onoff: libc::c_int::from(*on),
            l_linger: libc::c_int::try_from(*seconds).map_err(|_| too_big())?,
        }),
        // time_t and suseconds_t are i64 on 64-bit Linux, narrower elsewhere.
        #[allow(clippy::useless_conversion)]
        Value::Timeout { sec, usec } => {
            // SAFETY: timeval is plain integers; all-zero is a valid value.
            let mut tv: libc::timeval = unsafe { std::mem::zeroed() };
            tv.tv_sec = (*sec).try_into().map_err(|_| too_big())?;
            tv.tv_usec = (*usec).try_into().map_err(|_| too_big())?;
            struct_bytes(&tv)
        }
        Value::Text(text) => text.as_bytes().to_vec(),
    };
    Ok(bytes)
}

fn struct_bytes<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: reading the bytes of a plain C struct we own.
    unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
            .to_vec()
    }
}

/// The integers an option can mean, where its C type or its meaning limits
/// them, with the words that say so: a size, a count or a time is never
/// negative; a TTL, a hop limit or a TOS is one byte of a header (TTL and hop
/// limits also take -1: "the system default"). A value outside is a usage
/// error before any socket exists, not something to hand the kernel — Linux
/// reads `SO_RCVBUF=-1` as unsigned and quietly takes the largest buffer.
/// Limits that depend on the machine (net.core.rmem_max, privileges, the
/// kernel's own minimum for TCP_MAXSEG, IP_TTL=0) stay the kernel's to
/// enforce: `set` shows its answer.
pub fn int_range(name: &str) -> Option<(i64, i64, &'static str)> {
    const MAX: i64 = i32::MAX as i64;
    Some(match name {
        "SO_RCVBUF" | "SO_SNDBUF" => (0, MAX, "a buffer size in bytes"),
        "SO_RCVLOWAT" | "SO_SNDLOWAT" | "TCP_NOTSENT_LOWAT" => (0, MAX, "a number of bytes"),
        "TCP_MAXSEG" => (0, MAX, "a segment size in bytes"),
        "SO_PRIORITY" => (0, MAX, "a priority"),
        "TCP_KEEPIDLE" | "TCP_KEEPALIVE" | "TCP_KEEPINTVL" | "TCP_DEFER_ACCEPT" => {
            (0, MAX, "a number of seconds")
        }
        "TCP_KEEPCNT" => (0, MAX, "a number of probes"),
        "TCP_USER_TIMEOUT" => (0, MAX, "a number of milliseconds"),
        "IP_TOS" => (0, 255, "one byte of the IPv4 header"),
        "IP_TTL" | "IP_MULTICAST_TTL" | "IPV6_UNICAST_HOPS" | "IPV6_MULTICAST_HOPS" => {
            (-1, 255, "a hop count, one byte (-1: the system default)")
        }
        "IPV6_TCLASS" => (
            -1,
            255,
            "one byte of the IPv6 header (-1: the system default)",
        ),
        "IP_MTU_DISCOVER" => (
            0,
            5,
            "a mode (0 don't, 1 want, 2 do, 3 probe, 4 interface, 5 omit)",
        ),
        _ => return None,
    })
}

/// Read `VALUE` from `OPTION=VALUE` for an option of this kind.
pub fn parse_value(kind: Kind, text: &str) -> Result<Value, String> {
    let text = text.trim();
    let bad = || format!("'{text}' is not {}", kind.value_syntax());
    match kind {
        Kind::Flag => match text.to_ascii_lowercase().as_str() {
            "on" | "1" | "true" | "yes" => Ok(Value::Flag(true)),
            "off" | "0" | "false" | "no" => Ok(Value::Flag(false)),
            _ => Err(bad()),
        },
        Kind::Int | Kind::SockType | Kind::Errno => parse_int(text).map(Value::Int).ok_or_else(bad),
        Kind::Linger => {
            if text.eq_ignore_ascii_case("off") {
                return Ok(Value::Linger {
                    on: false,
                    seconds: 0,
                });
            }
            let seconds = text
                .trim_start_matches("on,")
                .trim()
                .parse::<u16>()
                .map_err(|_| bad())?;
            Ok(Value::Linger {
                on: true,
                seconds: i64::from(seconds),
            })
        }
        Kind::Timeout => parse_seconds(text).ok_or_else(bad),
        Kind::Text if text.is_empty() => Err(bad()),
        Kind::Text => Ok(Value::Text(text.to_string())),
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let n = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().ok()?
        }
        None => return None,
    };
    let n = if negative { -n } else { n };
    i32::try_from(n).ok().map(i64::from)
}

/// `2.5` → 2 s 500000 us; `off` and `0` → no timeout.
fn parse_seconds(text: &str) -> Option<Value> {
    if text.eq_ignore_ascii_case("off") {
        return Some(Value::Timeout { sec: 0, usec: 0 });
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 6
    {
        return None;
    }
    let sec = if whole.is_empty() {
        0
    } else {
        whole.parse::<u32>().ok()?
    };
    let usec = format!("{fraction:0<6}").parse::<i64>().ok()?;
    Some(Value::Timeout {
        sec: i64::from(sec),
        usec,
    })
}

/// The options of one socket, in table order: JSON keeps that order too.
#[derive(Debug, Default)]
pub struct Readings(pub Vec<(&'static SockOpt, Answer<Value>)>);

impl Serialize for Readings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (opt, outcome) in &self.0 {
            map.serialize_entry(opt.name, outcome)?;
        }
        map.end()
    }
}

/// The checkopts loop: every option that applies to this kind of socket,
/// read from `fd`. An option the OS refuses keeps its error in place.
pub fn read_all(fd: RawFd, kind: SocketKind) -> Readings {
    Readings(
        OPTIONS
            .iter()
            .filter(|opt| opt.level.applies_to(kind))
            .map(|opt| (opt, Answer::from_io(get(fd, opt))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Protocol, SockRef, Socket, Type};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    fn opt(name: &str) -> &'static SockOpt {
        find(name).unwrap()
    }

    #[test]
    fn every_name_is_unique_and_found_in_any_case() {
        for (i, a) in OPTIONS.iter().enumerate() {
            for b in &OPTIONS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(
                    (a.level, a.option) != (b.level, b.option),
                    "{} and {} are the same option",
                    a.name,
                    b.name
                );
            }
            assert_eq!(find(&a.name.to_lowercase()).map(|o| o.name), Some(a.name));
        }
        assert!(find("SO_NOSUCH").is_none());
    }

    #[test]
    fn values_parse_by_kind() {
        assert_eq!(parse_value(Flag, "on"), Ok(Value::Flag(true)));
        assert_eq!(parse_value(Flag, "0"), Ok(Value::Flag(false)));
        assert!(parse_value(Flag, "2").is_err());
        assert_eq!(parse_value(Int, "9973"), Ok(Value::Int(9973)));
        assert_eq!(parse_value(Int, "0x10"), Ok(Value::Int(16)));
        assert_eq!(parse_value(Int, "-1"), Ok(Value::Int(-1)));
        assert!(parse_value(Int, "4294967296").is_err());
        assert!(parse_value(Int, "12abc").is_err());
        assert_eq!(
            parse_value(Linger, "off"),
            Ok(Value::Linger {
                on: false,
                seconds: 0
            })
        );
        assert_eq!(
            parse_value(Linger, "5"),
            Ok(Value::Linger {
                on: true,
                seconds: 5
            })
        );
        assert_eq!(
            parse_value(Timeout, "2.5"),
            Ok(Value::Timeout {
                sec: 2,
                usec: 500_000
            })
        );
        assert_eq!(
            parse_value(Timeout, ".000001"),
            Ok(Value::Timeout { sec: 0, usec: 1 })
        );
        assert!(parse_value(Timeout, "1.2345678").is_err());
        assert!(parse_value(Timeout, "-1").is_err());
        assert!(parse_value(Timeout, ".").is_err());
    }

    #[test]
    fn values_show_as_the_issue_says() {
        let show = |kind, value: Value| {
            Shown {
                kind,
                value: &value,
            }
            .to_string()
        };
        assert_eq!(show(Flag, Value::Flag(false)), "off");
        assert_eq!(show(Int, Value::Int(131072)), "131072");
        assert_eq!(
            show(SockType, Value::Int(libc::SOCK_DGRAM.into())),
            format!("{} (SOCK_DGRAM)", libc::SOCK_DGRAM)
        );
        assert_eq!(
            show(
                Linger,
                Value::Linger {
                    on: false,
                    seconds: 0
                }
            ),
            "off, 0 s"
        );
        assert_eq!(
            show(Timeout, Value::Timeout { sec: 1, usec: 5 }),
            "1 s 5 us"
        );
        let json = serde_json::to_string(&Value::Linger {
            on: true,
            seconds: 3,
        })
        .unwrap();
        assert_eq!(json, r#"{"on":true,"seconds":3}"#);
        let json = serde_json::to_string(&Answer::<Value>(Err("nope".into()))).unwrap();
        assert_eq!(json, r#"{"error":"nope"}"#);
    }

    #[test]
    fn decode_checks_the_length() {
        assert_eq!(decode(Int, &7i32.to_ne_bytes()), Some(Value::Int(7)));
        assert_eq!(decode(Int, &[64]), Some(Value::Int(64)));
        assert_eq!(decode(Int, &[1, 2]), None);
        assert_eq!(decode(Linger, &[0; 3]), None);
        assert_eq!(
            decode(Text, b"cubic\0\0\0"),
            Some(Value::Text("cubic".into()))
        );
    }

    /// The table's raw getsockopt agrees with socket2's named accessors.
    #[test]
    fn table_reads_what_socket2_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let s = SockRef::from(&client);
        s.set_tcp_nodelay(true).unwrap();
        s.set_linger(Some(Duration::from_secs(3))).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        s.set_keepalive(true).unwrap();
        let fd = client.as_raw_fd();
        let read = |name| get(fd, opt(name)).unwrap();
        assert_eq!(read("TCP_NODELAY"), Value::Flag(s.tcp_nodelay().unwrap()));
        assert_eq!(read("SO_KEEPALIVE"), Value::Flag(true));
        assert_eq!(
            read("SO_LINGER"),
            Value::Linger {
                on: true,
                seconds: 3
            }
        );
        assert_eq!(
            read("SO_RCVTIMEO"),
            Value::Timeout {
                sec: 1,
                usec: 500_000
            }
        );
        assert_eq!(
            read("SO_RCVBUF"),
            Value::Int(s.recv_buffer_size().unwrap() as i64)
        );
        assert_eq!(
            read("SO_SNDBUF"),
            Value::Int(s.send_buffer_size().unwrap() as i64)
        );
        assert_eq!(read("IP_TTL"), Value::Int(s.ttl_v4().unwrap().into()));
        assert_eq!(read("TCP_MAXSEG"), Value::Int(s.tcp_mss().unwrap().into()));
        assert_eq!(
            read("SO_TYPE"),
            Value::Int(libc::SOCK_STREAM.into()),
            "socket2 says {:?}",
            s.r#type().unwrap()
        );
        // socket2 reads SO_ACCEPTCONN only where the kernel has it (not macOS).
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        {
            let listening = SockRef::from(&listener);
            assert_eq!(
                get(listener.as_raw_fd(), opt("SO_ACCEPTCONN")).unwrap(),
                Value::Flag(listening.is_listener().unwrap())
            );
        }
    }

    #[test]
    fn set_then_get_round_trips() {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        let fd = socket.as_raw_fd();
        set(fd, opt("SO_REUSEADDR"), &Value::Flag(true)).unwrap();
        assert!(socket.reuse_address().unwrap());
        let timeout = Value::Timeout {
            sec: 2,
            usec: 250_000,
        };
        set(fd, opt("SO_SNDTIMEO"), &timeout).unwrap();
        // The kernel keeps timeouts in clock ticks (jiffies), so 2.25 s may
        // read back a few milliseconds longer: both readers see the same.
        let kept = socket.write_timeout().unwrap().unwrap();
        assert!(
            kept >= Duration::from_millis(2250) && kept < Duration::from_millis(2265),
            "{kept:?}"
        );
        assert_eq!(
            get(fd, opt("SO_SNDTIMEO")).unwrap(),
            Value::Timeout {
                sec: kept.as_secs() as i64,
                usec: i64::from(kept.subsec_micros())
            }
        );
        set(fd, opt("IP_TTL"), &Value::Int(7)).unwrap();
        assert_eq!(socket.ttl_v4().unwrap(), 7);
    }

    #[test]
    fn scopes_follow_the_level() {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let kind = SocketKind {
            tcp: false,
            ipv6: false,
        };
        let readings = read_all(udp.as_raw_fd(), kind);
        let names: Vec<_> = readings.0.iter().map(|(o, _)| o.name).collect();
        assert!(names.contains(&"SO_BROADCAST"));
        assert!(names.contains(&"IP_TTL"));
        assert!(!names.contains(&"TCP_NODELAY"));
        assert!(!names.contains(&"IPV6_V6ONLY"));
        // The kernel refuses TCP options on a UDP socket: that is why the
        // table does not ask.
        assert!(get(udp.as_raw_fd(), opt("TCP_NODELAY")).is_err());
    }
}
