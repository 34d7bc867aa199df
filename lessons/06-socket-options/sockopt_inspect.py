#!/usr/bin/env python3
"""sockopt_inspect.py — lesson 6 (socket模块) in Python: what the kernel says about a socket.

The same program as `cargo run -p sockopt-inspect`, kept to README
"Conventions", so the same tests grade it:

    python3 lessons/06-socket-options/sockopt_inspect.py [--json]
    python3 lessons/06-socket-options/sockopt_inspect.py set [--socket tcp|udp|tcp6|udp6] [--json] OPTION=VALUE...
    python3 lessons/06-socket-options/sockopt_inspect.py reuseaddr-demo [--bind ADDR] [--closer server|client]
                                                        [--first-without-reuseaddr]
    python3 lessons/06-socket-options/sockopt_inspect.py fds
    python3 lessons/06-socket-options/sockopt_inspect.py list [--json]
    scripts/grade --lesson 6 --impl sockopt-inspect='python3 lessons/06-socket-options/sockopt_inspect.py'

Everything here is the notes' own calls on the socket object: `s.type`,
`conn.getpeername()`, `s.getsockname()`, `s.fileno()`, `s.getsockopt(level,
optname)` and `s.setsockopt(level, optname, value)`. The options are one
table of (name, level, option, kind) walked by one loop — W. R. Stevens'
`checkopts` shape: adding an option is adding a row, not code.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (add_trace_arg, fail, log, parse_addr, reason, show_addr,  # noqa: E402
                         start_trace, trace_event)

# ------------------------------------------------------------------ the table

# How the kernel's bytes are read: an int used as on/off, an int, the socket
# type, an errno, struct linger {int l_onoff; int l_linger;}, struct timeval
# {long tv_sec; long tv_usec;}, a NUL-terminated name.
FLAG, INT, SOCKTYPE, ERRNO, LINGER, TIMEOUT, TEXT = (
    "flag", "int", "socktype", "errno", "linger", "timeout", "text")

SOL, IP, IPV6, TCP = socket.SOL_SOCKET, socket.IPPROTO_IP, socket.IPPROTO_IPV6, socket.IPPROTO_TCP
LEVEL_NAMES = {SOL: "SOL_SOCKET", IP: "IPPROTO_IP", IPV6: "IPPROTO_IPV6", TCP: "IPPROTO_TCP"}


def number(name, linux):
    """The option's number from the socket module; a few Linux ones it lacks
    (IP_MTU_DISCOVER, IP_MTU, IP_FREEBIND before Python 3.12) by their Linux value."""
    return getattr(socket, name, linux)


# (name, level, option, kind, writable) — in the order they print.
OPTIONS = [
    ("SO_ACCEPTCONN", SOL, socket.SO_ACCEPTCONN, FLAG, False),
    ("SO_BROADCAST", SOL, socket.SO_BROADCAST, FLAG, True),
    ("SO_DEBUG", SOL, socket.SO_DEBUG, FLAG, True),
    ("SO_DONTROUTE", SOL, socket.SO_DONTROUTE, FLAG, True),
    ("SO_ERROR", SOL, socket.SO_ERROR, ERRNO, False),
    ("SO_KEEPALIVE", SOL, socket.SO_KEEPALIVE, FLAG, True),
    ("SO_LINGER", SOL, socket.SO_LINGER, LINGER, True),
    ("SO_OOBINLINE", SOL, socket.SO_OOBINLINE, FLAG, True),
    ("SO_RCVBUF", SOL, socket.SO_RCVBUF, INT, True),
    ("SO_SNDBUF", SOL, socket.SO_SNDBUF, INT, True),
    ("SO_RCVLOWAT", SOL, socket.SO_RCVLOWAT, INT, True),
    ("SO_SNDLOWAT", SOL, socket.SO_SNDLOWAT, INT, True),
    ("SO_RCVTIMEO", SOL, socket.SO_RCVTIMEO, TIMEOUT, True),
    ("SO_SNDTIMEO", SOL, socket.SO_SNDTIMEO, TIMEOUT, True),
    ("SO_REUSEADDR", SOL, socket.SO_REUSEADDR, FLAG, True),
    ("SO_REUSEPORT", SOL, number("SO_REUSEPORT", 15), FLAG, True),
    ("SO_TYPE", SOL, socket.SO_TYPE, SOCKTYPE, False),
    ("SO_PRIORITY", SOL, number("SO_PRIORITY", 12), INT, True),
    ("SO_MARK", SOL, number("SO_MARK", 36), INT, True),
    ("SO_BINDTODEVICE", SOL, number("SO_BINDTODEVICE", 25), TEXT, True),
    ("IP_TOS", IP, socket.IP_TOS, INT, True),
    ("IP_TTL", IP, socket.IP_TTL, INT, True),
    ("IP_MULTICAST_TTL", IP, socket.IP_MULTICAST_TTL, INT, True),
    ("IP_MULTICAST_LOOP", IP, socket.IP_MULTICAST_LOOP, FLAG, True),
    ("IP_RECVTOS", IP, number("IP_RECVTOS", 13), FLAG, True),
    ("IP_MTU_DISCOVER", IP, number("IP_MTU_DISCOVER", 10), INT, True),
    ("IP_MTU", IP, number("IP_MTU", 14), INT, False),
    ("IP_FREEBIND", IP, number("IP_FREEBIND", 15), FLAG, True),
    ("IPV6_V6ONLY", IPV6, socket.IPV6_V6ONLY, FLAG, True),
    ("IPV6_UNICAST_HOPS", IPV6, socket.IPV6_UNICAST_HOPS, INT, True),
    ("IPV6_MULTICAST_HOPS", IPV6, socket.IPV6_MULTICAST_HOPS, INT, True),
    ("IPV6_MULTICAST_LOOP", IPV6, socket.IPV6_MULTICAST_LOOP, FLAG, True),
    ("IPV6_TCLASS", IPV6, number("IPV6_TCLASS", 67), INT, True),
    ("IPV6_DONTFRAG", IPV6, number("IPV6_DONTFRAG", 62), FLAG, True),
    ("TCP_NODELAY", TCP, socket.TCP_NODELAY, FLAG, True),
    ("TCP_MAXSEG", TCP, socket.TCP_MAXSEG, INT, True),
    ("TCP_KEEPIDLE", TCP, number("TCP_KEEPIDLE", 4), INT, True),
    ("TCP_KEEPINTVL", TCP, number("TCP_KEEPINTVL", 5), INT, True),
    ("TCP_KEEPCNT", TCP, number("TCP_KEEPCNT", 6), INT, True),
    ("TCP_USER_TIMEOUT", TCP, number("TCP_USER_TIMEOUT", 18), INT, True),
    ("TCP_CONGESTION", TCP, number("TCP_CONGESTION", 13), TEXT, True),
    ("TCP_QUICKACK", TCP, number("TCP_QUICKACK", 12), FLAG, True),
    ("TCP_CORK", TCP, number("TCP_CORK", 3), FLAG, True),
    ("TCP_NOTSENT_LOWAT", TCP, number("TCP_NOTSENT_LOWAT", 25), INT, True),
    ("TCP_DEFER_ACCEPT", TCP, number("TCP_DEFER_ACCEPT", 9), INT, True),
]

# `set` refuses a value the option cannot mean before any socket is touched
# (Linux would read -1 as unsigned and give the largest buffer).
BIG = 2**31 - 1
RANGES = {
    **dict.fromkeys(["SO_RCVBUF", "SO_SNDBUF"], (0, BIG, "a buffer size in bytes")),
    **dict.fromkeys(["SO_RCVLOWAT", "SO_SNDLOWAT", "TCP_NOTSENT_LOWAT"], (0, BIG, "a number of bytes")),
    "TCP_MAXSEG": (0, BIG, "a segment size in bytes"),
    "SO_PRIORITY": (0, BIG, "a priority"),
    "SO_MARK": (0, 2**32 - 1, "a mark"),
    **dict.fromkeys(["TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_DEFER_ACCEPT"], (0, BIG, "a number of seconds")),
    "TCP_KEEPCNT": (0, BIG, "a number of probes"),
    "TCP_USER_TIMEOUT": (0, BIG, "a number of milliseconds"),
    "IP_TOS": (0, 255, "one byte of the IPv4 header"),
    **dict.fromkeys(["IP_TTL", "IP_MULTICAST_TTL", "IPV6_UNICAST_HOPS", "IPV6_MULTICAST_HOPS"],
                    (-1, 255, "a hop count, one byte (-1: the system default)")),
    "IPV6_TCLASS": (-1, 255, "one byte of the IPv6 header (-1: the system default)"),
    "IP_MTU_DISCOVER": (0, 5, "a mode (0 don't, 1 want, 2 do, 3 probe, 4 interface, 5 omit)"),
}


def applies_to(level, sock):
    """Each level to its own sockets: TCP options on TCP, IPPROTO_IP on IPv4, IPPROTO_IPV6 on IPv6."""
    if level == TCP:
        return sock.type == socket.SOCK_STREAM
    if level == IP:
        return sock.family == socket.AF_INET
    if level == IPV6:
        return sock.family == socket.AF_INET6
    return True


def get_option(sock, level, option, kind):
    """s.getsockopt(level, optname) (notes 6.6), decoded by kind. OSError if the kernel refuses."""
    # region: getsockopt — sock.getsockopt(level, option) gives an int (FLAG as bool); for LINGER/TIMEOUT/TEXT pass a buffer length and struct.unpack the bytes ("ii", "ll", NUL-terminated text)
    if kind in (FLAG, INT, SOCKTYPE, ERRNO):
        value = sock.getsockopt(level, option)  # the kernel's int, as Python gives it
        return bool(value) if kind == FLAG else value
    if kind == LINGER:  # struct linger: two ints
        on, seconds = struct.unpack("ii", sock.getsockopt(level, option, struct.calcsize("ii")))
        return {"on": bool(on), "seconds": seconds}
    if kind == TIMEOUT:  # struct timeval: two longs
        sec, usec = struct.unpack("ll", sock.getsockopt(level, option, struct.calcsize("ll")))
        return {"sec": sec, "usec": usec}
    raw = sock.getsockopt(level, option, 64)  # TEXT: a NUL-terminated name
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    # endregion: getsockopt


def set_option(sock, level, option, kind, value):
    """s.setsockopt(level, optname, value) (notes 6.5): an int, or the struct's bytes."""
    # region: setsockopt — sock.setsockopt(level, option, value): an int, or for LINGER/TIMEOUT the struct.pack("ii"/"ll") bytes, for TEXT the encoded name
    if kind == LINGER:
        sock.setsockopt(level, option, struct.pack("ii", value["on"], value["seconds"]))
    elif kind == TIMEOUT:
        sock.setsockopt(level, option, struct.pack("ll", value["sec"], value["usec"]))
    elif kind == TEXT:
        sock.setsockopt(level, option, value.encode())
    else:
        sock.setsockopt(level, option, int(value))
    # endregion: setsockopt


