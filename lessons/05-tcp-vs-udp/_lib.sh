# shellcheck shell=bash
# Shared by the lesson 5 scripts (sourced, not run): build the programs, start
# servers on free loopback ports, print each command before running it, and
# stop everything on exit.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin="${CARGO_TARGET_DIR:-target}/debug"
if command -v cargo >/dev/null; then
    cargo build -q -p tcp-echo -p sticky-demo -p udp-echo
fi
# Under sudo, cargo may not be on root's PATH: then build first, as yourself.
for program in tcp-echo sticky-demo udp-echo; do
    if [[ ! -x $bin/$program ]]; then
        echo "error: $bin/$program not found: run 'cargo build' first" >&2
        exit 1
    fi
done
work=$(mktemp -d /tmp/lesson05.XXXXXX)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# show CMD ARGS...: print the command the way you would type it, then run it.
show() {
    local shown=() arg
    for arg in "$@"; do
        arg=${arg/#$bin\//target/debug/}
        [[ $arg == *[[:space:]]* ]] && arg="'$arg'"
        shown+=("$arg")
    done
    echo "\$ ${shown[*]}"
    "$@"
}

heading() { printf '\n== %s ==\n' "$*"; }

# start_server LOG CMD ARGS...: start a server in the background, logging to
# LOG, and wait for its `listening on ADDR` line. Sets server_pid, addr, port.
start_server() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    for _ in $(seq 200); do
        addr=$(sed -n 's/^listening on //p' "$log" | head -1)
        if [[ -n $addr ]]; then
            # shellcheck disable=SC2034 # read by the scripts that source this
            port=${addr##*:}
            return
        fi
        sleep 0.05
    done
    echo "error: $* did not print 'listening on ADDR':" >&2
    cat "$log" >&2
    return 1
}

# wait_until SECONDS DESCRIPTION CMD ARGS...: run CMD every 50 ms until it
# succeeds. A demonstration waits for the state it is about to show, never a
# blind sleep; after SECONDS it says what it was waiting for and fails.
wait_until() {
    local seconds=$1 what=$2 tries
    shift 2
    for ((tries = seconds * 20; tries > 0; tries--)); do
        "$@" && return 0
        sleep 0.05
    done
    echo "error: waited ${seconds}s for $what" >&2
    return 1
}

# is_stopped PID: the process has really stopped (state T). kill -STOP only
# queues the signal; the target stops when it next runs in the kernel.
is_stopped() {
    local stat
    stat=$(<"/proc/$1/stat") || return 1
    stat=${stat##*) }
    [[ ${stat%% *} == T ]]
}

# server_log LOG: the server's output so far, indented.
server_log() {
    echo "server log:"
    sed 's/^/    /' "$1"
}
