#!/usr/bin/env bash
# handshake.sh — lesson 5, differences 1 and 2: the packets of one echo over
# TCP (handshake, data, close) and over UDP (two datagrams).
#
#   cargo build && sudo lessons/05-tcp-vs-udp/handshake.sh   # tcpdump needs root (or CAP_NET_RAW)
#
# Captures on the loopback interface only, and only the two servers' ports.
# shellcheck source=lessons/05-tcp-vs-udp/_lib.sh
source "$(dirname "$0")/_lib.sh"

if ! command -v tcpdump >/dev/null; then
    echo "error: tcpdump is not installed (apt-get install tcpdump)" >&2
    exit 1
fi

start_server "$work/tcp.log" "$bin/tcp-echo" server --bind 127.0.0.1:0
tcp_port=$port tcp_addr=$addr
start_server "$work/udp.log" "$bin/udp-echo" server --bind 127.0.0.1:0
udp_port=$port udp_addr=$addr

# -l: line-buffered, -n: no name lookups.
tcpdump -i lo -n -l "tcp port $tcp_port or udp port $udp_port" >"$work/packets" 2>"$work/tcpdump.err" &
tcpdump=$!
pids+=("$tcpdump")
for _ in $(seq 100); do
    grep -qs 'listening on' "$work/tcpdump.err" && break
    sleep 0.05
done

heading "TCP"
show "$bin/tcp-echo" client "$tcp_addr" hello
heading "UDP"
show "$bin/udp-echo" client "$udp_addr" hello

sleep 0.5 # let tcpdump write out the last packets (a demonstration, not a test)
kill -INT "$tcpdump"
wait "$tcpdump" || true

heading "packets on lo"
echo "(TCP server port $tcp_port, UDP server port $udp_port)"
# Drop the timestamps and the TCP options (window scaling, timestamps …):
# keep what each packet is.
grep " IP " "$work/packets" | cut -d" " -f2- | sed 's/, options \[[^]]*\]//'
echo "$(grep -c " IP " "$work/packets") packets: $(grep -c " IP .* > .*Flags" "$work/packets") TCP, $(grep -c "UDP, length" "$work/packets") UDP"
