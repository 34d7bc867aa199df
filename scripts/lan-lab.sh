#!/usr/bin/env bash
# lan-lab.sh — a virtual LAN on this machine, to watch UDP broadcast (lesson 7).
#
# It builds a small network out of Linux network namespaces (each one a
# "host" with its own interfaces, addresses and routes), runs broadcast-recv
# on every host and broadcast-send on h1, and shows who hears what:
#
#     h1 10.200.0.1    ──┐
#     h2 10.200.0.2    ──┤  br0, a switch (in its own namespace, "sw")
#     h3 10.200.0.3    ──┤
#     r  10.200.0.254  ──┘  the router: eth0 on the switch,
#        10.201.0.254  ──┐             eth1 on a cable to h4
#     h4 10.201.0.4    ──┘  another subnet, 10.201.0.0/24
#
#   1. h1 → 10.200.0.255     directed broadcast of 10.200.0.0/24
#   2. h1 → 255.255.255.255  limited broadcast: "this link"
#   3. h1 → 10.201.0.255     directed broadcast of the other subnet
#   4. h1 → 10.201.0.4       plain unicast to h4, through the router
#
# Every host on 10.200.0.0/24 (h1 itself and the router included) hears 1 and
# 2; h4 hears neither, because a router does not forward broadcasts. Step 4
# proves the path to h4 works, so its silence is the router's choice.
#
# Nothing is created in the machine's own network namespace: the switch, the
# veth cables and the hosts all live in namespaces named bclab<PID>-*, which
# are removed on exit — normal, failure, Ctrl-C or kill (not kill -9), and a
# second Ctrl-C or `timeout -s INT` cannot interrupt that removal.
# Addresses 10.200.0.0/24 and 10.201.0.0/24 exist only inside them.
#
# Usage:  sudo scripts/lan-lab.sh [--hold | --cleanup]
#   --hold     keep the LAN up after the demo, until Ctrl-C, to explore it.
#   --cleanup  remove what an earlier run left behind because it was killed
#              with kill -9 (namespaces bclab<PID>-* whose script is gone).
# The programs: IMPL_BROADCAST_SEND / IMPL_BROADCAST_RECV (command lines, as
# for the tests), else the debug builds in $CARGO_TARGET_DIR or target/:
#   cargo build -p broadcast-send -p broadcast-recv
# Needs Linux, root and `ip` (iproute2); without them it says so and exits 0
# having changed nothing.

set -Eeuo pipefail

PORT=9004
LAN=10.200.0
FAR=10.201.0
prefix="bclab$$"
hold=false
cleanup_only=false

say() { printf '%s\n' "$*"; }
skip() {
    say "lan-lab: skipped: $*"
    exit 0
}

for arg in "$@"; do
    case "$arg" in
    --hold) hold=true ;;
    --cleanup) cleanup_only=true ;;
    -h | --help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        say "error: unknown argument '$arg' (usage: sudo scripts/lan-lab.sh [--hold | --cleanup])" >&2
        exit 2
        ;;
    esac
done

# --- preconditions: change nothing until all of them hold -------------------
[ "$(uname -s)" = Linux ] || skip "network namespaces exist only on Linux (this is $(uname -s))"
[ "$(id -u)" = 0 ] || skip "creating network namespaces needs root: run it as  sudo $0"
command -v ip >/dev/null 2>&1 || skip "the \`ip\` command (package iproute2) is not installed"