def answer(call, *args):
    """What the OS answered: the value, or {"error": REASON} in its place (never a crash)."""
    try:
        return call(*args)
    except OSError as err:
        return {"error": reason(err)}


def show_value(kind, value):
    """A value for people: on, 131072, off, 0 s, 0 s 0 us, 1 (SOCK_STREAM)."""
    if isinstance(value, dict) and "error" in value:
        return f"error: {value['error']}"
    if kind == FLAG:
        return "on" if value else "off"
    if kind == SOCKTYPE:
        return f"{value} ({type_name(value)})"
    if kind == ERRNO:
        return "0 (no error)" if value == 0 else f"{value} ({os.strerror(value)})"
    if kind == LINGER:
        return f"{'on' if value['on'] else 'off'}, {value['seconds']} s"
    if kind == TIMEOUT:
        return f"{value['sec']} s {value['usec']} us"
    if kind == TEXT:
        return value or '""'
    return str(value)


def type_name(number):
    try:
        return socket.SocketKind(number).name
    except ValueError:
        return f"type {number}"


# ------------------------------------------------------------------ no subcommand: five sockets

def describe(name, about, sock):
    """The notes' calls on one socket, and every option that applies to it."""
    kind = socket.SocketKind(sock.type).name  # 6.1 s.type: an enum around SO_TYPE's number
    return {
        "name": name,
        "about": about,
        "fd": sock.fileno(),  # 6.4: the descriptor number
        "type": kind,
        "domain": socket.AddressFamily(sock.family).name,
        "protocol": "IPPROTO_TCP" if sock.type == socket.SOCK_STREAM else "IPPROTO_UDP",
        "local": answer(lambda: show_addr(sock.getsockname())),  # 6.3
        "peer": answer(lambda: show_addr(sock.getpeername())),  # 6.2: ENOTCONN is an answer too
        "options": {name: answer(get_option, sock, level, option, kind)
                    for name, level, option, kind, _ in OPTIONS if applies_to(level, sock)},
    }


