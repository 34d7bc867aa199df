"""conventions.py — README "Conventions" in Python, shared by the lessons' Python versions.

The lessons' Python programs (tcp_echo.py, sticky_demo.py, udp_echo.py) import
this file, and so may yours:

    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from conventions import log, fail, parse_addr, show_addr, show_bytes

It holds only what every program must do the same way: flushed log lines,
the `listening on ADDR` announcement, the accept loop with a thread per
client, the TCP connect,
the one-line `error:` report with exit status 1, socket addresses on the
command line (a bad one is a usage error, exit 2, through argparse), and
bytes shown as text, and `--trace FILE` (README "Traces"): add_trace_arg(parser)
and start_trace(program, args.trace) give a program the flag; the sockets that
listen_and_announce, tcp_connect and serve_each_client hand out are then
traced, and traced_udp(sock) traces a datagram socket.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time


def log(line):
    """One stdout line, flushed at once: tests and scripts read it through a pipe.

    One write of the line with its newline: print() writes the two apart, so
    two threads logging at once could join their lines ("…200 72127.0.0.1:…").
    """
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def reason(err):
    """The OS reason, worded like the Rust programs: 'Connection refused (os error 111)'."""
    if isinstance(err, OSError) and err.errno is not None and err.strerror:
        return f"{err.strerror} (os error {err.errno})"
    return str(err) or type(err).__name__


def warn(what, err=None):
    """An `error:` line on stderr for a failure the program survives (one bad connection)."""
    line = f"error: {what}: {reason(err)}" if err is not None else f"error: {what}"
    sys.stderr.write(f"{line}\n")  # one write, as in log()
    sys.stderr.flush()


def fail(what, err=None):
    """The program's last words: one `error:` line and exit status 1."""
    warn(what, err)
    sys.exit(1)


def parse_addr(text):
    """argparse type: '127.0.0.1:9001', '[::1]:9001' or 'localhost:9001' -> (family, host, port)."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host, family = host[1:-1], socket.AF_INET6
    elif host == "localhost":
        host, family = "127.0.0.1", socket.AF_INET
    else:
        family = socket.AF_INET
    try:
        socket.inet_pton(family, host)
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError
    except (OSError, ValueError):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a socket address: expected IP:PORT, "
            "such as 127.0.0.1:9001 or [::1]:9001 (port 0-65535)") from None
    return family, host, int(port)


def show_addr(addr):
    """A socket address as the logs write it: 127.0.0.1:9001 or [::1]:9001."""
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def show_bytes(data):
    """README rule 6: UTF-8 as is; \\n \\r \\t \\\\ escaped; other controls and bad bytes as \\xNN."""
    out = []
    for ch in data.decode("utf-8", errors="surrogateescape"):
        code = ord(ch)
        if ch in "\n\r\t\\":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def byte_count(text):
    """argparse type: '65536', '64K', '16M', '1G' (powers of 1024)."""
    units = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
             "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
             "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}
    digits = text.rstrip("bBkKmMgGiI")
    suffix = text[len(digits):].upper()
    if not digits.isdigit() or suffix not in units:
        raise argparse.ArgumentTypeError(f"'{text}' is not a byte count, such as 65536 or 16M")
    return int(digits) * units[suffix]


def positive(text):
    """argparse type: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return int(text)


