#!/usr/bin/env python3
"""mini_http.py — lesson 8 (tcp应用之http传输) in Python: an HTTP/1.1 server and client on raw sockets.

The same program as `cargo run -p mini-http`, kept to README "Conventions",
so the same tests grade it:

    python3 lessons/08-http/mini_http.py                       # the demo site on 127.0.0.1:8000
    python3 lessons/08-http/mini_http.py serve --root DIR      # your own files
    python3 lessons/08-http/mini_http.py get -v http://127.0.0.1:8000/echo?a=1
    python3 lessons/08-http/mini_http.py request POST http://127.0.0.1:8000/echo -d 'a=1&b=2'
    scripts/grade --lesson 8 --impl mini-http='python3 lessons/08-http/mini_http.py'

No http.server, no http.client, no urllib: HTTP here is what the notes say
it is, lines of text on a TCP connection. The file follows the notes' flow
(网站访问流程): the web server (one thread per connection: read a request
off the byte stream, enforce the limits, keep the connection alive), the
application behind it (routes, /echo, Basic auth, the files under --root),
and the client (a browser's side: connect, write a request, read a response).

One connection, as a small state machine:

    idle ──first byte──▶ head ──blank line──▶ body ──complete──▶ (answer) ──▶ idle …
      │ bad bytes, a limit, a timeout: 4xx + Connection: close
      ▼
    closing: response sent, write side shut (FIN), input drained until EOF
"""

import argparse
import base64
import errno
import os
import re
import signal
import socket
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (fail, listen_and_announce, log, parse_addr, reason,  # noqa: E402
                         serve_each_client, show_addr, show_bytes, warn,
                         add_trace_arg, start_trace, traced_tcp)

LINGER = 2.0  # seconds a closing connection's input is drained, so our close is not a reset
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content",
    301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
    412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long",
    416: "Range Not Satisfiable", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


# ====================================================================== requests and responses

class Reject(Exception):
    """A request the server refuses before the application sees it (400, 408, 413, 414, 431,
    505…): answered, then the connection is closed — after a framing error nobody knows
    where the next request would start (request smuggling)."""

    def __init__(self, status, why):
        super().__init__(why)
        self.status, self.why = status, why


class Closed(Exception):
    """recv returned 0 (the peer closed its side, lesson 1), or we gave up waiting."""


class Head:
    """A parsed request head (notes 8.1.3: 请求行 / 请求头 / 空行)."""

    def __init__(self, method, target, minor, headers):
        self.method, self.target, self.minor, self.headers = method, target, minor, headers

    def header(self, name):
        """The first value of header `name` (any letter case), or None."""
        return next((v for n, v in self.headers if n.lower() == name), None)

    def values(self, name):
        return [v for n, v in self.headers if n.lower() == name]

    def request_line(self):
        return f"{self.method} {self.target} HTTP/1.{self.minor}"


class Response:
    """What the application hands back: a status, header fields, a body (notes 8.1.4)."""

    def __init__(self, status, headers=None, body=b"", content_type=None, path=None):
        self.status, self.headers, self.body = status, list(headers or []), body
        self.path = path  # (open file, offset, length): sent with sendfile instead of body
        if content_type:
            self.headers.append(("Content-Type", content_type))

    @staticmethod
    def error(status, detail=""):
        """A plain-text error page: `404 Not Found: no such file /x`."""
        text = f"{status} {REASONS.get(status, 'Unknown')}" + (f": {detail}" if detail else "")
        return Response(status, body=(text + "\n").encode(), content_type="text/plain; charset=utf-8")

    def header(self, name, value):
        """One more header field; returns the response, so calls can be chained."""
        self.headers.append((name, value))
        return self

    def length(self):
        return self.path[2] if self.path else len(self.body)


def has_body(status):
    """1xx, 204 and 304 never carry a body, whatever Content-Length would say."""
    return not (status < 200 or status in (204, 304))


def http_date(secs):
    """IMF-fixdate, the one date form a sender may generate: Sun, 06 Nov 1994 08:49:37 GMT."""
    t = time.gmtime(secs)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[t.tm_mon - 1]
    return f"{day}, {t.tm_mday:02d} {month} {t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"


