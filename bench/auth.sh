#!/usr/bin/env bash
# Issue 5's performance figure: what authentication and authorisation add to a request (p95),
# against the same route without them, in one run. See bench/FerryBench/main.swift for how.
#
#   bench/auth.sh [requests-per-variant]     (default 20000)
#   FERRY_BENCH_RELEASE=1 bench/auth.sh      (a release build: slow to build the first time)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${FERRY_BENCH_RELEASE:-0}" = 1 ]; then
  swift build -c release -Xswiftc -enable-testing --product FerryBench >&2
  exec "$(swift build -c release --show-bin-path)/FerryBench" "$@"
fi
swift build --product FerryBench >&2
exec "$(swift build --show-bin-path)/FerryBench" "$@"
