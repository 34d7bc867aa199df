#!/usr/bin/env bash
# scripts/bench/sticky.sh — how fast can messages cross loopback? (lesson 2)
#
# Sends small length-prefixed messages from `sticky-demo client --bench` to
# `sticky-demo server --quiet`, four ways, and prints messages per second:
#
#   client buffered   + server buffered     (256 KiB writes, 64 KiB reads)
#   client unbuffered + server buffered     (one send per message)
#   client buffered   + server unbuffered   (recv the header, recv the body)
#   client unbuffered + server unbuffered   (the naive program on both sides)
#
# Every figure is the best of --runs runs, timed by the client from its first
# send until the server has read everything and closed (so the server's
# decoding is included). Both programs run on this machine at once, so on a
# 2-core machine each has one core at best; other load makes the figures
# lower and noisier. Compare the ratios within one run, not across machines.
#
# Usage: scripts/bench/sticky.sh [--count N] [--size BYTES] [--runs R] [--framing line|length]
#   --count N     messages per buffered run      [default: 10000000]
#                 (runs with an unbuffered side send N/10: they are that much slower)
#   --size BYTES  bytes in each message          [default: 32]
#   --runs R      runs of each kind; best shown  [default: 3]
#   --framing F   line or length                 [default: length]
# The program: IMPL_STICKY_DEMO (a command line, as for the tests), else a
# release build made here in $CARGO_TARGET_DIR or target/. Loopback only.

set -euo pipefail
cd "$(dirname "$0")/../.."

count=10000000
size=32
runs=3
framing=length

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --count) count="${2:?--count needs a number}"; shift 2 ;;
    --size) size="${2:?--size needs a number}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --framing) framing="${2:?--framing needs line or length}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for number in "$count" "$runs"; do
    case "$number" in
    '' | *[!0-9]*) echo "error: '$number' is not a whole number" >&2; exit 2 ;;
    esac
done
case "$framing" in
line | length) ;;
*) echo "error: --framing must be line or length, not '$framing'" >&2; exit 2 ;;
esac

if [ -n "${IMPL_STICKY_DEMO:-}" ]; then
    read -r -a program <<< "$IMPL_STICKY_DEMO"
else
    echo "building sticky-demo (release)…" >&2
    cargo build --release -q -p sticky-demo
    program=("${CARGO_TARGET_DIR:-target}/release/sticky-demo")
fi

tmp=$(mktemp -d)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# Start a quiet server on a free loopback port; sets $addr.
start_server() {
    "${program[@]}" server --bind 127.0.0.1:0 --framing "$framing" --quiet "$@" \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    addr=""
    for _ in $(seq 1 500); do
        addr=$(sed -n '1s/^listening on //p' "$tmp/server.out")
        [ -n "$addr" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.02
    done
    echo "error: the server did not print 'listening on ADDR':" >&2
    cat "$tmp/server.err" >&2
    exit 1
}

# best_rate N CLIENT-FLAGS...: the best messages/s of $runs runs.
best_rate() {
    local n=$1
    shift
    local best=0 line rate
    for _ in $(seq 1 "$runs"); do
        line=$("${program[@]}" client "$addr" --framing "$framing" --bench "$n" --size "$size" "$@")
        rate=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9][0-9]*\) messages\/s.*/\1/p')
        [ -n "$rate" ] || { echo "error: no 'messages/s' in: $line" >&2; exit 1; }
        [ "$rate" -gt "$best" ] && best=$rate
    done
    echo "$best"
}

small=$((count / 10))
[ "$small" -gt 0 ] || small=1
printf 'sticky-demo bench: %s-byte messages, %s framing, best of %s runs, %s cores\n\n' \
    "$size" "$framing" "$runs" "$(nproc 2>/dev/null || echo '?')"
printf '%-12s %-12s %12s %16s %8s\n' client server messages messages/s "vs best"

start_server
bb=$(best_rate "$count")
s_bb=$(tail -n 1 "$tmp/server.out")
ub=$(best_rate "$small" --unbuffered)
s_ub=$(tail -n 1 "$tmp/server.out")
stop_server

start_server --unbuffered
bu=$(best_rate "$small")
s_bu=$(tail -n 1 "$tmp/server.out")
uu=$(best_rate "$small" --unbuffered)
s_uu=$(tail -n 1 "$tmp/server.out")
stop_server

ratio() { awk -v a="$1" -v b="$bb" 'BEGIN { printf "%.3f", a / b }'; }
printf '%-12s %-12s %12s %16s %8s\n' buffered buffered "$count" "$bb" 1.000
printf '%-12s %-12s %12s %16s %8s\n' unbuffered buffered "$small" "$ub" "$(ratio "$ub")"
printf '%-12s %-12s %12s %16s %8s\n' buffered unbuffered "$small" "$bu" "$(ratio "$bu")"
printf '%-12s %-12s %12s %16s %8s\n' unbuffered unbuffered "$small" "$uu" "$(ratio "$uu")"
printf '\nthe server'"'"'s summary of the last run of each kind (reads = recv calls):\n'
printf '  %-24s %s\n' "buffered, buffered:" "$s_bb" "unbuffered, buffered:" "$s_ub" \
    "buffered, unbuffered:" "$s_bu" "unbuffered, unbuffered:" "$s_uu"