def parse_http_date(text):
    """An HTTP date (IMF-fixdate, or the obsolete forms a recipient must still read) ->
    seconds since the epoch, or None."""
    import email.utils  # only a server reading conditional requests needs it
    try:
        return int(email.utils.parsedate_to_datetime(text.strip()).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def is_token(text):
    return TOKEN.fullmatch(text.encode("latin-1")) is not None


def valid_host(value):
    """Host: HOST[:PORT] — a name or IPv4 address, or [IPv6]; no path, no user, no list."""
    m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(:[0-9]{0,5})?", value)
    return m is not None


# ---------------------------------------------------------------------- reading off the stream

class Reader:
    """The bytes of one connection, read as the parser asks for them. TCP has no message
    boundaries (lesson 2): a head may come in many recv calls, or several requests in one."""

    def __init__(self, sock):
        self.sock, self.buf = sock, bytearray()
        self.last_progress = time.monotonic()

    def fill(self, deadline, timeout_reject=None):
        """One recv. Past the deadline: Reject(timeout_reject), or Closed when there is none."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise timeout_reject or Closed("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise timeout_reject or Closed("timed out") from None
        except OSError as err:
            raise Closed(reason(err)) from None
        if not data:
            raise Closed("closed by the peer")
        self.buf += data
        self.last_progress = time.monotonic()

    def line(self, limit, status, what, deadline, timeout_reject):
        """One line, ended by CRLF or a bare LF (RFC 9112 2.2), without its end; a CR
        anywhere else is a 400: some programs read a bare CR as a line end, others not."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                break
            if len(self.buf) > limit + 1:
                raise Reject(status, f"{what} longer than {limit} bytes")
            self.fill(deadline, timeout_reject)
        line = bytes(self.buf[:end])
        del self.buf[:end + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > limit:
            raise Reject(status, f"{what} longer than {limit} bytes")
        if b"\r" in line:
            raise Reject(400, f"bare CR in the {what}")
        if b"\0" in line:
            raise Reject(400, f"NUL byte in the {what}")
        return line

    def exactly(self, n, deadline_of):
        """n body bytes; each recv may wait --head-timeout (a stalled body is 408)."""
        while len(self.buf) < n:
            self.fill(*deadline_of())
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data


def read_head(reader, limits, first_deadline, head_timeout, on_first_byte):
    """Read and check one request head. Closed: the connection ended (or stayed silent)
    before a request began. Reject: answer with that status and close."""
    while not reader.buf:  # idle: wait quietly for the first byte
        reader.fill(first_deadline)
    on_first_byte()
    deadline = time.monotonic() + head_timeout
    late = Reject(408, f"request head not complete after {head_timeout:g} s (--head-timeout)")
    line = b""
    while not line:  # empty lines before a request line are ignored (RFC 9112 2.2)
        line = reader.line(limits.max_request_line, 414, "request line", deadline, late)
    parts = line.split(b" ")
    version = parts[-1]
    m = re.fullmatch(rb"HTTP/(\d)(?:\.(\d))?", version)
    if m and m.group(1) != b"1":
        raise Reject(505, f"{version.decode('latin-1')} is not supported: only HTTP/1.0 and HTTP/1.1")
    if len(parts) != 3 or not m or m.group(2) is None or not TOKEN.fullmatch(parts[0]):
        raise Reject(400, "the request line is not METHOD TARGET HTTP/1.x")
    # HTTP/1.2 … 1.9: a later minor version promises to be understood as 1.1 (RFC 9110 2.5).
    minor = 0 if m.group(2) == b"0" else 1
    target = parts[1].decode("latin-1")
    if not target or any(c <= " " or c == "\x7f" for c in target):
        raise Reject(400, "malformed request target")
    method = parts[0].decode("latin-1")

    headers, size = [], 0
    while True:
        budget = limits.max_header_bytes - size
        field = reader.line(max(budget, 0), 431, "header section", deadline, late)
        size += len(field) + 2
        if size > limits.max_header_bytes:
            raise Reject(431, f"header section larger than {limits.max_header_bytes} bytes")
        if not field:
            break
        headers.append(parse_field(field, "header"))
        if len(headers) > limits.max_headers:
            raise Reject(431, f"more than {limits.max_headers} header fields")
    head = Head(method, target, minor, headers)
    check_target(head)
    hosts = head.values("host")
    if len(hosts) > 1:
        raise Reject(400, "more than one Host header")
    if not hosts and minor == 1:
        raise Reject(400, "HTTP/1.1 request without a Host header")
    if hosts and not valid_host(hosts[0]):
        raise Reject(400, f"Host {hosts[0]!r} is not HOST[:PORT] (RFC 9112, section 3.2)")
    return head


def parse_field(line, what):
    """`Name: value` — a token name right before the colon, no control bytes, no folding."""
    if line[:1] in (b" ", b"\t"):
        raise Reject(400, f"a folded {what} line (obs-fold)")
    name, colon, value = line.partition(b":")
    if not colon or not TOKEN.fullmatch(name):
        raise Reject(400, f"a {what} line that is not Name: value")
    if any(b < 0x20 and b != 0x09 or b == 0x7F for b in value):
        raise Reject(400, f"a control byte in a {what} value")
    return name.decode("latin-1"), value.strip(b" \t").decode("latin-1")


def check_target(head):
    """The four forms of request target (RFC 9112 3.2): /path, *, host:port, http://host/path."""
    target = head.target
    if target.startswith("/") or (target == "*" and head.method == "OPTIONS") or \
            head.method == "CONNECT":
        return
    for scheme in ("http://", "https://"):
        rest = target[len(scheme):]
        if target.startswith(scheme) and rest and not rest.startswith("/"):
            return
    raise Reject(400, f"request target {target!r} is neither /path nor http://host/path")


def framing(head, limits):
    """Where the body ends (RFC 9112 6.3) — the question request smuggling is about.
    ('none' | 'length' | 'chunked', length)."""
    te, cl = head.values("transfer-encoding"), head.values("content-length")
    if te:
        if cl:
            raise Reject(400, "both Content-Length and Transfer-Encoding: which one ends the body?")
        if head.minor == 0:
            raise Reject(400, "Transfer-Encoding in an HTTP/1.0 request")
        codings = [c.strip().lower() for v in te for c in v.split(",")]
        if codings[-1] != "chunked":
            raise Reject(400, "Transfer-Encoding does not end with chunked: the body has no end")
        if len(codings) > 1:
            raise Reject(501, f"transfer coding {', '.join(codings)!r} is not supported")
        return "chunked", 0
    if cl:
        lengths = {p.strip() for v in cl for p in v.split(",")}
        for part in lengths:
            if not part.isdigit() or not part.isascii() or len(part) > 19:
                raise Reject(400, f"invalid Content-Length {part!r}")
        if len({int(p) for p in lengths}) > 1:
            raise Reject(400, "conflicting Content-Length values")
        n = int(lengths.pop())
        if n > limits.max_body:
            raise Reject(413, f"body of {n} bytes is larger than {limits.max_body} bytes")
        return ("length", n) if n else ("none", 0)
    return "none", 0


CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})(?:[ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?")


def read_chunked(reader, limits, deadline_of):
    """A `Transfer-Encoding: chunked` body (RFC 9112 7.1): `5\\r\\nhello\\r\\n0\\r\\n\\r\\n`.
    Strict on purpose, line ends as in the head, trailer fields checked like header fields,
    so what follows a body is either the next request or a 400 — never swallowed."""
    body, trailer = bytearray(), 0
    stalled = Reject(408, "request body stalled (--head-timeout)")

    def line(limit, status, what):
        deadline, _ = deadline_of()
        return reader.line(limit, status, what, deadline, stalled)

    while True:
        size_line = line(64, 400, "chunk size line")
        m = CHUNK_SIZE.fullmatch(size_line)
        if not m:
            raise Reject(400, "bad chunked body: chunk size is not a hexadecimal number")
        size = int(m.group(1), 16)
        if len(body) + size > limits.max_body:
            raise Reject(413, f"chunked body larger than {limits.max_body} bytes")
        if size == 0:
            break
        body += reader.exactly(size, deadline_of)
        try:  # the chunk's data ends with a line end, nothing else
            line(0, 400, "chunk data end")
        except Reject as reject:
            if reject.status != 400:
                raise
            raise Reject(400, "bad chunked body: chunk data longer than its size") from None
    while True:  # the trailer: field lines, then an empty line
        budget = limits.max_header_bytes - trailer
        field = line(max(budget, 0), 431, "chunked trailer")
        trailer += len(field) + 2
        if not field:
            return bytes(body)
        if trailer > limits.max_header_bytes:
            raise Reject(431, f"chunked trailer larger than {limits.max_header_bytes} bytes")
        parse_field(field, "trailer")


# ====================================================================== the application

KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def percent_decode(text, plus_is_space=False):
    """`%E4%BD%A0` -> b'\\xe4\\xbd\\xa0' (你); None if an escape is malformed. Exactly once:
    decoding twice would turn %252e%252e into .. — a classic way out of the root."""
    raw = text.encode("latin-1", "replace") if isinstance(text, str) else text
    out, i = bytearray(), 0
    while i < len(raw):
        b = raw[i]
        if b == 0x25:  # %
            hexpair = raw[i + 1:i + 3]
            if len(hexpair) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in hexpair):
                return None
            out.append(int(hexpair, 16))
            i += 3
            continue
        out.append(0x20 if b == 0x2B and plus_is_space else b)
        i += 1
    return bytes(out)


def percent_encode(name):
    """A file name as a link in a listing: `b c.txt` -> `b%20c.txt`."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in name.encode())


def html_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def parse_form(text):
    """`a=1&b=%E4%BD%A0` (a query, or a urlencoded body) -> [(name, value)], `+` a space."""
    fields = []
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            shown = [(percent_decode(s, True) or s.encode("latin-1", "replace"))
                     .decode("utf-8", "replace") for s in (name, value)]
            fields.append(tuple(shown))
    return fields


def split_target(target):
    """`/echo?a=1` -> ('/echo', 'a=1'); the absolute form `http://host/x` -> ('/x', None)."""
    for scheme in ("http://", "https://"):
        if target.startswith(scheme):
            after = target[len(scheme):]
            slash = after.find("/")
            target = after[slash:] if slash >= 0 else "/"
    target = target.split("#", 1)[0]
    path, q, query = target.partition("?")
    return path, (query if q else None)


class App:
    """The application — the notes' 后端应用程序. It never sees a socket: the web server
    hands it a complete request and sends back the Response it returns."""

    def __init__(self, files, auth):
        self.files, self.auth = files, auth

    def allow(self, path):
        if path == "/echo":
            return "GET, HEAD, POST, OPTIONS, TRACE"
        if self.files and self.files.allow_write:
            return "GET, HEAD, PUT, DELETE, OPTIONS, TRACE"
        return "GET, HEAD, OPTIONS, TRACE"

    def not_allowed(self, method, path):
        hint = " (start the server with --allow-write to let PUT and DELETE change files)" \
            if method in ("PUT", "DELETE") and self.files else ""
        refused = Response.error(405, f"{method} is not allowed on {path}{hint}")
        return refused.header("Allow", self.allow(path))

    def decided_by_head(self, head):
        """A response the head alone decides (405, 401, 412, 501…), or None. The server asks
        before sending `100 Continue`, so a client is never invited to send a useless body."""
        method = head.method
        if method not in KNOWN_METHODS:
            return Response.error(501, f"method {method} is not implemented")
        if method == "CONNECT":
            refused = Response.error(405, "CONNECT: this server is not a proxy")
            return refused.header("Allow", self.allow("*"))
        if method in ("TRACE", "OPTIONS"):
            return None
        path, _ = split_target(head.target)
        if path == "/echo":
            return None if method in ("GET", "HEAD", "POST") else self.not_allowed(method, path)
        if self.auth and (path == "/private" or path.startswith("/private/")):
            refused = check_basic_auth(head, self.auth)
            if refused:
                return refused
        if method in ("GET", "HEAD"):
            return None
        if self.files and self.files.allow_write and method in ("PUT", "DELETE"):
            checked = self.files.check_write(path, Conditions(head))
            return checked if isinstance(checked, Response) else None
        return self.not_allowed(method, path)

    def handle(self, head, body, peer):
        decided = self.decided_by_head(head)
        if decided:
            return decided
        if head.method == "TRACE":  # the request, echoed back as message/http
            lines = [head.request_line()] + [f"{n}: {v}" for n, v in head.headers
                                             if n.lower() not in ("authorization", "cookie")]
            return Response(200, body=("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"),
                            content_type="message/http")
        path, query = split_target(head.target)
        if path == "*" or head.method == "OPTIONS":
            return Response(204, [("Allow", self.allow(path))])
        if path == "/echo":
            return echo(head, body, peer, query)
        if self.files:
            conditions = Conditions(head)
            if head.method == "PUT":
                return self.files.put(path, body, conditions)
            if head.method == "DELETE":
                return self.files.delete(path, conditions)
            return self.files.get(path, query, conditions)
        return self.demo_site(path, head)

    def demo_site(self, path, head):
        decoded = decode_path(path)
        if isinstance(decoded, Response):
            return decoded
        if path in ("/", "/index.html"):
            return Response(200, body=demo_page(self.auth is not None).encode(),
                            content_type="text/html; charset=utf-8")
        if path == "/private":
            return Response.error(301, "moved to /private/").header("Location", "/private/")
        if path == "/private/" and self.auth:
            user = (basic_credentials(head.header("authorization")) or b"").split(b":")[0]
            return Response(200, body=f"Welcome, {user.decode('utf-8', 'replace')}: your browser "
                            "sent the right Authorization header.\n".encode(),
                            content_type="text/plain; charset=utf-8")
        return Response.error(404, f"no page {path} (this is the built-in demo site; "
                                   "serve your files with --root DIR)")


def echo(head, body, peer, query):
    """/echo: what the server understood — the query's fields, and a POST's body and form."""
    text = f"{head.request_line()}\nfrom {peer}\n"
    fields = parse_form(query or "")
    text += f"query parameters: {len(fields)}\n" + "".join(f"  {n} = {v}\n" for n, v in fields)
    if head.method == "POST":
        content_type = head.header("content-type") or "(none)"
        text += f"body: {len(body)} bytes, Content-Type: {content_type}\n  {show_bytes(body)}\n"
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form = parse_form(body.decode("utf-8", "replace"))
            text += f"form fields: {len(form)}\n" + "".join(f"  {n} = {v}\n" for n, v in form)
    return Response(200, body=text.encode(), content_type="text/plain; charset=utf-8")


def basic_credentials(value):
    """`Authorization: Basic YWxpY2U6c2VjcmV0` -> b'alice:secret', or None."""
    if not value or value[:6].lower() != "basic ":
        return None
    try:
        return base64.b64decode(value[6:].strip(), validate=True)
    except ValueError:
        return None


def check_basic_auth(head, credentials):
    sent = basic_credentials(head.header("authorization"))
    if sent == credentials.encode():
        return None
    detail = "wrong user name or password" if sent is not None else \
        "this page needs a user name and password (Authorization: Basic ...)"
    return Response.error(401, detail).header(
        "WWW-Authenticate", 'Basic realm="mini-http private", charset="UTF-8"')


def demo_page(auth):
    private = ("<p><a href=\"/private/\">/private/</a> needs the user name and password given "
               "with <code>--auth USER:PASS</code>: the server answers <b>401</b> with "
               "<code>WWW-Authenticate</code>, and your browser asks you for them.</p>") if auth else \
        ("<p>Start the server with <code>--auth alice:secret</code> and <code>/private/</code> "
         "will answer <b>401 Unauthorized</b> until the browser sends those credentials.</p>")
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>mini-http (Python) — lesson 8: HTTP over TCP</title></head>
<body>
<h1>HTTP over TCP (tcp应用之http传输)</h1>
<p>Your browser opened a TCP connection to this server and wrote a request line, header
lines, an empty line and (for a POST) a body. The server answered the same way: a status
line, headers, an empty line, and this page. The terminal running the server logs one
line per request.</p>
<h2>A GET form</h2>
<p>The fields travel in the URL, after <code>?</code>.</p>
<form method="get" action="/echo">
<label>a <input name="a" value="1"></label>
<label>b <input name="b" value="你好"></label>
<button type="submit">GET /echo</button>
</form>
<h2>A POST form</h2>
<p>The fields travel in the body, as <code>application/x-www-form-urlencoded</code>.</p>
<form method="post" action="/echo">
<label>name <input name="name" value="student"></label>
<label>message <input name="message" value="hello, 世界"></label>
<button type="submit">POST /echo</button>
</form>
<ul>
<li><a href="/echo?a=1&amp;b=2">/echo?a=1&amp;b=2</a> — the query, parsed by the application</li>
<li><a href="/nowhere">/nowhere</a> — <b>404 Not Found</b></li>
<li><a href="/private">/private</a> — <b>301</b> to <code>/private/</code></li>
</ul>
{private}
</body>
</html>
"""


# ---------------------------------------------------------------------- files under --root

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
    "json": "application/json", "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8", "py": "text/plain; charset=utf-8",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "svg": "image/svg+xml", "pdf": "application/pdf", "wav": "audio/wav", "mp4": "video/mp4",
}


