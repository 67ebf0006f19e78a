#!/usr/bin/env bash
# Issue 14's performance figures: committing a 1,000-dashboard environment with 10 changed
# dashboards, a dashboard's history with 1,000 commits in the repository, and a diff of two
# revisions, each against its floor (the bare git CLI doing the same) in the same run. See
# bench/FerryBench/GitBench.swift for how.
#
#   bench/git.sh [dashboards] [commits]     (default 1000 1000; a release build, slow the first time)
#   FERRY_BENCH_DEBUG=1 bench/git.sh 200 200
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${FERRY_BENCH_DEBUG:-0}" = 1 ]; then
  swift build --product FerryBench >&2
  exec "$(swift build --show-bin-path)/FerryBench" git "$@"
fi
swift build -c release -Xswiftc -enable-testing --product FerryBench >&2
exec "$(swift build -c release --show-bin-path)/FerryBench" git "$@"