if $cleanup_only; then
    # Only namespaces named like ours, and only if the script that made them
    # (its PID is in the name) is no longer running.
    removed=0
    for name in $(ip netns list | awk '{print $1}' | grep -E '^bclab[0-9]+-(sw|h[0-9]|r)$' || true); do
        owner=${name#bclab}
        owner=${owner%%-*}
        if kill -0 "$owner" 2>/dev/null && grep -q lan-lab "/proc/$owner/cmdline" 2>/dev/null; then
            continue
        fi
        ip netns del "$name" && removed=$((removed + 1))
    done
    say "lan-lab: removed $removed leftover namespaces"
    exit 0
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
find_program() { # NAME VARIABLE -> the command line that runs it
    local name=$1 variable=$2
    if [ -n "${!variable:-}" ]; then
        say "${!variable}"
    elif [ -x "$target/debug/$name" ]; then
        say "$target/debug/$name"
    else
        say "error: $target/debug/$name is not built: run  cargo build -p broadcast-send -p broadcast-recv" \
            "(as yourself, then sudo this script; or set $variable)" >&2
        exit 1
    fi
}
send_cmd=$(find_program broadcast-send IMPL_BROADCAST_SEND)
recv_cmd=$(find_program broadcast-recv IMPL_BROADCAST_RECV)

# --- everything created from here on is removed by cleanup ------------------
created=() # namespaces, in creation order
pids=()    # processes we started
tmp=""
stopped_by="" # the signal that stopped the script, if one did
holder=""     # the sleep that --hold waits on

cleanup() {
    local status=$?
    # From here on no signal may stop the cleanup halfway. Ignored, not
    # merely trapped: an ignored signal stays ignored in the `ip` commands
    # below, and a Ctrl-C at the terminal goes to every process of the
    # foreground group — a second one would otherwise kill `ip netns del`.
    trap '' INT TERM HUP
    trap - EXIT ERR
    set +e
    if [ -n "$stopped_by" ]; then
        say "lan-lab: stopped by SIG$stopped_by: removing what this run created"
    fi
    for pid in "${pids[@]}" $holder; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # Deleting a namespace deletes the interfaces inside it: bridge, veths.
    local existing removed=()
    existing=" $(ip netns list 2>/dev/null | awk '{print $1}' | tr '\n' ' ') "
    for ((i = ${#created[@]} - 1; i >= 0; i--)); do
        case "$existing" in *" ${created[i]} "*) ;; *) continue ;; esac
        if ip netns del "${created[i]}" 2>/dev/null; then
            removed=("${created[i]}" "${removed[@]}")
        else
            say "lan-lab: could not delete namespace ${created[i]}: delete it with  sudo ip netns del ${created[i]}" >&2
        fi
    done
    if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
    if [ ${#removed[@]} -gt 0 ]; then
        say "lan-lab: removed ${#removed[@]} namespaces (${removed[*]})"
    fi
    exit "$status"
}
trap cleanup EXIT
# A signal ends the script through the EXIT trap, which cleans up. Each
# handler first ignores further signals, so a second Ctrl-C (or `timeout -s
# INT` after one) cannot interrupt the way out.
trap 'trap "" INT TERM HUP; stopped_by=INT; exit 130' INT
trap 'trap "" INT TERM HUP; stopped_by=TERM; exit 143' TERM
trap 'trap "" INT TERM HUP; stopped_by=HUP; exit 129' HUP
trap 'say "lan-lab: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

ns() { say "$prefix-$1"; }
add_ns() {
    local name
    name=$(ns "$1")
    created+=("$name") # first, so that a signal right after the add still finds it
    ip netns add "$name"
    ip -n "$name" link set lo up
}

# The first namespace doubles as the probe: in a container without the
# right privileges this is where it fails.
created+=("$(ns sw)")
if ! probe=$(ip netns add "$(ns sw)" 2>&1); then
    skip "cannot create a network namespace here (ip netns add: $probe)"
fi
ip -n "$(ns sw)" link set lo up
tmp=$(mktemp -d)

say "lan-lab: building the LAN (namespaces $prefix-*)"
# The switch: a bridge inside its own namespace, so the machine's real
# interfaces never see it.
ip -n "$(ns sw)" link add br0 type bridge
ip -n "$(ns sw)" link set br0 up

# plug HOST IFACE ADDRESS/PREFIX: a veth "cable" from the switch to HOST.
plug() {
    local host=$1 iface=$2 address=$3
    ip -n "$(ns sw)" link add "p-$host" type veth peer name "$iface" netns "$(ns "$host")"
    ip -n "$(ns sw)" link set "p-$host" master br0 up
    ip -n "$(ns "$host")" addr add "$address" brd + dev "$iface"
    ip -n "$(ns "$host")" link set "$iface" up
}

for host in h1 h2 h3; do
    add_ns "$host"
    plug "$host" eth0 "$LAN.${host#h}/24"
    ip -n "$(ns "$host")" route add default via "$LAN.254"
done

add_ns r
plug r eth0 "$LAN.254/24"
add_ns h4
# A second, point-to-point cable from the router to h4's subnet.
ip -n "$(ns r)" link add eth1 type veth peer name eth0 netns "$(ns h4)"
ip -n "$(ns r)" addr add "$FAR.254/24" brd + dev eth1
ip -n "$(ns r)" link set eth1 up
ip -n "$(ns h4)" addr add "$FAR.4/24" brd + dev eth0
ip -n "$(ns h4)" link set eth0 up
ip -n "$(ns h4)" route add default via "$FAR.254"
# The router forwards unicast between its two subnets; bc_forwarding=0 (the
# kernel's default) says directed broadcasts are not forwarded (RFC 2644).
ip netns exec "$(ns r)" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$(ns r)" sysctl -qw net.ipv4.conf.all.bc_forwarding=0 2>/dev/null || true

say "lan-lab: h1 h2 h3 = $LAN.1-3/24 on switch br0; router r = $LAN.254 and $FAR.254; h4 = $FAR.4/24 behind r"

# run_in HOST COMMAND-LINE ARGS...: run a program's command line inside HOST.
run_in() {
    local host=$1 command=$2
    shift 2
    ip netns exec "$(ns "$host")" sh -c "exec $command \"\$@\"" sh "$@"
}

# --- a receiver on every host ------------------------------------------------
hosts=(h1 h2 h3 r h4)
declare -A address=([h1]=$LAN.1 [h2]=$LAN.2 [h3]=$LAN.3 [r]=$LAN.254 [h4]=$FAR.4)
for host in "${hosts[@]}"; do
    # --timeout: a safety net, so a receiver cannot outlive a killed script long.
    # Backgrounded as one simple command (not a function or subshell), so $!
    # is the receiver itself: `ip netns exec` and `sh -c exec` both exec.
    ip netns exec "$(ns "$host")" sh -c "exec $recv_cmd \"\$@\"" sh \
        --bind "0.0.0.0:$PORT" --timeout 20000 >"$tmp/$host.out" 2>"$tmp/$host.err" &
    pids+=($!)
done

deadline=$((SECONDS + 6))
for i in "${!hosts[@]}"; do
    host=${hosts[i]}
    until grep -q "^listening on " "$tmp/$host.out" 2>/dev/null; do
        if ! kill -0 "${pids[i]}" 2>/dev/null || ((SECONDS >= deadline)); then
            say "lan-lab: the receiver on $host did not print 'listening on ADDR'; it printed:" >&2
            cat "$tmp/$host.out" "$tmp/$host.err" >&2
            exit 1
        fi
        sleep 0.02
    done
done

# --- the four sends ----------------------------------------------------------
messages=(
    "1 directed broadcast to $LAN.255"
    "2 limited broadcast to 255.255.255.255"
    "3 directed broadcast to $FAR.255 (h4's subnet)"
    "4 unicast to h4 at $FAR.4"
)
destinations=("$LAN.255" 255.255.255.255 "$FAR.255" "$FAR.4")
# Step 3 goes without SO_BROADCAST: to h1, 10.201.0.255 is just an address
# behind its router, so its kernel has no reason to object.
flags=("" "" --no-broadcast-flag "")
# Who should hear each step (h1 hears its own broadcasts: the kernel loops a
# copy of every broadcast it sends back to the sending host).
expected=("h1 h2 h3 r" "h1 h2 h3 r" "r" "h4")

say ""
for i in 0 1 2 3; do
    say "h1\$ broadcast-send --to ${destinations[i]}:$PORT ${flags[i]:+${flags[i]} }'${messages[i]}'"
    status=0
    # shellcheck disable=SC2086 # an empty flag must vanish
    run_in h1 "$send_cmd" --to "${destinations[i]}:$PORT" ${flags[i]} "${messages[i]}" \
        >"$tmp/send.out" 2>&1 || status=$?
    sed 's/^/  /' "$tmp/send.out"
    if [ "$status" != 0 ]; then
        say "lan-lab: broadcast-send failed on h1 (exit status $status)" >&2
        exit 1
    fi
done

# Wait for every datagram that should arrive. Step 4 reaches h4 through r's
# eth1 after anything r forwarded there from steps 1-3, so once h4 has it,
# nothing else is still on its way to h4.
# One deadline for them all: a missing datagram costs 5 s once, not per host.
deadline=$((SECONDS + 5))
for i in 0 1 2 3; do
    for host in ${expected[i]}; do
        until grep -qF -- ": ${messages[i]}" "$tmp/$host.out" || ((SECONDS >= deadline)); do
            sleep 0.02
        done
    done
done
# Stop the receivers: each one's log is complete now.
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()

say ""
say "What each host's broadcast-recv printed:"
for host in "${hosts[@]}"; do
    sed "s/^/[$host] /" "$tmp/$host.out"
done

say ""
width=0
for message in "${messages[@]}"; do ((${#message} > width)) && width=${#message}; done
width=$((width + 2))
printf '%-*s' "$width" "heard by:"
printf '%-5s' "${hosts[@]}" | sed 's/ *$//'
printf '\n'
wrong=()
for i in 0 1 2 3; do
    printf '%-*s' "$width" "${messages[i]}"
    for host in "${hosts[@]}"; do
        if grep -qF -- ": ${messages[i]}" "$tmp/$host.out"; then heard=yes; else heard=no; fi
        case " ${expected[i]} " in *" $host "*) want=yes ;; *) want=no ;; esac
        [ "$host" = "${hosts[-1]}" ] && printf '%s' "$heard" || printf '%-5s' "$heard"
        [ "$heard" = "$want" ] || wrong+=("step $((i + 1)): $host heard=$heard, expected $want")
    done
    printf '\n'
done
say ""
if [ ${#wrong[@]} -gt 0 ]; then
    say "lan-lab: UNEXPECTED: ${wrong[*]}" >&2
    exit 1
fi
say "lan-lab: as expected: every host of $LAN.0/24 heard both broadcasts (the sender h1 too);"
say "         h4, one router away, heard only the unicast: routers do not forward broadcasts."

if $hold; then
    # From "holding" on, no command substitution ($(…) is a child process):
    # a Ctrl-C that lands while bash waits for one can be lost with it.
    say ""
    say "lan-lab: holding the LAN up; Ctrl-C removes everything. Try, in another terminal:"
    say "  sudo ip netns exec $prefix-h2 $recv_cmd"
    say "  sudo ip netns exec $prefix-h1 $send_cmd --to $LAN.255:$PORT hello"
    say "  sudo ip netns exec $prefix-sw tcpdump -eni br0 udp port $PORT"
    say "  sudo ip netns exec $prefix-r sysctl -w net.ipv4.conf.all.bc_forwarding=1 net.ipv4.conf.eth0.bc_forwarding=1"
    say "      # then send to $FAR.255 again: now r forwards it to h4"
    # A short sleep, waited for: `wait` returns as soon as a signal comes —
    # and should one come just before `wait` starts, where bash can miss it,
    # the sleep's end a second later lets the trap run.
    while :; do
        sleep 1 &
        holder=$!
        wait "$holder" || true
    done
fi