def decode_path(path):
    """A URL path -> its segments, or a 400 Response. Each segment is %-decoded once; one that
    decodes to `..` or holds `/`, `\\` or NUL is refused — no real link needs them."""
    if "\\" in path:
        return Response.error(400, "backslash in the path")
    segments = []
    for raw in path.split("/"):
        decoded = percent_decode(raw)
        if decoded is None:
            return Response.error(400, "malformed %-escape in the path")
        try:
            segment = decoded.decode("utf-8")
        except UnicodeDecodeError:
            return Response.error(400, "path is not UTF-8 after %-decoding")
        if any(c in segment for c in "/\\\0"):
            return Response.error(400, "encoded slash, backslash or NUL in the path")
        if segment == "..":
            return Response.error(400, "'..' in the path: nothing above the document root is served")
        if segment not in ("", "."):
            segments.append(segment)
    return segments


def fs_error(err, url):
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return Response.error(404, f"no such file {url}")
    if err.errno == errno.ENAMETOOLONG:
        return Response.error(404, f"no such file {url}: a name in it is longer than file names can be")
    if err.errno == errno.EACCES:
        return Response.error(403, f"permission denied: {url}")
    return Response.error(500, f"{url}: {reason(err)}")


class Validators:
    """What says whether a file changed: an ETag (inode, size, modification time in ns) and
    Last-Modified (whole seconds, as HTTP dates have)."""

    def __init__(self, st):
        self.etag = f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'
        self.modified = int(st.st_mtime)
        self.last_modified = http_date(self.modified)


