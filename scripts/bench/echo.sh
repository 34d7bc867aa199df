#!/usr/bin/env bash
# scripts/bench/echo.sh — what ten thousand clients cost each kind of echo server (lesson 9)
#
# Starts each server in turn on loopback and measures it from other processes:
#
#   threads, poll, async   tcp-echo server --model M --quiet (release build)
#   py-selectors           lessons/09-many-clients/many_clients.py --model poll
#   py-threads             lessons/01-tcp-transfer/tcp_echo.py (a thread per client)
#
# For each one:
#   RSS            the server's resident memory (VmRSS, summed over its process
#                  group) with 1,000 and with 10,000 idle clients, and the
#                  growth per client between the two
#   kernel         Slab + KernelStack of /proc/meminfo, growth per client from
#                  1,000 to 10,000: both ends' sockets, epoll entries, a kernel
#                  stack per thread (system-wide: noisy on a busy machine)
#   latency        with the 10,000 idle clients open, a newcomer's 32-byte echo
#                  round trips: median and p99 of --rounds
#   throughput     100 `tcp-echo client --bench` streaming at once (--bytes
#                  each): MiB/s of echo, and the server's CPU time per GiB
#   non-reader     a client that sends 32 MiB (64 KiB writes, giving up after
#                  1 s without progress) and never reads: what got in, the
#                  server's RSS then, and another client's echo time meanwhile
# On a machine with 2 cores or more, the server runs on CPU 0 alone and
# every client on the others (taskset): each model gets one core, however
# many threads it has, and never competes with its clients for it (--no-pin:
# no such split, as a server usually runs).
# Ratios are to the poll model in the same run. The idle clients are held by
# this script's own Python process (each sent one byte and got its echo, so
# it is accepted and served); the 100 bench clients are the release tcp-echo
# client, each a process of its own.
#
# Usage: scripts/bench/echo.sh [--servers LIST] [--idle N] [--rounds N] [--bytes SIZE] [--no-pin]
#   --servers LIST  comma-separated, from the five above  [default: all]
#   --idle N        idle clients at the top, over 1000    [default: 10000]
#   --rounds N      newcomer round trips                  [default: 2000]
#   --bytes SIZE    bytes each of 100 bench clients sends [default: 8M]
# Loopback only. Needs Linux (/proc) and an open-file limit above 2 x idle.
# Figures are printed, never checked: compare within one run, as ratios.

set -euo pipefail
cd "$(dirname "$0")/../.."

servers=threads,poll,async,py-selectors,py-threads
idle=10000
rounds=2000
bytes=8M
pin=1

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --servers) servers="${2:?--servers needs a list}"; shift 2 ;;
    --idle) idle="${2:?--idle needs a number}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
    --bytes) bytes="${2:?--bytes needs a size}"; shift 2 ;;
    --no-pin) pin=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for number in "$idle" "$rounds"; do
    case "$number" in
    '' | *[!0-9]*) echo "error: '$number' is not a whole number" >&2; exit 2 ;;
    esac
done
if [ "$idle" -le 1000 ]; then
    echo "error: --idle must be more than 1000 (the first measurement is at 1,000, and the growth per client is measured from there)" >&2
    exit 2
fi
if [ ! -r /proc/meminfo ]; then
    echo "error: scripts/bench/echo.sh needs Linux's /proc" >&2
    exit 1
fi

target="${CARGO_TARGET_DIR:-target}"
echo "building tcp-echo (release) …" >&2
cargo build -q --release -p tcp-echo
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
exec python3 - "$target/release/tcp-echo" "$servers" "$idle" "$rounds" "$bytes" "$pin" <<'PY'
import os, resource, signal, socket, statistics, subprocess, sys, threading, time

exe, servers, idle, rounds, size = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
# The server on CPU 0, everything else (this script, its clients) on the rest.
cores = os.sched_getaffinity(0)
PIN = sys.argv[6] == "1" and len(cores) >= 2 and 0 in cores
if PIN:
    os.sched_setaffinity(0, cores - {0})
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

COMMANDS = {
    "threads": [exe, "server", "--model", "threads"],
    "poll": [exe, "server", "--model", "poll"],
    "async": [exe, "server", "--model", "async"],
    "py-selectors": ["python3", "lessons/09-many-clients/many_clients.py", "server", "--model", "poll"],
    "py-threads": ["python3", "lessons/01-tcp-transfer/tcp_echo.py", "server"],
}
for name in servers:
    if name not in COMMANDS:
        sys.exit(f"error: unknown server '{name}' (known: {', '.join(COMMANDS)})")

def group_pids(pgid):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def rss_kib(pgid):
    total = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def threads(pgid):
    return sum(len(os.listdir(f"/proc/{pid}/task")) for pid in group_pids(pgid) if os.path.isdir(f"/proc/{pid}/task"))


def cpu_seconds(pgid):
    """User + system time of every process in the group, exited threads included."""
    total = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def kernel_kib():
    values = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0])
    return values["Slab"] + values["KernelStack"]


def settle():
    time.sleep(1.0)


def echo_each(conns):
    """One byte out and back on each new connection: accepted and served."""
    for s in conns:
        s.sendall(b"x")
    for s in conns:
        if s.recv(1) != b"x":
            raise SystemExit("error: an idle client got no echo")