def raise_fd_limit():
    """Lift the open-file soft limit to the hard one: every client is a file descriptor."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def listen_and_announce(bind, backlog=4096):
    """A TCP server's start, as every program here does it: raise the open-file
    limit, socket + SO_REUSEADDR + bind + listen on `bind` (from parse_addr),
    then print `listening on ADDR` with the address really bound (port 0: the
    OS picks). A bind that fails is the one `error:` line and exit status 1."""
    family, host, port = bind
    raise_fd_limit()  # every client is a file descriptor
    listener = socket.socket(family, socket.SOCK_STREAM)
    # Lesson 6: lets a restarted server bind while old connections sit in TIME_WAIT.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(backlog)
    except OSError as err:
        fail(f"bind {show_addr((host, port))}", err)
    trace_event("listen", "tcp", show_addr(listener.getsockname()), None)
    log(f"listening on {show_addr(listener.getsockname())}")
    return listener


def tcp_connect(addr):
    """A TCP client's start: socket + connect to `addr` (from parse_addr) — the
    three-way handshake happens here. Failure is the `error:` line, exit 1."""
    family, host, port = addr
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.connect((host, port))
    except OSError as err:
        trace_event("error", "tcp", None, show_addr((host, port)), **error_fields("connect", err))
        fail(f"connect {show_addr((host, port))}", err)
    return traced_tcp(sock, "connect")


def serve_each_client(listener, serve, max_clients=None, log_connected=True):
    """Accept clients forever, each served by `serve(conn, peer)` on a thread of
    its own (lessons 1 and 2; crates/common/src/server.rs is the Rust twin).

    `peer` is the client's address as the logs write it. `serve` must close
    `conn` itself. With `max_clients`, the process exits 0 once that many
    clients have been served. A failed accept, or no thread to be had,
    concerns one client: it is an `error:` line and the loop goes on."""
    where = show_addr(listener.getsockname())
    threading.stack_size(256 * 1024)  # many sleeping threads, each small
    finished = [0]
    lock = threading.Lock()

    def run(conn, peer):
        try:
            serve(conn, peer)
        finally:
            with lock:
                finished[0] += 1
                if max_clients and finished[0] >= max_clients:
                    sys.stdout.flush()
                    os._exit(0)  # from a thread, sys.exit would end only the thread

    while True:
        try:
            conn, addr = listener.accept()
        except OSError as err:  # out of descriptors, say: let clients close first
            warn(f"accept {where}", err)
            time.sleep(0.05)
            continue
        peer = show_addr(addr)
        conn = traced_tcp(conn, "accept")
        if log_connected:
            log(f"connected {peer}")
        try:
            threading.Thread(target=run, args=(conn, peer), daemon=True).start()
        except RuntimeError as err:  # no thread to be had: this client is closed
            warn(f"start a thread for {peer}", err)
            conn.close()


# --- --trace FILE (README "Traces", format version 1) -------------------------

TRACE_VERSION = 1
TRACE_SHOWN = 64  # bytes of a send or recv shown in "text"; "more" counts the rest
_trace = {"file": None, "lock": threading.Lock()}


def add_trace_arg(*parsers):
    """Give each parser (and subcommand parser) the --trace FILE option."""
    for p in parsers:
        p.add_argument("--trace", metavar="FILE", default=None,
                       help='append one JSON line per socket event to FILE (README "Traces")')


def start_trace(program, path):
    """Open the trace file (if a path is given) and write its header line."""
    if not path:
        return
    try:
        f = open(path, "w", encoding="utf-8", buffering=1)
    except OSError as err:
        fail(f"open trace file {path}", err)
    f.write(json.dumps({"wire_trace": TRACE_VERSION, "program": program,
                        "pid": os.getpid(), "clock": "monotonic"}) + "\n")
    _trace["file"] = f


def _addr(getter):
    try:
        return show_addr(getter())
    except (OSError, IndexError, TypeError):
        return None


def trace_event(ev, proto, local, peer, **fields):
    """One trace line; a no-op without --trace. `data` (bytes) becomes len/text/more."""
    f = _trace["file"]
    if f is None:
        return
    event = {"t": fields.pop("t", None) or time.monotonic_ns(), "ev": ev, "proto": proto, "local": local, "peer": peer}
    data = fields.pop("data", None)
    if data is not None:
        event["len"] = len(data)
        event["text"] = show_bytes(data[:TRACE_SHOWN])
        if len(data) > TRACE_SHOWN:
            event["more"] = len(data) - TRACE_SHOWN
    event.update(fields)
    with _trace["lock"]:
        try:
            f.write(json.dumps(event, ensure_ascii=False) + "\n")
        except (OSError, ValueError):
            pass  # a trace never brings a program down


def error_fields(op, err):
    fields = {"op": op, "error": reason(err)}
    if isinstance(err, OSError) and err.errno is not None:
        fields["errno"] = err.errno
    return fields


class Traced:
    """A TCP socket whose recv, send, sendall, shutdown and close are traced;
    everything else goes to the socket itself."""

    def __init__(self, sock, ev=None):
        self._sock = sock
        self._local = _addr(sock.getsockname)
        self._peer = _addr(sock.getpeername)
        self._closed = False
        if ev:
            trace_event(ev, "tcp", self._local, self._peer)

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, op, fn, *args):
        try:
            return fn(*args)
        except (BlockingIOError, InterruptedError):
            raise  # a non-blocking socket's "not now" (WouldBlock), or EINTR: no event
        except socket.timeout:
            trace_event("timeout", "tcp", self._local, self._peer, op=op)
            raise
        except OSError as err:
            trace_event("error", "tcp", self._local, self._peer, **error_fields(op, err))
            raise

    def recv(self, size, *flags):
        data = self._call("recv", self._sock.recv, size, *flags)
        trace_event("recv", "tcp", self._local, self._peer, asked=size, data=data)
        return data

    def recv_into(self, buffer, nbytes=0, *flags):
        n = self._call("recv", self._sock.recv_into, buffer, nbytes, *flags)
        asked = nbytes or len(buffer)
        trace_event("recv", "tcp", self._local, self._peer, asked=asked, data=bytes(buffer[:n]))
        return n

    def send(self, data, *flags):
        t = time.monotonic_ns()  # a send is stamped when called
        n = self._call("send", self._sock.send, data, *flags)
        trace_event("send", "tcp", self._local, self._peer, data=bytes(data[:n]), t=t)
        return n

    def sendall(self, data, *flags):
        t = time.monotonic_ns()
        self._call("send", self._sock.sendall, data, *flags)
        trace_event("send", "tcp", self._local, self._peer, data=bytes(data), t=t)

    def shutdown(self, how):
        t = time.monotonic_ns()  # stamped when called: the peer may read the FIN first
        self._call("shutdown", self._sock.shutdown, how)
        name = {socket.SHUT_RD: "read", socket.SHUT_WR: "write"}.get(how, "both")
        trace_event("shutdown", "tcp", self._local, self._peer, how=name, t=t)

    def close(self):
        if not self._closed:
            self._closed = True
            trace_event("close", "tcp", self._local, self._peer)
        self._sock.close()


class TracedUdp:
    """A UDP socket whose sendto, recvfrom (and recvmsg), send and recv are traced."""

    def __init__(self, sock):
        self._sock = sock

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def _local(self):
        return _addr(self._sock.getsockname)

    def _call(self, op, peer, fn, *args):
        try:
            return fn(*args)
        except socket.timeout:
            trace_event("timeout", "udp", self._local(), peer, op=op)
            raise
        except OSError as err:
            trace_event("error", "udp", self._local(), peer, **error_fields(op, err))
            raise

    def bind(self, addr):
        self._call("bind", None, self._sock.bind, addr)
        trace_event("bind", "udp", self._local(), None)

    def sendto(self, data, addr):
        peer, t = show_addr(addr), time.monotonic_ns()
        n = self._call("sendto", peer, self._sock.sendto, data, addr)
        trace_event("sendto", "udp", self._local(), peer, data=bytes(data[:n]), t=t)
        return n

    def send(self, data):
        peer, t = _addr(self._sock.getpeername), time.monotonic_ns()
        n = self._call("send", peer, self._sock.send, data)
        trace_event("sendto", "udp", self._local(), peer, data=bytes(data[:n]), t=t)
        return n

    def recvfrom(self, size, *flags):
        data, addr = self._call("recvfrom", None, self._sock.recvfrom, size, *flags)
        trace_event("recvfrom", "udp", self._local(), show_addr(addr), asked=size, data=data)
        return data, addr

    def recv(self, size, *flags):
        data = self._call("recv", None, self._sock.recv, size, *flags)
        trace_event("recvfrom", "udp", self._local(), _addr(self._sock.getpeername),
                    asked=size, data=data)
        return data

    def recvfrom_into(self, buf, size=0, flags=0):
        """With MSG_TRUNC (Linux) the count is the datagram's real size."""
        n, addr = self._call("recvfrom", None, self._sock.recvfrom_into, buf, size, flags)
        asked = size or len(buf)
        extra = {"truncated": True, "size": n} if n > asked else {}
        trace_event("recvfrom", "udp", self._local(), show_addr(addr), asked=asked,
                    data=bytes(buf[:min(n, asked)]), **extra)
        return n, addr

    def recvmsg(self, size, *rest):
        data, anc, flags, addr = self._call("recvfrom", None, self._sock.recvmsg, size, *rest)
        extra = {"truncated": True} if flags & getattr(socket, "MSG_TRUNC", 0) else {}
        trace_event("recvfrom", "udp", self._local(), show_addr(addr), asked=size, data=data,
                    **extra)
        return data, anc, flags, addr

    def close(self):
        trace_event("close", "udp", self._local(), None)
        self._sock.close()


def traced_udp(sock, bound=False):
    """A UDP socket, traced when --trace is on (the socket itself otherwise);
    `bound`: it has just been bound (a `bind` event)."""
    if _trace["file"] is None:
        return sock
    if bound:
        trace_event("bind", "udp", _addr(sock.getsockname), None)
    return TracedUdp(sock)


def traced_tcp(sock, ev=None):
    """A TCP socket, traced when --trace is on (the socket itself otherwise)."""
    return Traced(sock, ev) if _trace["file"] is not None else sock
