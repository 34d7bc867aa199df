#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image:
# install what grading needs and build the course's tests, so that
# run_autograder compiles nothing of the course for each submission.
#
# What it installs only where missing (an image that has them is used as is):
#   python3 (3.8 or newer) and, before 3.11, tomli (grading.toml is TOML)
#   a C linker (Rust links with cc), curl and unzip
#   Rust, through rustup, the stable toolchain  (~/.cargo)
#   cargo-nextest
# Then, in /autograder/source: fetch the crates, build the programs and their
# tests (debug, as scripts/grade runs them), and the release builds the
# leaderboard compares against when gradescope.json asks for it.
#
# AUTOGRADER_ROOT replaces /autograder (the whole flow runs outside Gradescope
# that way: scripts/gradescope/test). A CARGO_TARGET_DIR already set is kept.
# What run_autograder needs to find again (PATH, CARGO_TARGET_DIR) is written
# to source/.gradescope-env.
set -euo pipefail

root=${AUTOGRADER_ROOT:-/autograder}
source_dir="$root/source"
cd "$source_dir"

say() { printf '==> %s\n' "$*"; }

apt_updated=false
apt_install() {
    if ! command -v apt-get > /dev/null; then
        echo "error: $* missing and no apt-get to install it with" >&2
        exit 1
    fi
    if [ "$apt_updated" = false ]; then
        apt-get update -qq
        apt_updated=true
    fi
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
}

# --- Python 3.8 or newer, and a TOML reader for grading.toml: tomllib from
# 3.11 on, the tomli package before (Ubuntu 22.04, Gradescope's default
# image, has 3.10).
command -v python3 > /dev/null || apt_install python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 8))'; then
    echo "error: $(python3 --version) is too old: the grader needs Python 3.8 or newer" >&2
    exit 1
fi
if ! python3 -c 'import tomllib' 2> /dev/null && ! python3 -c 'import tomli' 2> /dev/null; then
    apt_install python3-tomli || python3 -m pip install --quiet tomli
fi

# --- Rust: the programs, the tests, and a student's Rust code.
# shellcheck source=/dev/null
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if ! command -v cargo > /dev/null; then
    command -v curl > /dev/null || apt_install curl ca-certificates
    command -v cc > /dev/null || apt_install gcc libc6-dev
    say "installing Rust (rustup, stable, minimal profile)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
command -v cc > /dev/null || apt_install gcc libc6-dev
if ! cargo nextest --version > /dev/null 2>&1; then
    say "installing cargo-nextest"
    cargo install --locked --quiet cargo-nextest
fi
say "$(cargo --version); $(cargo nextest --version 2>/dev/null | head -n 1); $(python3 --version)"

# Written for run_autograder, which Gradescope starts with its own environment.
printf 'PATH=%s\n' "$PATH" > .gradescope-env
for name in CARGO_TARGET_DIR CARGO_HOME RUSTUP_HOME; do
    if [ -n "${!name:-}" ]; then
        printf '%s=%s\n' "$name" "${!name}" >> .gradescope-env
    fi
done

# --- Build once.
export CARGO_TERM_COLOR=never
say "fetching crates"
cargo fetch --locked
# Exactly the builds scripts/grade asks for, lesson by lesson (`cargo nextest
# list` of the packages holding the lesson's tests), so that its own finds
# everything fresh: another package set could unify features differently.
for lesson in $(python3 -c 'import json; print(*json.load(open("gradescope.json"))["lessons"])'); do
    packages=()
    for test in crates/*/tests/lesson"$(printf %02d "$lesson")"*.rs; do
        [ -e "$test" ] || continue
        package=${test#crates/}
        packages+=(-p "${package%%/*}")
    done
    [ "${#packages[@]}" -gt 0 ] || continue
    say "building lesson $lesson's programs and tests (${packages[*]})"
    cargo nextest list --locked "${packages[@]}" -E 'kind(test)' --message-format json > /dev/null
done
if python3 -c 'import json, sys; c = json.load(open("gradescope.json")); sys.exit(0 if c.get("leaderboard") and {2, 8} & set(c["lessons"]) else 1)'; then
    say "building the leaderboard's reference programs (release)"
    cargo build --release --locked --quiet -p sticky-demo -p mini-http
fi
# Kept aside so that every run_autograder starts from the course's own files.
mkdir -p .gradescope-pristine
cp Cargo.toml Cargo.lock .gradescope-pristine/
say "setup done"