def hold(addr, count, conns):
    while len(conns) < count:
        batch = []
        for _ in range(min(500, count - len(conns))):
            s = socket.create_connection(addr, timeout=30)
            batch.append(s)
        echo_each(batch)
        conns.extend(batch)


def latency(addr):
    s = socket.create_connection(addr, timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    message = b"m" * 32
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        s.sendall(message)
        got = b""
        while len(got) < len(message):
            more = s.recv(64)
            if not more:
                raise SystemExit("error: the server closed the latency client")
            got += more
        times.append(time.perf_counter() - started)
    s.close()
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99) - 1] * 1e6


def throughput(addr, pgid):
    per = size
    before = cpu_seconds(pgid)
    started = time.perf_counter()
    procs = [subprocess.Popen([exe, "client", f"{addr[0]}:{addr[1]}", "--bench", per],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(100)]
    failed = 0
    for p in procs:
        _, err = p.communicate()
        failed += p.returncode != 0
    seconds = time.perf_counter() - started
    after = cpu_seconds(pgid)
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    n = int(per[:-1]) * units[per[-1].upper()] if per[-1].upper() in units else int(per)
    mib = 100 * n / (1 << 20)
    return mib / seconds, (after - before) / mib * 1024, failed


def never_reader(addr, pgid):
    s = socket.create_connection(addr, timeout=10)
    s.settimeout(1.0)
    chunk, sent = b"n" * 65536, 0
    while sent < 32 << 20:
        try:
            sent += s.send(chunk)
        except (socket.timeout, BlockingIOError):
            break
    settle()
    rss = rss_kib(pgid)
    other = socket.create_connection(addr, timeout=10)
    started = time.perf_counter()
    other.sendall(b"ping")
    got = b""
    while len(got) < 4:
        more = other.recv(4)
        if not more:
            break
        got += more
    waited = time.perf_counter() - started
    other.close()
    s.close()
    return sent / (1 << 20), rss, waited * 1e3


def start(name):
    command = COMMANDS[name] + ["--bind", "127.0.0.1:0", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True, text=True,
                            preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if PIN else None)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"error: {name}: expected `listening on ADDR`, got {line!r}")
    host, port = line[len("listening on "):].rsplit(":", 1)

    # Drain stdout (connected lines) so the server never blocks on the pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, (host, int(port))


results = {}
for name in servers:
    proc, addr = start(name)
    pgid = proc.pid
    conns = []
    try:
        settle()
        base_kernel = kernel_kib()
        hold(addr, 1000, conns)
        settle()
        rss1, kern1 = rss_kib(pgid), kernel_kib()
        hold(addr, idle, conns)
        settle()
        rss2, kern2 = rss_kib(pgid), kernel_kib()
        nthreads = threads(pgid)
        med, p99 = latency(addr)
        for s in conns:
            s.close()
        conns = []
        settle()
        mibs, cs, failed = throughput(addr, pgid)
        nr_sent, nr_rss, nr_echo = never_reader(addr, pgid)
    finally:
        for s in conns:
            s.close()
        os.killpg(pgid, signal.SIGKILL)
        proc.wait()
    grow = idle - 1000
    results[name] = dict(rss1=rss1, rss2=rss2, per=(rss2 - rss1) * 1024 / grow,
                         kper=(kern2 - kern1) * 1024 / grow, threads=nthreads,
                         med=med, p99=p99, mibs=mibs, cs=cs, failed=failed,
                         nr_sent=nr_sent, nr_rss=nr_rss, nr_echo=nr_echo)
    r = results[name]
    print(f"{name}: RSS {rss1 / 1024:.1f} MiB at 1,000, {rss2 / 1024:.1f} MiB at {idle:,} "
          f"({r['per']:.0f} B per client), kernel {r['kper']:.0f} B per client, {nthreads} threads; "
          f"newcomer echo median {med:.0f} us, p99 {p99:.0f} us; 100 clients {mibs:.0f} MiB/s, "
          f"{cs:.1f} CPU s per GiB; a non-reader got {nr_sent:.1f} MiB in, RSS then "
          f"{nr_rss / 1024:.1f} MiB, another echo took {nr_echo:.1f} ms"
          + (f"; {failed} bench clients FAILED" if failed else ""),
          file=sys.stderr, flush=True)

print()
print(f"| server | RSS at 1,000 | RSS at {idle:,} | RSS per client | kernel per client | threads | "
      "echo median | echo p99 | 100 clients | vs poll | CPU per GiB | non-reader: in, RSS, other echo |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
ref = results.get("poll")
for name, r in results.items():
    ratio = f"{r['mibs'] / ref['mibs']:.2f}" if ref else "–"
    print(f"| {name} | {r['rss1'] / 1024:.1f} MiB | {r['rss2'] / 1024:.1f} MiB | {r['per'] / 1024:.2f} KiB | "
          f"{r['kper'] / 1024:.2f} KiB | {r['threads']} | {r['med']:.0f} µs | {r['p99']:.0f} µs | "
          f"{r['mibs']:.0f} MiB/s | {ratio} | {r['cs']:.1f} s | "
          f"{r['nr_sent']:.1f} MiB, {r['nr_rss'] / 1024:.1f} MiB, {r['nr_echo']:.1f} ms |")
with open("/proc/loadavg") as f:
    print(f"\nload at the end: {' '.join(f.read().split()[:3])}")
PY
