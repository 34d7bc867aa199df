#!/usr/bin/env bash
# Lesson 8 benchmark: requests per second for static files over keep-alive,
# mini-http against nginx configured as an operator would serve static
# files, per core, measured with wrk in the same run.
#
#   scripts/bench/http.sh                 # 1 KiB and 1 MiB, 3 rounds of 8 s each
#   DURATION=5 ROUNDS=5 scripts/bench/http.sh
#   CONNECTIONS="64 256" scripts/bench/http.sh
#   PYTHON=1 scripts/bench/http.sh        # add python3 -m http.server (1 KiB, one run)
#   SYSCALLS=1 scripts/bench/http.sh      # also count system calls per request (perf, root)
#
# Per core: each server runs ONE worker pinned to CPU 0 (mini-http
# --threads 1, nginx worker_processes 1, both under `taskset -c 0`), and wrk
# runs pinned to CPU 1, so the servers compete for the same single core and
# the load generator never takes it from them.
#
# nginx gets what an operator sets for static files: sendfile on, tcp_nopush
# on, tcp_nodelay on, open_file_cache (open file descriptors and stat results
# kept between requests), keepalive_requests high, and no access log —
# mini-http runs with --no-access-log too.
#
# Everything listens on 127.0.0.1 only, on ports free at the time. nginx runs
# with its own temporary prefix and configuration and is stopped at the end.
# Install the tools with: apt-get install -y wrk nginx-light
#
# The machine may be busy with other work: the servers take turns within
# each round, and the ratios (same run, same load) are what to compare.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
PYTHON=${PYTHON:-0}
SYSCALLS=${SYSCALLS:-0}

say() { printf '%s\n' "$*"; }

for tool in wrk curl; do
    if ! command -v "$tool" >/dev/null; then
        say "$tool is not installed: nothing can be measured (apt-get install -y wrk curl)."
        exit 1
    fi
done
nginx_bin=$(command -v nginx || true)
if [ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ]; then nginx_bin=/usr/sbin/nginx; fi
if [ -z "$nginx_bin" ]; then
    say "nginx is not installed: there is nothing to compare with (apt-get install -y nginx-light)."
    exit 1
fi

# Pinning: servers on CPU 0, wrk on CPU 1.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
    pinning="servers on CPU 0 (one worker each), wrk on CPU 1"
else
    server_cpu=()
    client_cpu=()
    pinning="not pinned (needs 2 CPUs and taskset)"
fi

work=$(mktemp -d /tmp/bench-http.XXXXXX)
chmod 755 "$work" # nginx workers run as an unprivileged user
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www" "$work/nginx/logs"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"
# Old enough that mini-http keeps the small one in memory (it does not keep
# files modified in the last two seconds).
touch -d '1 hour ago' "$work/www/1k.bin" "$work/www/1m.bin"
chmod -R a+rX "$work/www"

say "building mini-http (release)…"
cargo build --release -q -p mini-http
target_dir=${CARGO_TARGET_DIR:-target}
mini="$target_dir/release/mini-http"

