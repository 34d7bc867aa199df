#!/usr/bin/env bash
# loss.sh — lesson 5, difference 5: TCP makes a fast sender wait, UDP lets the
# receiver drop.
#
#   lessons/05-tcp-vs-udp/loss.sh
#
# A receiver that does not read (stopped with SIGSTOP) and a sender that sends
# 1000 datagrams anyway. Every sendto succeeds; the server's receive queue
# fills; the kernel throws the rest away and counts them (UdpRcvbufErrors,
# a machine-wide counter). Then the same with TCP: the sender blocks instead,
# and every byte arrives once the receiver reads again.
source "$(dirname "$0")/_lib.sh"

heading "UDP: 1000 datagrams into a receiver that does not read"
start_server "$work/udp.log" "$bin/udp-echo" server --bind 127.0.0.1:0
show cat /proc/sys/net/core/rmem_default
show nstat -asz UdpRcvbufErrors
show kill -STOP "$server_pid"
show python3 lessons/05-tcp-vs-udp/burst.py "$port" --count 1000
show ss -uan "sport = :$port"
show nstat -asz UdpRcvbufErrors
show kill -CONT "$server_pid"
# One more datagram, through the client: its reply comes once the server has
# worked through everything queued before it.
show "$bin/udp-echo" client "$addr" last!
echo "datagrams the server received out of the 1000 (udp.log is its stdout):"
(cd "$work" && show grep -c '^recv 4 bytes' udp.log)

heading "TCP: 10 MB into a receiver that does not read"
start_server "$work/tcp.log" "$bin/tcp-echo" server --bind 127.0.0.1:0 --quiet --max-clients 1
show kill -STOP "$server_pid"
echo "\$ head -c 10000000 /dev/zero | target/debug/tcp-echo client $addr | wc -c  &"
head -c 10000000 /dev/zero | "$bin/tcp-echo" client "$addr" | wc -c >"$work/echoed" &
client=$!
pids+=("$client")
sleep 1 # a demonstration, not a test: give the buffers a moment to fill
echo "(one second later: the client is blocked in send, nothing is lost)"
show ss -tn "( sport = :$port or dport = :$port )"
show kill -CONT "$server_pid"
wait "$client"
echo "bytes echoed back to the client: $(cat "$work/echoed")"
wait "$server_pid" || true
server_log "$work/tcp.log"
