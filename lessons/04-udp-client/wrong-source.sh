#!/usr/bin/env bash
# wrong-source.sh — lesson 4: a reply that comes back from the wrong address.
#
#   cargo build -p udp-echo && lessons/04-udp-client/wrong-source.sh
#
# A server bound to the wildcard address 0.0.0.0 receives datagrams sent to
# any of the machine's addresses, but its replies leave from whatever source
# address the routing table picks. Ask it at 127.0.0.2 and the answer comes
# from 127.0.0.1: a careful client does not take that for the reply.
#
# To keep the wildcard server off every real network, the script runs it in a
# private network namespace of its own (only a loopback interface in it),
# which disappears when the script ends. It needs `unshare` (util-linux) and
# either root or unprivileged user namespaces.
set -euo pipefail

bin=${UDP_ECHO:-target/debug/udp-echo}
if [[ ! -x $bin ]]; then
    echo "error: $bin not found: run 'cargo build -p udp-echo' first (or set UDP_ECHO)" >&2
    exit 1
fi

if [[ ${1:-} != --inside ]]; then
    # -r: become root in a new user namespace (not needed when already root);
    # -n: a new network namespace, torn down when the last process leaves.
    if [[ $(id -u) == 0 ]]; then
        exec unshare -n "$0" --inside
    else
        exec unshare -rn "$0" --inside
    fi
fi

ip link set lo up

show() {
    echo "\$ $*"
    "$@" || echo "(exit status $?)"
}

echo "\$ ip route get 127.0.0.2"
ip route get 127.0.0.2 | head -1

"$bin" server --bind 0.0.0.0:9003 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
# Wait for the server's socket rather than for a fixed time.
for _ in $(seq 100); do
    ss -uln | grep -q ':9003 ' && break
    sleep 0.05
done

show "$bin" client 127.0.0.2:9003 hello
show "$bin" client --connect 127.0.0.2:9003 hello
show "$bin" client 127.0.0.1:9003 hello