class Conditions:
    """The request's preconditions and range (RFC 9110 13, 14)."""

    def __init__(self, head):
        h = head.header
        self.if_match, self.if_none_match = h("if-match"), h("if-none-match")
        self.if_modified_since, self.if_unmodified_since = h("if-modified-since"), h("if-unmodified-since")
        self.range, self.if_range, self.get = h("range"), h("if-range"), head.method == "GET"


def tag_matches(tags, etag, strong):
    if tags.strip() == "*":
        return True
    for weak, tag in re.findall(r'(W/)?("[^"]*")', tags):
        if tag == etag and not (strong and weak):
            return True
    return False


def evaluate(current, c, safe):
    """The preconditions in RFC 9110's order: If-Match / If-Unmodified-Since (412), then
    If-None-Match / If-Modified-Since (304 for GET and HEAD, 412 for a change)."""
    if c.if_match is not None:
        if not (current and tag_matches(c.if_match, current.etag, True)):
            return 412
    elif c.if_unmodified_since is not None:
        date = parse_http_date(c.if_unmodified_since)
        if date is not None and not (current and current.modified <= date):
            return 412
    if c.if_none_match is not None:
        if current and tag_matches(c.if_none_match, current.etag, False):
            return 304 if safe else 412
    elif safe and c.if_modified_since is not None:
        since = parse_http_date(c.if_modified_since)
        # A date in the future is ignored: the file may change before it comes.
        if current and since is not None and since <= time.time() and current.modified <= since:
            return 304
    return None


def byte_range(c, v, length):
    """`Range: bytes=FIRST-LAST` -> (first, last), 'whole' or 'unsatisfiable'. One range
    only; anything this server does not do (several ranges, other units) is the whole file."""
    if not c.range or not c.get:
        return "whole"
    if c.if_range is not None:
        tag = c.if_range.strip()
        same = tag == v.etag if tag.startswith(('"', "W/")) else parse_http_date(tag) == v.modified
        if not same:
            return "whole"
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d{0,19})-(\d{0,19})\s*", c.range, re.IGNORECASE)
    if not m or not (m.group(1) or m.group(2)):
        return "whole"
    first, last = m.group(1), m.group(2)
    if not first:  # bytes=-N: the last N bytes
        suffix = int(last)
        return "unsatisfiable" if suffix == 0 or length == 0 else (length - min(suffix, length), length - 1)
    first = int(first)
    if last and int(last) < first:
        return "whole"
    if first >= length:
        return "unsatisfiable"
    return first, min(int(last), length - 1) if last else length - 1


