#!/usr/bin/env bash
# cost.sh — lesson 5, difference 4: what each client costs a TCP server and
# a UDP server, in sockets, threads and system calls.
#
#   lessons/05-tcp-vs-udp/cost.sh
#
# Part 1 holds 100 clients open and looks at each server from /proc. Part 2
# counts the system calls each server makes for 100 clients with
# `strace -c -f` (apt-get install strace).
# shellcheck source=lessons/05-tcp-vs-udp/_lib.sh
source "$(dirname "$0")/_lib.sh"

# held PID: the server's open sockets and threads.
held() {
    local sockets threads
    sockets=$(find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l)
    threads=$(sed -n 's/^Threads:\s*//p' "/proc/$1/status")
    echo "    server pid $1: $sockets sockets, $threads threads"
}

# hold_clients PROTOCOL: 100 clients that stay open; returns once all echoed.
hold_clients() {
    python3 lessons/05-tcp-vs-udp/clients.py "$1" "$port" 100 --hold >"$work/hold.out" &
    holder=$!
    pids+=("$holder")
    for _ in $(seq 400); do
        grep -q 'echoed' "$work/hold.out" && break
        sleep 0.05
    done
    echo "\$ python3 lessons/05-tcp-vs-udp/clients.py $1 $port 100 --hold &"
    cat "$work/hold.out"
}

heading "1. sockets and threads held for 100 open clients"
start_server "$work/tcp.log" "$bin/tcp-echo" server --bind 127.0.0.1:0 --quiet
echo "tcp-echo server at $addr, before any client:"
held "$server_pid"
hold_clients tcp
held "$server_pid"
kill "$holder"

start_server "$work/udp.log" "$bin/udp-echo" server --bind 127.0.0.1:0
echo "udp-echo server at $addr, before any client:"
held "$server_pid"
hold_clients udp
held "$server_pid"
kill "$holder"

if ! command -v strace >/dev/null; then
    echo "strace is not installed: part 2 skipped (apt-get install strace)"
    exit 0
fi

heading "2. system calls the server makes for 100 clients (strace -c -f)"
start_server "$work/tcp.log" strace -c -f -S calls -o "$work/tcp.strace" \
    "$bin/tcp-echo" server --bind 127.0.0.1:0 --max-clients 100
show python3 lessons/05-tcp-vs-udp/clients.py tcp "$port" 100
wait "$server_pid" || true
echo "closed connections the clients' side keeps in TIME_WAIT (for 60 s on Linux):"
echo "    $(ss -tan state time-wait "( dport = :$port )" | tail -n +2 | wc -l)"
echo "tcp-echo server (--max-clients 100):"
sed 's/^/    /' "$work/tcp.strace"

start_server "$work/udp.log" strace -c -f -S calls -o "$work/udp.strace" \
    "$bin/udp-echo" server --bind 127.0.0.1:0 --count 100
show python3 lessons/05-tcp-vs-udp/clients.py udp "$port" 100
wait "$server_pid" || true
echo "udp-echo server (--count 100):"
sed 's/^/    /' "$work/udp.strace"