def make_sockets():
    """A listener, both ends of one connection to it, a UDP socket and, with IPv6, a UDP6 one."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as every server here does
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    server = show_addr(listener.getsockname())
    trace_event("listen", "tcp", server, None)  # --trace: the samples' handshake, both sides
    client = socket.create_connection(listener.getsockname())
    conn, _ = listener.accept()
    trace_event("connect", "tcp", show_addr(client.getsockname()), server)
    trace_event("accept", "tcp", server, show_addr(conn.getpeername()))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    trace_event("bind", "udp", show_addr(udp.getsockname()), None)
    sockets = [
        ("listener", "TCP after socket, bind, listen (SO_REUSEADDR set, as every server here does)",
         listener),
        ("client", "TCP after connect to the listener", client),
        ("accepted", "TCP returned by the listener's accept: conn in the notes", conn),
        ("udp", "UDP after bind", udp),
    ]
    try:
        udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        udp6.bind(("::1", 0))
        sockets.append(("udp6", "UDP over IPv6 after bind", udp6))
    except OSError:
        pass  # no IPv6 loopback on this machine: four sockets it is
    return sockets


def inspect(as_json):
    try:
        sockets = make_sockets()
    except OSError as err:
        fail("make the loopback sockets", err)
    described = [describe(*entry) for entry in sockets]
    if as_json:
        for d in described:
            del d["about"]
        print(json.dumps({"sockets": described}, ensure_ascii=False, indent=2), flush=True)
        return
    kinds = {name: kind for name, _, _, kind, _ in OPTIONS}
    for i, d in enumerate(described):
        if i:
            log("")
        log(f"{d['name']} — {d['about']}")
        for label, key in [("fileno()", "fd"), ("type", "type"), ("domain", "domain"),
                           ("protocol", "protocol"), ("getsockname()", "local"),
                           ("getpeername()", "peer")]:
            log(f"  {label:<22} {show_value(None, d[key])}")
        level_of = {name: level for name, level, _, _, _ in OPTIONS}
        last_level = None
        for name, value in d["options"].items():
            if level_of[name] != last_level:
                last_level = level_of[name]
                log(f"  {LEVEL_NAMES[last_level]}:")
            log(f"    {name:<20} {show_value(kinds[name], value)}")


# ------------------------------------------------------------------ set

class Usage(Exception):
    """A bad OPTION=VALUE: one `error:` line, exit 2, before any socket is made."""


def parse_value(name, kind, text):
    text = text.strip()
    try:
        if kind == FLAG:
            words = {"on": 1, "1": 1, "true": 1, "yes": 1, "off": 0, "0": 0, "false": 0, "no": 0}
            return bool(words[text.lower()])
        if kind == LINGER:
            return {"on": False, "seconds": 0} if text.lower() == "off" else \
                {"on": True, "seconds": int(text, 0)}
        if kind == TIMEOUT:
            seconds = float(text)
            if not 0 <= seconds < 2**31:
                raise ValueError
            return {"sec": int(seconds), "usec": round((seconds - int(seconds)) * 1e6)}
        if kind == TEXT:
            return text
        value = int(text, 0)  # 0x10 for hex
    except (KeyError, ValueError):
        raise Usage(f"{name}: '{text}' is not a valid value for this option") from None
    low, high, what = RANGES.get(name, (-2**31, BIG, "an int"))
    if not low <= value <= high:
        raise Usage(f"{name}: {value} is out of range: {what}, from {low} to {high}")
    return value


def parse_assignment(text, family, kind):
    name, eq, value = text.partition("=")
    if not eq:
        raise Usage(f"'{text}' is not OPTION=VALUE (for example SO_RCVBUF=9973)")
    name = name.strip().upper()
    row = next((r for r in OPTIONS if r[0] == name), None)
    if row is None:
        settable = " ".join(r[0] for r in OPTIONS if r[4])
        raise Usage(f"unknown option '{text.partition('=')[0]}'; options that can be set: {settable}")
    _, level, option, opt_kind, writable = row
    if not writable:
        raise Usage(f"{name} is read-only: only the kernel sets it (getsockopt shows it)")
    probe = argparse.Namespace(family=family, type=kind)
    if not applies_to(level, probe):
        raise Usage(f"{name} is an {LEVEL_NAMES[level]} option for other sockets; this is a "
                    f"{socket.SocketKind(kind).name} {socket.AddressFamily(family).name} socket "
                    "(choose another with --socket)")
    return row, parse_value(name, opt_kind, value)


SOCKET_CHOICES = {
    "tcp": (socket.AF_INET, socket.SOCK_STREAM, "TCP socket (AF_INET, SOCK_STREAM)"),
    "udp": (socket.AF_INET, socket.SOCK_DGRAM, "UDP socket (AF_INET, SOCK_DGRAM)"),
    "tcp6": (socket.AF_INET6, socket.SOCK_STREAM, "TCP socket (AF_INET6, SOCK_STREAM)"),
    "udp6": (socket.AF_INET6, socket.SOCK_DGRAM, "UDP socket (AF_INET6, SOCK_DGRAM)"),
}


def set_options(choice, assignments, as_json):
    """Set each option on one fresh socket, read each back: what you set is a request."""
    family, kind, what = SOCKET_CHOICES[choice]
    try:
        plan = [parse_assignment(a, family, kind) for a in assignments]
    except Usage as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    try:
        sock = socket.socket(family, kind)
    except OSError as err:
        fail(f"socket {what}", err)
    if not as_json:
        log(f"fresh {what}, fd {sock.fileno()}, neither bound nor connected")
    results, refused = [], None
    for (name, level, option, opt_kind, _), value in plan:
        before = answer(get_option, sock, level, option, opt_kind)
        try:
            set_option(sock, level, option, opt_kind, value)
            outcome = "ok"
        except OSError as err:
            outcome = {"error": reason(err)}
            refused = refused or f"setsockopt {name} {show_value(opt_kind, value)} on a fresh {what}: {reason(err)}"
        after = answer(get_option, sock, level, option, opt_kind)
        results.append({"option": name, "before": before, "set": value,
                        "setsockopt": outcome, "read_back": after})
        if as_json:
            continue
        asked, got, was = (show_value(opt_kind, v) for v in (value, after, before))
        if outcome != "ok":
            log(f"{name}: set {asked} refused: {outcome['error']}; read back {got} (was {was})")
            continue
        note = ""
        if opt_kind == INT and value and after == 2 * value:
            note = " — doubled by the kernel (lesson 6)"
        elif opt_kind == TIMEOUT and after != value:
            note = " — rounded up to the kernel's clock tick"
        elif after != value:
            note = " — the kernel adjusted it"
        log(f"{name}: set {asked}, read back {got} (was {was}){note}")
    if as_json:
        print(json.dumps({"socket": choice, "fd": sock.fileno(), "results": results}, indent=2),
              flush=True)
    if refused:
        fail(refused)


# ------------------------------------------------------------------ reuseaddr-demo

def tcp_states(port):
    """/proc/net/tcp and tcp6: (local, remote, state, seconds left in TIME_WAIT) for each TCP
    socket with `port` at either end (a busy machine has thousands of others)."""
    states = {"01": "ESTABLISHED", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
              "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}

    def addr(hex_addr):
        # The address is 32-bit words in the kernel's (host) byte order, the port big-endian hex.
        ip, port = hex_addr.split(":")
        words = [int(ip[i:i + 8], 16) for i in range(0, len(ip), 8)]
        raw = struct.pack(f"={len(words)}I", *words)
        family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
        return show_addr((socket.inet_ntop(family, raw), int(port, 16)))

    ticks = os.sysconf("SC_CLK_TCK")
    ours = f":{port:04X}"
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = [line.split() for line in f.readlines()[1:] if ours in line]
        except FileNotFoundError:  # no IPv6 on this machine
            continue
        found += [(addr(r[1]), addr(r[2]), states.get(r[3], r[3]),
                   int(r[5].split(":")[1], 16) / ticks if r[3] == "06" else None) for r in rows
                  if r[1].endswith(ours) or r[2].endswith(ours)]
    return found


def show_kernel_states(server, client, closer, port):
    """Wait (5 s at most) until the closing side is in TIME_WAIT and the other side gone."""
    closer_addr, other = (server, client) if closer == "server" else (client, server)
    deadline = time.monotonic() + 5
    while True:
        try:
            ours = [e for e in tcp_states(port) if {e[0], e[1]} == {server, client}]
        except OSError as err:
            log(f"kernel: cannot read /proc/net/tcp: {reason(err)}")
            return
        settled = any(e[0] == closer_addr and e[2] == "TIME_WAIT" for e in ours) and \
            not any(e[0] == other for e in ours)
        if settled or time.monotonic() >= deadline:
            break
        time.sleep(0.005)
    for local, remote, state, left in ours:
        log(f"kernel: {local} -> {remote} {state}" + (f", {left:.0f} s left" if left else "")
            + " (/proc/net/tcp)")
    for side in (server, client):
        if not any(e[0] == side for e in ours):
            log(f"kernel: nothing holds {side} any more")


def try_bind(label, addr, family, reuse):
    """A restarted server's bind on the old port, without or with SO_REUSEADDR (notes 6.5)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    where = show_addr(addr)
    try:
        sock.bind(addr[:2])
    except OSError as err:
        log(f"{label}: bind {where} failed: {err.strerror}")
        return
    log(f"{label}: bind {where} ok")
    if reuse:
        try:
            sock.listen(1)
            log(f"{label}: listen {where} ok: the restarted server serves again at once")
        except OSError as err:
            log(f"{label}: listen {where} failed: {err.strerror}")
    sock.close()