class Files:
    """Static files under --root — and never off it."""

    def __init__(self, root, allow_write):
        self.root = os.path.realpath(root, strict=True)
        if not os.path.isdir(self.root):
            raise NotADirectoryError(20, "Not a directory")
        self.allow_write = allow_write

    def contained(self, path, url):
        """The real path (symlinks followed, as the kernel would); outside the root is 403."""
        try:
            real = os.path.realpath(path, strict=True)
        except OSError as err:
            return fs_error(err, url)
        if real != self.root and not real.startswith(self.root + os.sep):
            return Response.error(403, f"{url} leads outside the document root")
        return real

    def get(self, url, query, conditions):
        segments = decode_path(url)
        if isinstance(segments, Response):
            return segments
        real = self.contained(os.path.join(self.root, *segments), url)
        if isinstance(real, Response):
            return real
        slash = url.endswith("/")
        if os.path.isdir(real):
            if not slash:
                location = f"{url}/" + (f"?{query}" if query is not None else "")
                return Response.error(301, f"moved to {location}").header("Location", location)
            index = self.contained(os.path.join(real, "index.html"), url)
            if isinstance(index, Response):
                return self.listing(real, url) if index.status == 404 else index
            return self.serve_file(index, url, conditions)
        if slash:
            return Response.error(404, f"no such directory {url}")
        return self.serve_file(real, url, conditions)

    def serve_file(self, real, url, conditions):
        try:
            if not stat.S_ISREG(os.stat(real).st_mode):  # a FIFO or a device: never opened
                return Response.error(403, f"{url} is not a regular file")
            file = open(real, "rb")
        except OSError as err:
            return fs_error(err, url)
        v = Validators(os.fstat(file.fileno()))
        response = self.file_response(file, real, v, conditions)
        if response.path is None:  # no file to send (304, 412, 416): close it now
            file.close()
        return response

    def file_response(self, file, real, v, conditions):
        """200 with the file, 206 with a part, 304, 412 or 416 — by the request's conditions."""
        size = os.fstat(file.fileno()).st_size
        status = evaluate(v, conditions, True)
        if status:
            response = Response(304) if status == 304 else \
                Response.error(status, "the file has changed since you read it")
            return response.header("ETag", v.etag).header("Last-Modified", v.last_modified)
        ext = real.rsplit(".", 1)[-1].lower() if "." in os.path.basename(real) else ""
        headers = [("Content-Type", CONTENT_TYPES.get(ext, "application/octet-stream")),
                   ("Last-Modified", v.last_modified), ("ETag", v.etag), ("Accept-Ranges", "bytes")]
        part = byte_range(conditions, v, size)
        if part == "unsatisfiable":
            response = Response.error(416, f"the range {conditions.range!r} starts past the end "
                                           f"of the file ({size} bytes)")
            return response.header("Content-Range", f"bytes */{size}").header("Accept-Ranges", "bytes")
        if part == "whole":
            return Response(200, headers, path=(file, 0, size))
        first, last = part
        headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        return Response(206, headers, path=(file, first, last - first + 1))

    def listing(self, directory, url):
        try:
            names = sorted(n + "/" if os.path.isdir(os.path.join(directory, n)) else n
                           for n in os.listdir(directory))
        except OSError as err:
            return fs_error(err, url)
        title = html_escape(url)
        page = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of {title}'
                f"</title></head>\n<body><h1>Index of {title}</h1>\n<ul>\n")
        if url != "/":
            page += '<li><a href="../">../</a></li>\n'
        for name in names:
            stem, slash = (name[:-1], "/") if name.endswith("/") else (name, "")
            page += f'<li><a href="{percent_encode(stem)}{slash}">{html_escape(stem)}{slash}</a></li>\n'
        page += "</ul></body></html>\n"
        return Response(200, body=page.encode(), content_type="text/html; charset=utf-8")

    def check_write(self, url, conditions):
        """Where a PUT or DELETE would write: (target, existed), or the refusal."""
        segments = decode_path(url)
        if isinstance(segments, Response):
            return segments
        if not segments:
            return Response.error(403, "the root directory itself cannot be written")
        if url.endswith("/"):
            return Response.error(403, f"{url} names a directory")
        parent = self.contained(os.path.join(self.root, *segments[:-1]), url)
        if isinstance(parent, Response):
            return parent
        if not os.path.isdir(parent):
            return Response.error(404, f"{url}: parent is not a directory")
        target = os.path.join(parent, segments[-1])
        try:
            st = os.lstat(target)  # the name itself, a symlink not followed
        except FileNotFoundError:
            st = None
        except OSError as err:  # a name longer than file names can be: 404
            return fs_error(err, url)
        if st and stat.S_ISDIR(st.st_mode):
            return Response.error(403, f"{url} is a directory")
        if st and stat.S_ISLNK(st.st_mode):
            # A symlink: its file's validators (what a GET showed) if it leads to a file
            # inside the root; else the link's own — nothing about a file outside is told.
            real = self.contained(target, url)
            try:
                st = os.stat(real) if isinstance(real, str) else st
            except OSError:
                pass
        existed = st is not None
        current = Validators(st) if existed else None
        status = evaluate(current, conditions, False)
        if status:
            now = f"the file is now {current.etag} modified {current.last_modified}" if current \
                else "there is no such file now"
            refused = Response.error(status, f"{url} has changed since you read it: {now}")
            return refused.header("ETag", current.etag) if current else refused
        return target, existed

    def put(self, url, body, conditions):
        checked = self.check_write(url, conditions)
        if isinstance(checked, Response):
            return checked
        target, existed = checked
        import tempfile
        try:  # write a temporary file beside it, then rename: readers see old or new, never half
            fd, temp = tempfile.mkstemp(prefix=".mini-http-", suffix=".tmp", dir=os.path.dirname(target))
            with os.fdopen(fd, "wb") as out:
                out.write(body)
            os.replace(temp, target)
            etag = Validators(os.stat(target)).etag
        except OSError as err:
            return fs_error(err, url)
        if existed:
            return Response(204, [("ETag", etag)])
        return Response(201, [("Location", url), ("ETag", etag)],
                        body=f"201 Created: {url} ({len(body)} bytes)\n".encode(),
                        content_type="text/plain; charset=utf-8")

    def delete(self, url, conditions):
        checked = self.check_write(url, conditions)
        if isinstance(checked, Response):
            return checked
        target, existed = checked
        if not existed:
            return Response.error(404, f"no such file {url}")
        try:
            os.remove(target)
        except OSError as err:
            return fs_error(err, url)
        return Response(204)


# ====================================================================== the web server

class Limits:
    def __init__(self, args):
        self.max_request_line, self.max_header_bytes = args.max_request_line, args.max_header_bytes
        self.max_headers, self.max_body = args.max_headers, args.max_body


class Places:
    """--max-connections places. When all are taken, a newcomer takes the place of a
    connection closing anyway, else the longest idle one, else the oldest unfinished head;
    only when every connection is in the middle of a request does it get 503. A slow client
    (slowloris) or a crowd of idle browsers can then never keep a new client out."""

    EVICT_ORDER = {"closing": 3, "idle": 2, "head": 1}  # "busy" is never evicted

    def __init__(self, limit):
        self.limit, self.lock, self.held = limit, threading.Lock(), set()

    def admit(self, conn):
        with self.lock:
            if len(self.held) >= self.limit:
                candidates = [c for c in self.held if c.state in self.EVICT_ORDER]
                if not candidates:
                    return False
                victim = max(candidates, key=lambda c: (self.EVICT_ORDER[c.state], -c.since))
                self.held.discard(victim)
                victim.evict()
            self.held.add(conn)
            return True

    def release(self, conn):
        with self.lock:
            self.held.discard(conn)


