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
#
# Every step waits for the state it shows (the server really stopped, its
# queue drained, the client's send queue full), so the run is the same on a
# busy machine. The two halves are independent: if one fails, the other still
# runs, and the script exits 1 naming the half that failed.
# shellcheck source=lessons/05-tcp-vs-udp/_lib.sh
source "$(dirname "$0")/_lib.sh"
# Each half checks its own steps and returns 1 on the first failure, instead
# of relying on set -e (which bash switches off inside a function called as
# `half || …`, so it would hide failures rather than stop at them).
set +e

# queue PROTO FILTER COLUMN: the Recv-Q (2) or Send-Q (3) of the first socket
# matching FILTER, as ss reports it (columns: State Recv-Q Send-Q …).
queue() {
    local proto=$1 filter=$2 column=$3
    ss -Hn "-$proto" -a "$filter" | awk -v c="$column" 'NR == 1 { print $c }'
}
udp_queue_is_empty() { [[ $(queue u "sport = :$port" 2) == 0 ]]; }
# The client's Send-Q has stopped growing: the server's window is closed and
# the client is blocked in send. Two samples 200 ms apart, both non-zero.
tcp_send_queue_is_full() {
    local before after
    before=$(queue t "dport = :$port" 3)
    sleep 0.2
    after=$(queue t "dport = :$port" 3)
    [[ -n $before && $before != 0 && $before == "$after" ]]
}

udp_half() {
    heading "UDP: 1000 datagrams into a receiver that does not read"
    start_server "$work/udp.log" "$bin/udp-echo" server --bind 127.0.0.1:0 || return 1
    show cat /proc/sys/net/core/rmem_default
    show nstat -asz UdpRcvbufErrors
    show kill -STOP "$server_pid" || return 1
    wait_until 10 "udp-echo server $server_pid to stop" is_stopped "$server_pid" || return 1
    show python3 lessons/05-tcp-vs-udp/burst.py "$port" --count 1000 || return 1
    show ss -uan "sport = :$port"
    show nstat -asz UdpRcvbufErrors
    show kill -CONT "$server_pid" || return 1
    # One more datagram, through the client, once the server has worked
    # through its queue: sent into a full queue it would be dropped too.
    echo "(waiting until the server has read everything queued: Recv-Q 0)"
    wait_until 30 "the server's receive queue to drain" udp_queue_is_empty || return 1
    show "$bin/udp-echo" client "$addr" last! || return 1
    echo "datagrams the server received out of the 1000 (udp.log is its stdout):"
    (cd "$work" && show grep -c '^recv 4 bytes' udp.log)
}

tcp_half() {
    heading "TCP: 10 MB into a receiver that does not read"
    start_server "$work/tcp.log" "$bin/tcp-echo" server --bind 127.0.0.1:0 --quiet --max-clients 1 ||
        return 1
    local server=$server_pid client echoed
    show kill -STOP "$server" || return 1
    wait_until 10 "tcp-echo server $server to stop" is_stopped "$server" || return 1
    echo "\$ head -c 10000000 /dev/zero | target/debug/tcp-echo client $addr | wc -c  &"
    head -c 10000000 /dev/zero | "$bin/tcp-echo" client "$addr" | wc -c >"$work/echoed" &
    client=$!
    pids+=("$client")
    wait_until 30 "the client's send queue to fill" tcp_send_queue_is_full || return 1
    echo "(once the client's Send-Q stops growing: it is blocked in send, nothing is lost)"
    show ss -tn "( sport = :$port or dport = :$port )"
    show kill -CONT "$server" || return 1
    wait "$client" || return 1
    echoed=$(<"$work/echoed")
    echo "bytes echoed back to the client: $echoed"
    wait "$server" || return 1
    server_log "$work/tcp.log"
    [[ $echoed == 10000000 ]] || {
        echo "error: the client got $echoed bytes back, not 10000000" >&2
        return 1
    }
}

failed=()
udp_half || failed+=(UDP)
tcp_half || failed+=(TCP)
if ((${#failed[@]})); then
    echo "error: loss.sh: the ${failed[*]} half failed (see above)" >&2
    exit 1
fi