def recv_to_eof(sock, who):
    sock.settimeout(5)
    try:
        while sock.recv(64):
            pass
    except OSError as err:
        fail(f"{who}: recv", err)


def reuseaddr_demo(bind, closer, first_reuses):
    family, host, port = bind
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(first_reuses))
    try:
        listener.bind((host, port))
        listener.listen(1)
    except OSError as err:
        fail(f"bind {show_addr((host, port))}", err)
    addr = listener.getsockname()
    where = show_addr(addr)
    log(f"server: listening on {where} " +
        ("(SO_REUSEADDR on, as in the notes)" if first_reuses else "(SO_REUSEADDR off)"))
    try:
        client = socket.create_connection(addr[:2], timeout=5)
        conn, _ = listener.accept()
    except OSError as err:
        fail(f"connect {where}", err)
    client_addr = show_addr(client.getsockname())
    log(f"server: accepted a connection from {client_addr}")
    listener.close()
    log("server: closed the listening socket")
    if closer == "server":
        conn.close()
        log("server: closed the connection first (active close: sends FIN)")
        recv_to_eof(client, "client")
        client.close()
        log("client: recv returned 0 bytes (the server closed), closed too")
    else:
        client.close()
        log("client: closed the connection first (active close: sends FIN)")
        recv_to_eof(conn, "server")
        conn.close()
        log("server: recv returned 0 bytes (the client closed), closed too")
    show_kernel_states(where, client_addr, closer, addr[1])
    try_bind("without SO_REUSEADDR", addr, family, reuse=False)
    try_bind("with SO_REUSEADDR", addr, family, reuse=True)