class Connection:
    """One client: read requests off its stream, answer each, until it closes or times out."""

    def __init__(self, sock, peer, server):
        self.sock, self.peer, self.server = sock, peer, server
        self.reader = Reader(sock)
        self.state, self.since, self.evicted = "idle", time.monotonic(), False

    def set_state(self, state, since=None):
        self.state, self.since = state, since or time.monotonic()

    def evict(self):
        """Called by another connection's thread: wake this one's recv with EOF (shutdown of
        the read side), and it closes — with a 503 if it was halfway through a head."""
        self.evicted = True
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def serve(self):
        server, cfg = self.server, self.server.config
        admitted = server.places.admit(self)
        try:
            served = 0
            while True:
                first_wait = cfg.head_timeout if served == 0 else cfg.idle_timeout
                try:
                    head = read_head(self.reader, server.limits, time.monotonic() + first_wait,
                                     cfg.head_timeout, lambda: self.set_state("head"))
                except Closed:
                    if self.evicted and self.state == "head" and self.reader.buf:
                        self.refuse(Reject(503, "the server is full (--max-connections "
                                                f"{cfg.max_connections}) and this unfinished "
                                                "request head was the oldest"))
                    return
                except Reject as reject:
                    self.refuse(reject)
                    return
                self.set_state("busy")
                if not admitted:
                    response = Response.error(503, f"all {cfg.max_connections} connections "
                                                   "(--max-connections) are in the middle of "
                                                   "a request; try again shortly")
                    response.header("Retry-After", "1")
                    self.respond(head, response, keep_alive=False)
                    return
                if not self.answer(head):
                    return
                served += 1
                self.set_state("idle", self.answered_at)  # idle since its response went out
        except Closed:
            pass
        except Exception as err:  # a bug costs this connection, never the server (no traceback)
            warn(f"connection {self.peer}: internal error", err)
        finally:
            server.places.release(self)
            self.sock.close()

    def answer(self, head):
        """Read the body, hand the request to the application, send its response.
        False: the connection is to close."""
        server = self.server
        try:
            kind, length = framing(head, server.limits)
        except Reject as reject:
            self.refuse(reject, head.request_line())
            return False
        tokens = [t.strip().lower() for v in head.values("connection") for t in v.split(",")]
        keep_alive = "close" not in tokens and (head.minor == 1 or "keep-alive" in tokens)
        expects = head.minor == 1 and any(v.strip().lower() == "100-continue"
                                          for v in head.values("expect"))
        if expects and kind != "none":
            # The client waits for a go-ahead before its body. If the head alone decides
            # the answer (405, 401, …), send that instead and close: the body never comes.
            decided = server.app.decided_by_head(head)
            if decided:
                self.respond(head, decided, keep_alive=False)
                return False
            if not self.reader.buf:
                self.send(b"HTTP/1.1 100 Continue\r\n\r\n")

        def body_deadline():  # a body may stall --head-timeout between bytes, no longer
            return (self.reader.last_progress + server.config.head_timeout,
                    Reject(408, f"request body stalled for {server.config.head_timeout:g} s "
                                "(--head-timeout)"))
        try:
            if kind == "chunked":
                body = read_chunked(self.reader, server.limits, body_deadline)
            else:
                body = self.reader.exactly(length, body_deadline)
        except Reject as reject:
            self.refuse(reject, head.request_line())
            return False
        try:
            response = server.app.handle(head, body, self.peer)
        except Exception as err:  # a bug costs one request, never the server
            warn(f'{self.peer} "{head.request_line()}": the application failed', err)
            response = Response.error(500, "the application failed (internal bug)")
        return self.respond(head, response, keep_alive)

    def refuse(self, reject, line=None):
        """Answer a request the server will not serve, and close."""
        warn(f"request from {self.peer}: {reject.why} ({reject.status})")
        if line is None:
            first = bytes(self.reader.buf).split(b"\n", 1)[0].split(b"\r", 1)[0]
            line = show_bytes(first[:200]) if first else "-"
        self.respond(Head("-", "-", 1, []), Response.error(reject.status, reject.why),
                     keep_alive=False, log_line=line)

    def respond(self, head, response, keep_alive, log_line=None):
        """Status line, headers, blank line, body (notes 8.1.4), and the access-log line."""
        # region: response-writer — build out: `HTTP/1.1 STATUS REASON`, Server, Date, response.headers, Content-Length (when has_body), Connection, each line ending \r\n, an empty line, then the body unless HEAD; sent = the body bytes to send
        status = response.status
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}", "Server: mini-http (Python)",
                 f"Date: {http_date(time.time())}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if has_body(status):  # HEAD gets the length a GET would have had (RFC 9110 9.3.2)
            lines.append(f"Content-Length: {response.length()}")
        if not keep_alive:
            lines.append("Connection: close")
        elif head.minor == 0:
            lines.append("Connection: keep-alive")
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sent = 0
        if head.method != "HEAD" and has_body(status):
            sent = response.length()
            if not response.path:
                out += response.body
        # endregion: response-writer
        ok = self.send(out)
        if response.path:
            with response.path[0]:  # the open file: sent (unless HEAD, 304…), then closed
                if ok and sent:
                    ok = self.send_file(*response.path)
        self.answered_at = time.monotonic()
        if self.server.config.access_log:
            try:
                log(f'{self.peer} "{log_line or head.request_line()}" {status} {sent}')
            except OSError:  # stdout's reader has gone (`serve | head`): the line is lost,
                pass         # the connection is not (as mini-http's log ignores the error)
        if not keep_alive or not ok:
            self.close_gently()
            return False
        return True

    def send(self, data):
        self.sock.settimeout(max(self.server.config.idle_timeout, LINGER))
        try:
            self.sock.sendall(data)
            return True
        except OSError as err:
            warn(f"send {self.peer}", err)
            return False

    def send_file(self, file, offset, count):
        """sendfile(2): the kernel copies from the page cache straight into the socket."""
        try:
            self.sock.sendfile(file, offset, count)
            return True
        except OSError as err:
            warn(f"send {file.name} to {self.peer}", err)
            return False

    def close_gently(self):
        """Half-close, then drain what the client still sends until it closes (LINGER at
        most): closing with unread input would send a reset that can destroy the response
        before the client has read it."""
        self.set_state("closing")
        try:
            self.sock.shutdown(socket.SHUT_WR)  # FIN: the client reads EOF after our response
            deadline = time.monotonic() + LINGER
            while time.monotonic() < deadline:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
                if not self.sock.recv(65536):
                    break
        except OSError:
            pass
        raise Closed("closing")


