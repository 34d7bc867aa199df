#!/usr/bin/env bash
# scripts/demo.sh [LESSON...] — the tour: every lesson's demonstration, narrated.
#
#   scripts/demo.sh        all lessons, in course.json's order
#   scripts/demo.sh 2      only lesson 2
#   scripts/demo.sh 4 7    lessons 4 and 7, in the order given
#
# The lessons, their numbers and titles, come from course.json (read with
# python3, as the grader does); each has its tour here, demoN below.
#
# Servers run on loopback, on ports the OS picks (port 0), so the tour never
# collides with a server you left running. Every process it starts is stopped
# when it ends — normally, on failure, or on Ctrl-C.
#
# Written for bash 3.2 and later (macOS still ships 3.2): no negative array
# subscripts, no associative arrays, no "${empty[@]}" under set -u.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

command -v python3 > /dev/null || { echo "scripts/demo.sh: python3 not found: it reads the lessons from course.json (the grader needs it too)" >&2; exit 1; }
# One line per lesson of course.json: its number, a tab, its title.
CATALOGUE=$(python3 -c 'import sys; sys.path.insert(0, "scripts/grading"); import course
for n, lesson in course.load().lessons.items():
    print(f"{n}\t{lesson.title}")') || { echo "scripts/demo.sh: course.json cannot be read (above)" >&2; exit 1; }
ALL=$(printf '%s\n' "$CATALOGUE" | cut -f1 | tr '\n' ' ')
ALL=${ALL% }
# title N : lesson N's title in course.json (empty when there is no lesson N).
title() { printf '%s\n' "$CATALOGUE" | awk -F '\t' -v n="$1" '$1 == n { print $2 }'; }

usage() { echo "usage: scripts/demo.sh [LESSON...]   (LESSON: one of ${ALL// /, }; none: all)"; }
LESSONS=()
for arg in "$@"; do
  case $arg in
    -h|--help) usage; exit 0 ;;
    *[!0-9]*|'') echo "scripts/demo.sh: not a lesson number: '$arg'" >&2; usage >&2; exit 2 ;;
    *) [ -n "$(title "$arg")" ] || { echo "scripts/demo.sh: course.json has no lesson $arg" >&2; usage >&2; exit 2; }
       LESSONS+=("$((10#$arg))") ;;
  esac
done
# shellcheck disable=SC2206  # the numbers are words: split them
[ "${#LESSONS[@]}" -gt 0 ] || LESSONS=($ALL)