# A free loopback port: one the kernel just handed out for port 0 (and
# nobody has bound since; a port that merely refuses connections may still
# be bound by a socket that does not listen).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT NAME LOG: wait until NAME (the last process started)
# accepts connections on PORT; show LOG if it dies or never does.
wait_port() {
    local port=$1 name=$2 log=$3 pid=${pids[${#pids[@]} - 1]}
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    say "$name did not start listening on 127.0.0.1:$port; its log:"
    cat "$log" 2>/dev/null || true
    exit 1
}

declare -A base
order=(mini-http nginx)

mini_port=$(free_port)
"${server_cpu[@]}" "$mini" serve --bind "127.0.0.1:$mini_port" --root "$work/www" \
    --threads 1 --no-access-log >/dev/null 2>"$work/mini-error.log" &
pids+=($!)
declare -A server_pid
server_pid[mini-http]=$! # taskset runs the server in its own process
wait_port "$mini_port" mini-http "$work/mini-error.log"
base[mini-http]="http://127.0.0.1:$mini_port"

nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_errors on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    types { application/octet-stream bin; }
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
    }
}
EOF
"${server_cpu[@]}" "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" &
pids+=($!)
wait_port "$nginx_port" nginx "$work/nginx/logs/error.log"
base[nginx]="http://127.0.0.1:$nginx_port"

if [ "$PYTHON" = 1 ]; then
    py_port=$(free_port)
    "${server_cpu[@]}" python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$py_port" >"$work/python.log" 2>&1 &
    pids+=($!)
    wait_port "$py_port" python "$work/python.log"
    base[python]="http://127.0.0.1:$py_port"
fi

# Every server returns the same bytes before anything is timed.
for name in "${!base[@]}"; do
    for file in 1k.bin 1m.bin; do
        if ! curl -s "${base[$name]}/$file" | cmp -s - "$work/www/$file"; then
            say "$name did not serve $file correctly; stopping."
            exit 1
        fi
    done
done

# run URL CONNECTIONS DURATION -> "requests/s MB/s errors"
run() {
    local url=$1 conns=$2 secs=$3 out rps errors non2xx mbs
    out=$("${client_cpu[@]}" wrk -t1 -c"$conns" -d"${secs}s" "$url" 2>&1)
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    mbs=$(awk '/^Transfer\/sec:/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else if (v ~ /KB/) {sub("KB","",v); v/=1024} else {sub("MB","",v)}; print v}' <<<"$out")
    errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4+$6+$8+$10}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "${rps:-0} ${mbs:-0} $((${errors:-0} + ${non2xx:-0}))"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

say ""
say "machine: $(nproc) CPUs, $(uname -sr); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
say "per core: $pinning; keep-alive, wrk -t1, ${DURATION}s per run, $ROUNDS rounds (servers take turns)"
say "nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///'): sendfile, tcp_nopush, open_file_cache, no access log; mini-http --threads 1 --no-access-log"
say ""
printf '%-10s %6s %6s %12s %9s %22s %7s\n' server file conns "median rq/s" "MB/s" "each round (rq/s)" errors

declare -A med
for file in 1k.bin 1m.bin; do
    for conns in $CONNECTIONS; do
        declare -A all=() mb=() errs=()
        for _ in $(seq 1 "$ROUNDS"); do
            for name in "${order[@]}"; do
                read -r rps mbs err < <(run "${base[$name]}/$file" "$conns" "$DURATION")
                all[$name]+="$rps "
                mb[$name]+="$mbs "
                errs[$name]=$((${errs[$name]:-0} + err))
            done
        done
        for name in "${order[@]}"; do
            med[$name,$file,$conns]=$(tr ' ' '\n' <<<"${all[$name]}" | grep . | median)
            printf '%-10s %6s %6s %12.0f %9.0f %22s %7s\n' "$name" "${file%.bin}" "$conns" \
                "${med[$name,$file,$conns]}" "$(tr ' ' '\n' <<<"${mb[$name]}" | grep . | median)" \
                "$(for r in ${all[$name]}; do printf '%.0f/' "$r"; done | sed 's#/$##')" "${errs[$name]}"
        done
        unset all mb errs
    done
done

if [ "$PYTHON" = 1 ]; then
    read -r py_rps _ py_err < <(run "${base[python]}/1k.bin" 64 5)
    printf '%-10s %6s %6s %12.0f %9s %22s %7s\n' python 1k 64 "$py_rps" - "(1 run, 5 s)" "$py_err"
fi

say ""
for file in 1k.bin 1m.bin; do
    for conns in $CONNECTIONS; do
        awk -v m="${med[mini-http,$file,$conns]}" -v n="${med[nginx,$file,$conns]}" -v c="$conns" -v f="${file%.bin}" \
            'BEGIN {printf "ratio mini-http / nginx, %s at -c%s: %.2f\n", f, c, (n > 0 ? m / n : 0)}'
    done
done

# SYSCALLS=1: what each server asks of the kernel per request. perf counts
# the system-call tracepoints of the serving process (nginx: its worker)
# while wrk runs; divided by the requests wrk completed in that time.
if [ "$SYSCALLS" = 1 ]; then
    say ""
    calls=(epoll_wait recvfrom sendto writev sendfile64 setsockopt statx newfstatat)
    events=$(printf 'syscalls:sys_enter_%s,' "${calls[@]}")
    events=${events%,}
    server_pid[nginx]=$(pgrep -P "${pids[1]}" | head -n 1)
    if ! command -v perf >/dev/null; then
        say "perf is not installed: no system-call counts (apt-get install -y linux-perf)."
    elif ! perf stat -e syscalls:sys_enter_recvfrom -p "${server_pid[mini-http]}" -- true >/dev/null 2>&1; then
        say "perf cannot count system-call tracepoints here (run as root, or lower kernel.perf_event_paranoid)."
    else
        say "system calls per request (1 KiB, -c64, ${DURATION}s, counted by perf on the serving process):"
        printf '%-10s' server
        printf ' %10s' "${calls[@]/sendfile64/sendfile}"
        printf '\n'
        for name in "${order[@]}"; do
            if ! out=$(perf stat -x, -o "$work/perf.$name" -e "$events" -p "${server_pid[$name]}" -- \
                "${client_cpu[@]}" wrk -t1 -c64 -d"${DURATION}s" "${base[$name]}/1k.bin" 2>&1); then
                say "$name: perf stat failed: $(tail -n 1 <<<"$out")"
                continue
            fi
            requests=$(awk '/ requests in / {print $1}' <<<"$out")
            printf '%-10s' "$name"
            for call in "${calls[@]}"; do
                count=$(awk -F, -v e="syscalls:sys_enter_$call" '$3 == e {print $1}' "$work/perf.$name")
                awk -v c="${count:-0}" -v r="${requests:-0}" 'BEGIN {printf " %10.2f", (r > 0 && c ~ /^[0-9]+$/) ? c / r : 0}'
            done
            printf '   (%s requests)\n' "${requests:-0}"
        done
    fi
fi
