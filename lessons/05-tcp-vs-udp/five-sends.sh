#!/usr/bin/env bash
# five-sends.sh — lesson 5, difference 3: a TCP stream has no message
# boundaries, UDP datagrams keep theirs.
#
#   lessons/05-tcp-vs-udp/five-sends.sh
#
# The same five one-byte sends, a b c d e, first over TCP to a server that
# waits 200 ms before each recv (sticky-demo, lesson 2), then over UDP to
# udp-echo — once through its client, once all five queued at the same time
# while the server is stopped (SIGSTOP), the case where TCP merges them.
# shellcheck source=lessons/05-tcp-vs-udp/_lib.sh
source "$(dirname "$0")/_lib.sh"

heading "TCP: five sends into one byte stream"
start_server "$work/tcp.log" "$bin/sticky-demo" server --bind 127.0.0.1:0 \
    --framing none --read-delay 200 --max-clients 1
show "$bin/sticky-demo" client --framing none "$addr" a b c d e
wait "$server_pid" || true
server_log "$work/tcp.log"

heading "UDP: five sends, five datagrams"
start_server "$work/udp.log" "$bin/udp-echo" server --bind 127.0.0.1:0 --count 10
show "$bin/udp-echo" client "$addr" a b c d e
echo "(now all five at once, queued while the server is stopped)"
show kill -STOP "$server_pid"
show python3 lessons/05-tcp-vs-udp/burst.py "$port" a b c d e
show ss -uan "sport = :$port"
show kill -CONT "$server_pid"
wait "$server_pid" || true
server_log "$work/udp.log"