class Server:
    def __init__(self, config, app):
        self.config, self.app = config, app
        self.limits, self.places = Limits(config), Places(config.max_connections)

    def serve_forever(self):
        listener = listen_and_announce(self.config.bind)

        def serve(conn, peer):
            # Responses go whole; never hold their last segment back for an ACK (Nagle).
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            Connection(conn, peer, self).serve()

        serve_each_client(listener, serve, log_connected=False)


# ====================================================================== the client

def parse_url(text):
    """http://HOST[:PORT]/PATH?QUERY -> (authority, host, port, target)."""
    def bad(why):
        fail(f"bad URL {text!r}: {why}")
    if not text.startswith("http://"):
        bad("https needs TLS, which mini-http does not speak; use http://" if text.startswith("https://")
            else "expected http://HOST[:PORT]/PATH")
    rest = text[len("http://"):]
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    authority, target = rest[:cut], rest[cut:] or "/"
    target = ("/" + target if target.startswith("?") else target).split("#", 1)[0]
    if any(c <= " " or c == "\x7f" for c in target):
        bad("spaces and control characters must be %-encoded")
    if not authority or "@" in authority:
        bad("expected a host such as 127.0.0.1:8000")
    if authority.startswith("["):
        host, bracket, after = authority[1:].partition("]")
        if not bracket:
            bad("unclosed [ in the host")
        port = after[1:] if after.startswith(":") else ("80" if not after else None)
        if port is None:
            bad("junk after ]")
    else:
        host, colon, port = authority.rpartition(":")
        if not colon:
            host, port = authority, "80"
    if not port.isdigit() or int(port) > 65535:
        bad("port must be 0-65535")
    if not host:
        bad("empty host")
    return authority, host, int(port), target


def check_header(header):
    """-H 'Name: value': a token name, a colon, no CR or LF anywhere — a CR/LF would end the
    field and start one the user never wrote (header injection). Else usage error, exit 2."""
    def bad(why):
        print(f"error: -H {header!r}: {why}; expected 'Name: value'", file=sys.stderr, flush=True)
        sys.exit(2)
    if "\r" in header or "\n" in header:
        bad("a header cannot contain CR or LF")
    name, colon, value = header.partition(":")
    if not colon:
        bad("no colon")
    if not name or not is_token(name):
        bad("the name must be a token (letters, digits, !#$%&'*+-.^_`|~)")
    if any(ord(c) < 0x20 and c != "\t" or c == "\x7f" for c in value):
        bad("a control character in the value")