if [ -t 1 ]; then BOLD=$'\033[1m'; DIM=$'\033[2m'; OFF=$'\033[0m'; else BOLD=; DIM=; OFF=; fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/course-demo.XXXXXX")
PIDS=()  # the servers, stopped last first
IDLE=()  # lesson 9's idle clients
cleanup() {
  local pid
  # ${PIDS[@]+…}: bash before 4.4 calls an empty array unbound under set -u.
  for pid in ${IDLE[@]+"${IDLE[@]}"} ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${IDLE[@]+"${IDLE[@]}"} ${PIDS[@]+"${PIDS[@]}"}; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: stopping everything the tour started"; exit 130' INT TERM

echo "${DIM}building the programs (cargo build --workspace --bins)…${OFF}"
cargo build -q --workspace --bins
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
export PATH="$BIN:$PATH"

# lesson N WORDS : lesson N's heading, its title from course.json and the notes' words for it.
lesson() { printf '\n%s══ Lesson %s — %s%s%s\n' "$BOLD" "$1" "$(title "$1")" "${2:+ ($2)}" "$OFF"; }
# say LINE... : narration, what to notice; one "»" line per argument.
say()    { echo; local line; for line in "$@"; do printf '%s» %s%s\n' "$BOLD" "$line" "$OFF"; done; }
# The command line as you would type it: arguments with spaces in quotes.
show_cmd() {
  local arg out=
  for arg in "$@"; do
    case $arg in
      *[[:space:]\'\"\$\`\\\;\&\|\<\>\(\)\*\?]*|'') out+=" '${arg//\'/\'\\\'\'}'" ;;
      *) out+=" $arg" ;;
    esac
  done
  printf '%s' "${out# }"
}
# Show a command, run it, indent its output (stdout and stderr), keep going on failure.
run() {
  printf '%s$ %s%s\n' "$DIM" "$(show_cmd "$@")" "$OFF"
  local status=0
  "$@" > "$TMP/out" 2>&1 || status=$?
  sed 's/^/  /' "$TMP/out"
  [ "$status" -eq 0 ] || printf '  %s(exit status %s)%s\n' "$DIM" "$status" "$OFF"
}
# start NAME CMD... : run a server in the background, its output in $TMP/NAME.log;
# wait for its `listening on ADDR` line and put ADDR in $ADDR.
start() {
  local name=$1; shift
  printf '%s$ %s &%s\n' "$DIM" "$(show_cmd "$@")" "$OFF"
  "$@" > "$TMP/$name.log" 2> "$TMP/$name.err" &
  PIDS+=("$!")
  local tries=0
  until ADDR=$(sed -n '1s/^listening on //p' "$TMP/$name.log" 2>/dev/null) && [ -n "$ADDR" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ] || ! kill -0 "$!" 2>/dev/null; then
      echo "the server did not start:"; cat "$TMP/$name.log" "$TMP/$name.err"; exit 1
    fi
    sleep 0.05
  done
}
# await NAME PATTERN [COUNT] : wait (up to 5 s) until the server's log has a line
# matching PATTERN (COUNT of them).
await() {
  local tries=0 lines
  until lines=$(grep -c -- "$2" "$TMP/$1.log" 2>/dev/null) && [ "$lines" -ge "${3:-1}" ]; do
    tries=$((tries + 1)); [ "$tries" -gt 100 ] && break
    sleep 0.05
  done
}
# log NAME : show what the server has logged so far (and its stderr).
log() {
  printf '%s  [%s log]%s\n' "$DIM" "$1" "$OFF"
  sed 's/^/  │ /' "$TMP/$1.log"
  [ -s "$TMP/$1.err" ] && sed 's/^/  │ /' "$TMP/$1.err"
  return 0
}
# last_pid : the process id of the server started last.
last_pid() { echo "${PIDS[$((${#PIDS[@]} - 1))]}"; }
# stop : stop the server started last.
stop() {
  local last=$((${#PIDS[@]} - 1))
  kill "${PIDS[last]}" 2>/dev/null || true
  wait "${PIDS[last]}" 2>/dev/null || true
  unset "PIDS[$last]"
}

# ------------------------------------------------------------------- lessons

demo1() {
  lesson 1 "tcp 数据传输"
  start echo tcp-echo server --bind 127.0.0.1:0 --buf-size 4
  run tcp-echo client "$ADDR" 0123456789
  await echo '^closed'
  log echo
  say "One 10-byte message, three recv calls of at most 4 bytes: 4, 4, 2." \
      "What one recv does not take waits in the receive buffer for the next (notes 1.2);" \
      "the empty recv after the client closed is the 'closed … after 10 bytes' line (notes 1.3)."
  stop
}

demo2() {
  lesson 2 "tcp 粘包"
  start none sticky-demo server --bind 127.0.0.1:0 --framing none --read-delay 200 --max-clients 1
  run sticky-demo client --framing none "$ADDR" hello 你好 world
  await none '^summary'
  log none
  stop
  say "Three sends, one recv: TCP delivered a byte stream, and the boundaries are gone."
  start line sticky-demo server --bind 127.0.0.1:0 --framing line --read-delay 200 --max-clients 1
  run sticky-demo client --framing line "$ADDR" hello 你好 world
  await line '^summary'
  log line
  stop
  say "Remedy 1, an end marker: the same single recv now decodes into three messages."
  start length sticky-demo server --bind 127.0.0.1:0 --framing length --buf-size 4 --max-clients 1
  run sticky-demo client --framing length "$ADDR" "one message, many reads"
  await length '^summary'
  log length
  stop
  say "Remedy 2, a length header: recv(4) splits the message, the decoder puts it back together."
  start delay sticky-demo server --bind 127.0.0.1:0 --framing delay --read-delay 300 --max-clients 1
  run sticky-demo client --framing delay --delay 100 "$ADDR" a b c
  await delay '^summary'
  log delay
  stop
  say "Remedy 3, delaying the sends: a reader slower than the delay merges them anyway — no real fix."
}

demo3() {
  lesson 3 "UDP 数据报套接字服务器"
  start udp udp-echo server --bind 127.0.0.1:0
  run udp-echo client "$ADDR" hello 你好
  run udp-echo client --size 3000 "$ADDR"
  await udp 'truncated'
  log udp
  say "No listen, no accept: one socket, recvfrom then sendto back to whoever sent." \
      "A 3000-byte datagram into recvfrom(1024): the server gets 1024 bytes and the rest is gone;" \
      "the kernel still tells the real size (MSG_TRUNC), so the log can say what was lost."
  stop
}

demo4() {
  lesson 4 "udp 客户端"
  start udp udp-echo server --bind 127.0.0.1:0
  local addr=$ADDR
  run udp-echo client --buf-size 8 "$addr" "a datagram longer than 8 bytes"
  say "recvfrom takes one datagram per call; a client buffer of 8 bytes truncates the reply too."
  stop
  run udp-echo client --timeout 300 "$addr" "anyone there?"
  say "The server is gone, yet sendto succeeded. No socket had the port, so the kernel answered" \
      "with an ICMP 'port unreachable' — but it reports that only to a connected socket. This one" \
      "is not, so only its deadline tells it that no reply is coming — exit status 1."
  run udp-echo client --connect --timeout 300 "$addr" "anyone there?"
  say "connect() first (lesson 4): now the ICMP error reaches the socket, and recv fails at once."
}

demo5() {
  lesson 5 "tcp 和 udp 的区别"
  start tcp sticky-demo server --bind 127.0.0.1:0 --framing none --read-delay 200 --max-clients 1
  run sticky-demo client --framing none "$ADDR" a b c d e
  await tcp '^summary'
  log tcp
  stop
  start udp udp-echo server --bind 127.0.0.1:0
  run udp-echo client "$ADDR" a b c d e
  await udp 'recv 1 bytes.*' 
  log udp
  say "TCP: five sends, fewer recvs — a byte stream has no message boundaries (粘包)." \
      "UDP: five sends, five datagrams, each one whole — boundaries are kept." \
      "More side by side: lessons/05-tcp-vs-udp/*.sh (handshake, loss, cost)."
  stop
}

demo6() {
  lesson 6 "socket 模块"
  run sockopt-inspect fds
  say "Descriptors are small numbers, shared by files and sockets, and reused after close."
  run sockopt-inspect set SO_RCVBUF=9973 SO_REUSEADDR=1
  say "setsockopt then getsockopt: Linux doubles SO_RCVBUF to leave room for its own bookkeeping."
  run sockopt-inspect reuseaddr-demo
  say "The side that closes first keeps TIME_WAIT; only SO_REUSEADDR lets a restarted server bind at once."
}

demo7() {
  lesson 7 "udp 应用之广播"
  start r1 broadcast-recv --bind 0.0.0.0:0 --count 2
  local port=${ADDR##*:}
  start r2 broadcast-recv --bind "0.0.0.0:$port" --count 2
  start r3 broadcast-recv --bind "0.0.0.0:$port" --count 2
  start bcast broadcast-recv --bind "127.255.255.255:$port" --count 2
  start narrow broadcast-recv --bind "127.0.0.1:$port"
  run broadcast-send --to "127.255.255.255:$port" --count 2 --interval 200 "hello, everyone"
  await r1 'from' ; await r2 'from'; await r3 'from'; await bcast 'from'
  log r1; log r2; log r3; log bcast; log narrow
  say "One sendto, every receiver on the port gets it: they share it thanks to SO_REUSEADDR." \
      "A datagram to 127.255.255.255 reaches the sockets bound to 0.0.0.0 (any address)" \
      "and the one bound to 127.255.255.255 itself; the one bound to 127.0.0.1 heard nothing."
  run broadcast-send --no-broadcast-flag --to "127.255.255.255:$port" hello
  say "Without SO_BROADCAST the kernel refuses: broadcasting must be asked for, on purpose." \
      "A real LAN in network namespaces: sudo scripts/lan-lab.sh"
}

demo8() {
  lesson 8 "tcp 应用之 http 传输"
  start web mini-http serve --bind 127.0.0.1:0
  run mini-http get -v "http://$ADDR/echo?a=1&b=2"
  say "The request: a request line, headers, a blank line (no body for GET)." \
      "The response: a status line, headers, a blank line, then the body — all plain text over one TCP connection."
  run mini-http request POST "http://$ADDR/echo" -d 'name=%E5%B0%8F%E6%98%8E&lang=rust'
  say "POST carries its data in the body; the application parsed the form fields out of it." \
      "A form body is percent-encoded like a query string: 小明 travels as its UTF-8 bytes, %E5%B0%8F%E6%98%8E."
  run mini-http request -v HEAD "http://$ADDR/"
  run mini-http get "http://$ADDR/nope"
  await web '/nope'
  log web
  say "HEAD: the same headers as GET, no body. A missing page is a 404 — the client's mistake (4xx)." \
      "The access log is the web server's side: one line per request, status and body bytes." \
      "To browse the demo site yourself: cargo run -p mini-http, then open http://127.0.0.1:8000/"
  stop
}

demo9() {
  lesson 9 "一万个客户端"
  start threads tcp-echo server --bind 127.0.0.1:0 --model threads
  local threads_addr=$ADDR threads_pid
  threads_pid=$(last_pid)
  start poll tcp-echo server --bind 127.0.0.1:0 --model poll --buf-size 4
  local poll_addr=$ADDR poll_pid
  poll_pid=$(last_pid)
  # Idle clients: each sends its stdin, a named pipe that stays empty while
  # this shell holds it open (fd 3) and ends when the shell closes it.
  local pipe=$TMP/idle i addr
  printf '%s$ mkfifo %s; exec 3<> %s%s\n' "$DIM" "$pipe" "$pipe" "$OFF"
  mkfifo "$pipe"
  exec 3<> "$pipe"
  for addr in "$threads_addr" "$poll_addr"; do
    printf '%s$ for i in 1 2 3 4 5; do tcp-echo client %s < %s 3>&- & done%s\n' "$DIM" "$addr" "$pipe" "$OFF"
    for i in 1 2 3 4 5; do
      tcp-echo client "$addr" < "$pipe" > /dev/null 2>&1 3>&- &
      IDLE+=("$!")
    done
  done
  await threads '^connected' 5
  await poll '^connected' 5
  if [ -r "/proc/$poll_pid/status" ]; then
    run grep '^Threads' "/proc/$threads_pid/status"
    run grep '^Threads' "/proc/$poll_pid/status"
    say "Five idle clients on each server. --model threads (lesson 1) gave each a thread of its own" \
        "(6: theirs and the one that accepts);" \
        "--model poll serves them all from one thread, waiting in epoll_wait for whichever socket is ready."
  fi
  run tcp-echo client "$poll_addr" 0123456789 "hello, 你好"
  printf '%s$ exec 3>&-%s\n' "$DIM" "$OFF"
  exec 3>&-  # the idle clients' stdin ends: each closes its side (FIN) and leaves
  for i in "${IDLE[@]}"; do wait "$i" 2>/dev/null || true; done
  IDLE=()
  await poll '^closed' 6
  log poll
  say "A sixth client, served at once while five others stay connected: their sockets were simply not ready." \
      "--buf-size 4: each message took several recv calls in a row — the loop reads until WouldBlock," \
      "since epoll (edge-triggered) reports new bytes once. 10,000 clients, measured: scripts/bench/echo.sh"
  stop
  stop
}

for n in "${LESSONS[@]}"; do
  if declare -F "demo$n" > /dev/null; then
    "demo$n"
  else
    lesson "$n" ""
    say "No tour for this lesson yet: its README shows what to run (scripts/demo.sh has no demo$n)."
  fi
done
printf '\n%sDone: every process the tour started has been stopped.%s\n' "$BOLD" "$OFF"