# ------------------------------------------------------------------ fds

def fds():
    """Descriptor numbers at work: lowest free number first, reused after close (notes 6.4)."""
    log("fd 0, 1, 2: stdin, stdout, stderr, open before main runs")
    opened = []

    def opening(obj, what, note=""):
        log(f"open  fd {obj.fileno()}  {what}{note}")
        opened.append((obj, what))

    def udp():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        return sock, f"UDP socket {show_addr(sock.getsockname())}"

    this_file = os.path.abspath(__file__)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    where = show_addr(listener.getsockname())
    opening(listener, f"TCP listening socket {where}")
    client = socket.create_connection(listener.getsockname())
    opening(client, f"TCP socket connected to {where}")
    conn, peer = listener.accept()
    opening(conn, f"TCP socket accepted from {show_addr(peer)}",
            "   (accept makes a new socket: conn in the notes)")
    opening(*udp())
    opening(open(this_file, "rb"), f"file {this_file}", "   (files and sockets share one numbering)")
    if os.path.isdir("/proc/self/fd"):
        log("the kernel's table for this process (/proc/self/fd):")
        for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
            try:
                log(f"  fd {fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
            except OSError:
                pass  # the directory listing's own descriptor, closed already
    for index in (3, 1):  # close two from the middle: the UDP socket, then the client
        obj, what = opened.pop(index)
        log(f"close fd {obj.fileno()}  {what}")
        obj.close()
    opening(*udp(), "   (the lowest free number is reused)")
    opening(open(this_file, "rb"), f"file {this_file}", "   (the next lowest free one)")
    numbers = sorted(obj.fileno() for obj, _ in opened)
    log(f"open now: fd {', '.join(map(str, numbers))} — all different, all small")


# ------------------------------------------------------------------ list

def list_options(as_json):
    rows = [{"name": name, "level": LEVEL_NAMES[level], "option": option, "kind": kind,
             "writable": writable} for name, level, option, kind, writable in OPTIONS]
    if as_json:
        print(json.dumps({"options": rows}, indent=2), flush=True)
        return
    scope = {SOL: "every socket", IP: "IPv4 sockets", IPV6: "IPv6 sockets", TCP: "TCP sockets"}
    for name, level, option, kind, writable in OPTIONS:
        log(f"{name:<20} {LEVEL_NAMES[level]:<12} {option:>3}  {scope[level]}"
            + ("" if writable else ", read-only") + f"  ({kind})")


# ------------------------------------------------------------------ arguments

def main():
    if hasattr(signal, "SIGPIPE"):  # `... | head`: end quietly when the reader has gone
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(
        prog="sockopt-inspect",
        description="A socket's type, addresses, fileno and options, read from the kernel "
                    "(lesson 6: the socket module). Without a subcommand: a TCP listener, a "
                    "connected TCP pair, a UDP socket (and an IPv6 one) on loopback, and for "
                    "each its type, domain, protocol, fileno, getsockname, getpeername and "
                    "every option.")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    set_cmd = commands.add_parser(
        "set", help="set options on a fresh socket, then read each back: what the kernel keeps")
    set_cmd.add_argument("assignments", nargs="+", metavar="OPTION=VALUE",
                         help="such as SO_RCVBUF=9973, TCP_NODELAY=on, SO_LINGER=5, SO_RCVTIMEO=2.5")
    set_cmd.add_argument("--socket", choices=list(SOCKET_CHOICES), default="tcp",
                         help="kind of fresh socket (default: tcp)")
    set_cmd.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    demo = commands.add_parser(
        "reuseaddr-demo",
        help="a server closes a connection first; bind its port again without and with SO_REUSEADDR")
    demo.add_argument("--bind", type=parse_addr, default=parse_addr("127.0.0.1:0"), metavar="ADDR",
                      help="the demo server's address (default: 127.0.0.1:0, the OS picks the port)")
    demo.add_argument("--closer", choices=["server", "client"], default="server",
                      help="which side closes first and holds TIME_WAIT (default: server)")
    demo.add_argument("--first-without-reuseaddr", action="store_true",
                      help="the first server does not set SO_REUSEADDR (the notes' server does)")
    commands.add_parser("fds", help="open sockets and a file, close some, open more: "
                                    "descriptor numbers at work")
    list_cmd = commands.add_parser("list", help="every option this program knows")
    list_cmd.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    add_trace_arg(parser)  # README "Traces": the sample sockets' listen, connect, accept, bind

    argv = sys.argv[1:]
    if argv[:1] == ["set"]:  # options may follow OPTION=VALUE, as clap allows (README)
        args = set_cmd.parse_intermixed_args(argv[1:], argparse.Namespace(command="set"))
    else:
        args = parser.parse_args(argv)
    start_trace("sockopt-inspect", getattr(args, "trace", None))
    if not sys.platform.startswith("linux"):
        fail("sockopt-inspect speaks Linux (option numbers, descriptors, /proc); "
             f"this is {sys.platform}")
    try:
        if args.command == "set":
            set_options(args.socket, args.assignments, args.json)
        elif args.command == "reuseaddr-demo":
            reuseaddr_demo(args.bind, args.closer, not args.first_without_reuseaddr)
        elif args.command == "fds":
            fds()
        elif args.command == "list":
            list_options(args.json)
        else:
            inspect(args.json)
    except OSError as err:  # a socket the kernel refused to make: one line, no traceback
        fail(f"{args.command or 'inspect'}: {getattr(err, 'filename', None) or 'socket'}", err)


if __name__ == "__main__":
    main()