class Output:
    """The client's stdout. When its reader has gone (`get URL | head`), end at once and
    quietly, by the SIGPIPE the write would have raised under the default action — and not
    as an `error: send …` line: that would blame the server for a pipe on our side."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, data):
        # A large write may go out in part: after a part, a closed pipe returns the count
        # instead of an error, and the rest would be lost silently. The next write fails.
        view = memoryview(data)
        while view:
            view = view[self._call(self.raw.write, view):]

    def flush(self):
        self._call(self.raw.flush)

    @staticmethod
    def _call(fn, *args):
        try:
            return fn(*args)
        except BrokenPipeError:
            if hasattr(signal, "SIGPIPE"):
                signal.signal(signal.SIGPIPE, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGPIPE)
            os._exit(1)  # no SIGPIPE (Windows): still quietly


def fetch(args):
    """Send each request, print each body (and with -v both heads). Exit 0 once every
    response has arrived, whatever its status — as curl does."""
    method = args.method
    if not method or not all(0x21 <= ord(c) <= 0x7E for c in method):
        print(f"error: method {method!r} must be one word such as GET", file=sys.stderr)
        sys.exit(2)
    for header in args.header:
        check_header(header)
    urls = [parse_url(u) for u in args.urls]
    out = Output(sys.stdout.buffer)
    data = os.fsencode(args.data) if args.data is not None else None
    conn = None
    for i, (authority, host, port, target) in enumerate(urls):
        last = i + 1 == len(urls) or urls[i + 1][0] != authority
        if conn is None or conn[1] != authority:
            addr = ("127.0.0.1" if host.lower() == "localhost" else host, port)
            try:
                sock = traced_tcp(socket.create_connection(addr, timeout=args.timeout), "connect")
            except OSError as err:
                fail(f"connect {show_addr(addr)}", err)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = (Reader(sock), authority, show_addr(sock.getpeername()))
            if args.verbose:
                out.write(f"* connected to {conn[2]} from {show_addr(sock.getsockname())}\n".encode())
        elif args.verbose:
            out.write(b"* reusing the connection (keep-alive)\n")
        reader, _, where = conn
        request = build_request(args, method, authority, target, data, last)
        if args.verbose:
            head_len = len(request) - (len(data) if data else 0)
            show_lines(out, "> ", request[:head_len])
            if data:
                show_lines(out, "> ", request[head_len:])
            out.flush()
        try:
            reader.sock.sendall(request)
            keep = read_response(reader, method, args, out)
        except Closed as err:
            fail(f"recv {where}", err)
        except OSError as err:
            fail(f"send {where}", err)
        if not keep or last:
            reader.sock.close()
            conn = None
    out.flush()


def build_request(args, method, authority, target, data, last):
    version = "HTTP/1.0" if args.http10 else "HTTP/1.1"
    headers = [("Host", authority), ("User-Agent", "mini-http.py"), ("Accept", "*/*")]
    if data is not None:
        headers += [("Content-Type", "application/x-www-form-urlencoded"),
                    ("Content-Length", str(len(data)))]
    elif method in ("POST", "PUT"):
        headers.append(("Content-Length", "0"))
    if last and not args.http10:
        headers.append(("Connection", "close"))
    elif not last and args.http10:
        headers.append(("Connection", "keep-alive"))
    for line in args.header:  # -H 'Name: value' replaces a default; 'Name:' removes it
        name, _, value = (part.strip() for part in line.partition(":"))
        headers = [(n, v) for n, v in headers if n.lower() != name.lower()]
        if value:
            headers.append((name, value))
    text = f"{method} {target} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return text.encode("utf-8", "surrogateescape") + (data or b"")


def show_lines(out, prefix, data):
    text = data[:-2] if data.endswith(b"\r\n") else data
    for line in text.split(b"\n"):
        line = line[:-1] if line.endswith(b"\r") else line
        out.write((f"{prefix}{show_bytes(line)}" if line else prefix.rstrip()).encode() + b"\n")


class Unlimited:
    max_body = max_header_bytes = 1 << 62


def read_response(reader, method, args, out):
    """One response (1xx interim ones skipped): the head, then a body ended by
    Content-Length, by chunked coding, or by the server closing. True: reusable."""
    def deadline():
        return time.monotonic() + args.timeout, None
    while True:
        end = -1
        while end < 0:
            end = reader.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(reader.buf) > 65536:
                    raise Closed("response head larger than 64 KiB")
                reader.fill(*deadline())
        head = bytes(reader.buf[:end + 4])
        del reader.buf[:end + 4]
        if args.verbose:
            show_lines(out, "< ", head)
            out.flush()
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ")
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise Closed(f"malformed response: {lines[0]!r}")
        status = int(status_line[1])
        if 100 <= status < 200 and status != 101:
            continue  # 100 Continue: the real response follows
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                fields.setdefault(name.strip().lower(), value.strip())
        closes = "close" in [t.strip().lower() for t in fields.get("connection", "").split(",")]
        if method == "HEAD" or status in (204, 304):
            return not closes
        if fields.get("transfer-encoding", "").lower().rstrip().endswith("chunked"):
            try:
                out.write(read_chunked(reader, Unlimited, deadline))
            except Reject as err:
                raise Closed(err.why) from None
            return not closes
        if "content-length" in fields and fields["content-length"].isdigit():
            out.write(reader.exactly(int(fields["content-length"]), deadline))
            return not closes
        try:  # neither: the body ends when the server closes the connection
            while True:
                out.write(bytes(reader.buf))
                reader.buf.clear()
                reader.fill(*deadline())
        except Closed:
            return False


# ====================================================================== arguments

def seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds between 0 and 86400 "
                                         "(0.5 is fine)")
    return value


def ranged(low, high):
    def check(text):
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from {low} to {high}")
        return int(text)
    return check


def main():
    # SIGPIPE stays ignored, as Python starts (and as Rust's runtime sets it): a send on a
    # connection the peer has reset is then an EPIPE error for that connection alone. With
    # SIGPIPE's default action the kernel would kill the whole server — every connection —
    # the moment one client closed with responses still in flight (a load generator does,
    # each time it stops). The client's `get URL | head` ends quietly through Output.
    parser = argparse.ArgumentParser(
        prog="mini-http", description="Lesson 8: a small HTTP/1.1 server and client over TCP. "
                                      "With no subcommand, serves the built-in demo site on "
                                      "127.0.0.1:8000.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", usage="mini-http serve [OPTIONS]", help="serve HTTP: the demo site, or the files under --root")
    serve.add_argument("--bind", type=parse_addr, default="127.0.0.1:8000", metavar="ADDR",
                       help="address to listen on [default: 127.0.0.1:8000]")
    serve.add_argument("--root", metavar="DIR", help="serve the files under DIR (default: the demo site)")
    serve.add_argument("--auth", metavar="USER:PASS", help="protect /private/ with HTTP Basic auth")
    serve.add_argument("--allow-write", action="store_true",
                       help="let PUT and DELETE create, replace and remove files under --root")
    serve.add_argument("--max-connections", type=ranged(1, 2**32 - 1), default=1024, metavar="N",
                       help="connections open at once; when full a newcomer takes the place of the "
                            "longest-idle one, else of the oldest unfinished head; 503 only if all "
                            "are mid-request [default: 1024]")
    serve.add_argument("--threads", type=ranged(0, 1024), default=0, metavar="N",
                       help="accepted as mini-http takes it; this version runs one thread per "
                            "connection instead of N event loops [default: 0]")
    serve.add_argument("--head-timeout", type=seconds, default=60.0, metavar="SECS",
                       help="seconds a client may take to send a request head (or stall a body): "
                            "else 408 [default: 60]")
    serve.add_argument("--idle-timeout", type=seconds, default=15.0, metavar="SECS",
                       help="seconds an idle keep-alive connection stays open [default: 15]")
    serve.add_argument("--max-request-line", type=ranged(1, 2**31), default=8192, metavar="N",
                       help="longest request line in bytes: else 414 [default: 8192]")
    serve.add_argument("--max-header-bytes", type=ranged(1, 2**31), default=16384, metavar="N",
                       help="largest header section in bytes: else 431 [default: 16384]")
    serve.add_argument("--max-headers", type=ranged(1, 256), default=100, metavar="N",
                       help="most header fields: else 431 [default: 100]")
    serve.add_argument("--max-body", type=ranged(0, 2**63), default=8 << 20, metavar="N",
                       help="largest request body in bytes: else 413 [default: 8388608]")
    serve.add_argument("--no-access-log", dest="access_log", action="store_false",
                       help="do not print the access log (one line per request)")

    def client_options(p):
        p.add_argument("-v", "--verbose", action="store_true",
                       help="show the request sent (> ) and the response head received (< )")
        p.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'",
                       help="extra header (repeatable); 'Name:' removes a default one")
        p.add_argument("--timeout", type=seconds, default=30.0, metavar="SECS",
                       help="seconds to wait for the connection and each read [default: 30]")
        p.add_argument("--http1.0", dest="http10", action="store_true", help="send HTTP/1.0")

    get = commands.add_parser("get", usage="mini-http get [OPTIONS] URL...", help="GET one or more URLs and print the bodies")
    get.add_argument("urls", nargs="+", metavar="URL", help="http://HOST[:PORT]/PATH[?QUERY]")
    client_options(get)
    request = commands.add_parser("request", usage="mini-http request [OPTIONS] METHOD URL...", help="send any method, with an optional body and headers")
    request.add_argument("method", metavar="METHOD", help="GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, …")
    request.add_argument("urls", nargs="+", metavar="URL", help="http://HOST[:PORT]/PATH[?QUERY]")
    request.add_argument("-d", "--data", help="request body (sent as application/x-www-form-urlencoded)")
    client_options(request)

    add_trace_arg(serve, get, request)
    argv = sys.argv[1:]
    subparsers = {"get": get, "request": request}
    if argv[:1] and argv[0] in subparsers:  # options after URLs, as clap allows (README)
        args = subparsers[argv[0]].parse_intermixed_args(argv[1:], argparse.Namespace(command=argv[0]))
    else:
        args = parser.parse_args(argv)
    if args.command is None:  # no subcommand: exactly `serve` with every default
        args = serve.parse_args([], argparse.Namespace(command="serve"))
    start_trace("mini-http", args.trace)
    if args.command in (None, "serve"):
        run_server(serve, args)
    else:
        if args.command == "get":
            args.method, args.data = "GET", None
        fetch(args)


def run_server(serve, args):
    if args.allow_write and not args.root:
        serve.error("--allow-write needs --root DIR: there is nothing to write to")
    if args.auth is not None and ":" not in args.auth:
        serve.error(f"--auth {args.auth!r}: expected USER:PASS")
    files = None
    if args.root is not None:
        try:
            files = Files(args.root, args.allow_write)
        except OSError as err:
            fail(f"document root {args.root}", err)
    Server(args, App(files, args.auth)).serve_forever()


if __name__ == "__main__":
    main()
