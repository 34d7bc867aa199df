#!/usr/bin/env bash
# scripts/student/lab-setup.sh — install the tools the course uses beyond Rust and Python.
#
#   sudo scripts/student/lab-setup.sh          # install what is missing (Debian/Ubuntu)
#   scripts/student/lab-setup.sh --check       # only say what is there and what is not
#
# Nothing here is needed to build the programs or run the tests: those need
# only cargo (and python3 for the grader). These tools are for the lessons'
# extra demonstrations and the benchmarks:
#
#   tool       package       used by
#   ip         iproute2      scripts/lan-lab.sh (lesson 7's virtual LAN), lesson 4's wrong-source.sh
#   strace     strace        lesson 3 (the server's system calls), lesson 5's cost.sh
#   tcpdump    tcpdump       lesson 5's handshake.sh (packets on loopback)
#   ss         iproute2      lessons 1, 5 and 6 (socket queues, TIME_WAIT)
#   wrk        wrk           scripts/bench/http.sh (lesson 8)
#   nginx      nginx-light   scripts/bench/http.sh, the peer mini-http is compared with
#   curl       curl          lesson 8 (a second HTTP client beside mini-http)
#
# And one Rust tool, installed with cargo into your own ~/.cargo/bin (so as
# yourself, not with sudo):
#
#   cargo-nextest            scripts/grade (each test with its own time limit)
#                            cargo install cargo-nextest --locked
set -euo pipefail

tools=(ip strace tcpdump ss wrk nginx curl python3)
package_of() {
  case $1 in
    ip|ss) echo iproute2 ;;
    nginx) echo nginx-light ;;
    *) echo "$1" ;;
  esac
}

missing=()
for tool in "${tools[@]}"; do
  if command -v "$tool" > /dev/null 2>&1 || [ -x "/usr/sbin/$tool" ]; then
    printf '  ok       %s\n' "$tool"
  else
    printf '  missing  %s (package %s)\n' "$tool" "$(package_of "$tool")"
    missing+=("$(package_of "$tool")")
  fi
done

# cargo-nextest: a cargo subcommand, so ask cargo.
nextest=ok
if cargo nextest --version > /dev/null 2>&1; then
  printf '  ok       cargo-nextest\n'
else
  printf '  missing  cargo-nextest (cargo install cargo-nextest --locked)\n'
  nextest=missing
fi

# install_nextest: as yourself, with cargo; under sudo, say how instead
# (root's cargo would install it where your cargo does not look).
install_nextest() {
  [ "$nextest" = missing ] || return 0
  if [ "${1:-}" = --check ]; then
    echo "lab-setup: to install cargo-nextest, as yourself: cargo install cargo-nextest --locked"
  elif [ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ]; then
    echo "lab-setup: cargo-nextest installs into your own ~/.cargo: run, as yourself (not sudo):"
    echo "    cargo install cargo-nextest --locked"
  elif ! command -v cargo > /dev/null; then
    echo "lab-setup: cargo-nextest needs cargo (https://rustup.rs), then: cargo install cargo-nextest --locked"
  else
    echo "lab-setup: cargo install cargo-nextest --locked (a few minutes: it is built from source)"
    cargo install cargo-nextest --locked
  fi
}

if [ "${#missing[@]}" -eq 0 ]; then
  install_nextest "${1:-}"
  [ "$nextest" = ok ] && echo "lab-setup: everything is installed."
  exit 0
fi
# One package may provide several tools: install each once.
packages=()
for package in $(printf '%s\n' "${missing[@]}" | sort -u); do packages+=("$package"); done

if [ "${1:-}" = "--check" ]; then
  echo "lab-setup: to install: apt-get install -y ${packages[*]}"
  install_nextest --check
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
  echo "lab-setup: run as root on Debian or Ubuntu to install; otherwise install with your package manager: ${packages[*]}"
  install_nextest
  exit 0
fi
echo "lab-setup: apt-get install -y ${packages[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" > /dev/null
echo "lab-setup: done."
install_nextest
if printf '%s\n' "${packages[@]}" | grep -qx nginx-light && command -v systemctl > /dev/null; then
  # Debian starts the packaged nginx on port 80 of every address; the
  # benchmark runs its own nginx on loopback and does not need that one.
  echo "lab-setup: note: the nginx package may now serve port 80; stop it with: systemctl disable --now nginx"
fi
