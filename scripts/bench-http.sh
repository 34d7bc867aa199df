#!/usr/bin/env bash
# Lesson 8 benchmark: requests per second for a 1 KiB static file over
# keep-alive, mini-http against nginx (and python3 -m http.server, the
# baseline students know), measured with wrk in the same run.
#
#   scripts/bench-http.sh                 # 3 rounds of 10 s per server and load
#   DURATION=5 ROUNDS=5 scripts/bench-http.sh
#   CONNECTIONS="64 512" scripts/bench-http.sh
#   ACCESS_LOG=1 scripts/bench-http.sh    # both servers write an access log
#
# Everything listens on 127.0.0.1 only, on ports free at the time. nginx runs
# with its own temporary prefix and configuration (worker_processes auto) and
# is stopped at the end. Tools that are not installed are skipped, and the
# script says so. Install them with: apt-get install -y wrk nginx-light
#
# The machine may be busy with other work: the servers take turns within
# each round, and the ratios (same run, same load) are what to compare.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-"64 512"}
ACCESS_LOG=${ACCESS_LOG:-0}
PY_DURATION=${PY_DURATION:-5}

say() { printf '%s\n' "$*"; }

if ! command -v wrk >/dev/null; then
    say "wrk is not installed: nothing can be measured (apt-get install -y wrk)."
    exit 1
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
# 1 KiB of printable bytes.
head -c 768 /dev/urandom | base64 -w 0 | head -c 1024 >"$work/www/1k.txt"
chmod -R a+rX "$work/www"

say "building mini-http (release)…"
cargo build --release -q -p mini-http
target_dir=${CARGO_TARGET_DIR:-target}
mini="$target_dir/release/mini-http"

# A free loopback port: nothing answers a connect there right now.
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# wait_port PORT NAME LOG: wait until NAME (the last process started)
# accepts connections on PORT; show LOG if it dies or never does.
wait_port() {
    local port=$1 name=$2 log=$3 pid=${pids[-1]}
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

declare -A url
order=()

# mini-http
mini_port=$(free_port)
mini_args=(serve --bind "127.0.0.1:$mini_port" --root "$work/www")
if [ "$ACCESS_LOG" = 1 ]; then
    "$mini" "${mini_args[@]}" >"$work/mini-access.log" 2>"$work/mini-error.log" &
else
    "$mini" "${mini_args[@]}" --no-access-log >/dev/null 2>"$work/mini-error.log" &
fi
pids+=($!)
wait_port "$mini_port" mini-http "$work/mini-error.log"
url[mini-http]="http://127.0.0.1:$mini_port/1k.txt"
order+=(mini-http)

# nginx
nginx_bin=$(command -v nginx || true)
if [ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ]; then nginx_bin=/usr/sbin/nginx; fi
if [ -n "$nginx_bin" ]; then
    nginx_port=$(free_port)
    if [ "$ACCESS_LOG" = 1 ]; then
        access="access_log $work/nginx/logs/access.log;"
    else
        access="access_log off;"
    fi
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    $access
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 30s;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    types { text/plain txt; }
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
    }
}
EOF
    "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" &
    pids+=($!)
    wait_port "$nginx_port" nginx "$work/nginx/logs/error.log"
    url[nginx]="http://127.0.0.1:$nginx_port/1k.txt"
    order+=(nginx)
else
    say "nginx is not installed: mini-http is measured alone (apt-get install -y nginx-light)."
fi

# python3 -m http.server
if command -v python3 >/dev/null; then
    py_port=$(free_port)
    python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$py_port" >"$work/python.log" 2>&1 &
    pids+=($!)
    wait_port "$py_port" python "$work/python.log"
    url[python]="http://127.0.0.1:$py_port/1k.txt"
else
    say "python3 is not installed: no baseline."
fi

# Check every server returns the same 1 KiB before timing anything.
for name in "${order[@]}" ${url[python]:+python}; do
    got=$(curl -s "${url[$name]}" 2>/dev/null || "$mini" get "${url[$name]}")
    if [ "$got" != "$(cat "$work/www/1k.txt")" ]; then
        say "$name did not serve the test file correctly; stopping."
        exit 1
    fi
done

# run NAME CONNECTIONS DURATION -> "requests/s errors"
run() {
    local name=$1 conns=$2 secs=$3 out rps errors non2xx
    out=$(wrk -t1 -c"$conns" -d"${secs}s" "${url[$name]}" 2>&1)
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4+$6+$8+$10}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "${rps:-0} $((${errors:-0} + ${non2xx:-0}))"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

say ""
say "machine: $(nproc) CPUs, $(uname -sr); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
say "file: 1 KiB, keep-alive, wrk -t1, ${DURATION}s per run, $ROUNDS rounds (servers take turns), access log: $([ "$ACCESS_LOG" = 1 ] && echo on || echo off)"
say ""
printf '%-10s %6s %12s %12s %8s\n' server conns "median rq/s" "each round" errors

declare -A med
for conns in $CONNECTIONS; do
    declare -A all=() errs=()
    for round in $(seq 1 "$ROUNDS"); do
        for name in "${order[@]}"; do
            read -r rps err < <(run "$name" "$conns" "$DURATION")
            all[$name]+="$rps "
            errs[$name]=$((${errs[$name]:-0} + err))
        done
    done
    for name in "${order[@]}"; do
        med[$name,$conns]=$(tr ' ' '\n' <<<"${all[$name]}" | grep . | median)
        printf '%-10s %6s %12.0f %12s %8s\n' "$name" "$conns" "${med[$name,$conns]}" \
            "$(for r in ${all[$name]}; do printf '%.0f/' "$r"; done | sed 's#/$##')" "${errs[$name]}"
    done
    unset all errs
done

if [ -n "${url[python]:-}" ]; then
    read -r py_rps py_err < <(run python 64 "$PY_DURATION")
    med[python,64]=$py_rps
    printf '%-10s %6s %12.0f %12s %8s\n' python 64 "$py_rps" "(1 run)" "$py_err"
fi

say ""
for conns in $CONNECTIONS; do
    if [ -n "${med[nginx,$conns]:-}" ]; then
        awk -v m="${med[mini-http,$conns]}" -v n="${med[nginx,$conns]}" -v c="$conns" \
            'BEGIN {printf "ratio mini-http / nginx at -c%s: %.2f\n", c, m / n}'
    fi
done
if [ -n "${med[python,64]:-}" ] && [ "${med[python,64]}" != 0 ]; then
    for name in "${order[@]}"; do
        awk -v m="${med[$name,64]:-0}" -v p="${med[python,64]}" -v s="$name" \
            'BEGIN {printf "ratio %s / python3 -m http.server at -c64: %.0f\n", s, m / p}'
    done
fi
