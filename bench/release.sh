#!/usr/bin/env bash
# Issue 15's figures for a built release (scripts/release): the sizes of the image and the
# tarball, the time from `podman run` to /readyz and the idle RSS in the container. The baseline,
# measured in the same run, is the same release binary started straight on the host (no
# container) on an empty data folder.
#
#   bench/release.sh [DIST] [RUNS]        (default dist/ and 5; run as root)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FERRY_ROOT=$(pwd)
DIST=${1:-dist}
RUNS=${2:-5}
VERSION=$(python3 -c "import json,sys; print(json.load(open('$DIST/release.json'))['version'])")
WORK=$(mktemp -d /tmp/ferry-bench-release.XXXXXX)
PODMAN_HOME=$WORK/podman
# shellcheck source=../scripts/lib/podman.sh
source scripts/lib/podman.sh
trap 'pm rm -af -t 1 >/dev/null 2>&1 || true; pm system reset -f >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # url -> seconds it took, from the caller's start time in $t0 (ns)
  for _ in $(seq 1 2000); do
    curl -fsS "$1/readyz" >/dev/null 2>&1 && { echo "scale=3; ($(date +%s%N) - $t0) / 1000000000" | bc; return; }
    sleep 0.01
  done
  echo "timeout"; return 1
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

pm load -q -i "$DIST/ferry-$VERSION-oci.tar" >/dev/null
image_bytes=$(pm image inspect "localhost/ferry:$VERSION" -f '{{.Size}}')
tar -xzf "$DIST"/ferry-"$VERSION"-linux-*.tar.gz -C "$WORK"
BIN=$WORK/ferry-$VERSION/bin/ferry

host_start=(); host_rss=(); ct_start=(); ct_rss=()
for i in $(seq 1 "$RUNS"); do
  port=$(free_port)
  rm -rf "$WORK/data"
  t0=$(date +%s%N)
  FERRY_DATA_DIR=$WORK/data FERRY_PORT=$port FERRY_SYNC_INTERVAL=0 "$BIN" serve >/dev/null 2>&1 &
  pid=$!
  host_start+=("$(wait_ready "http://127.0.0.1:$port")")
  sleep 10; host_rss+=("$(rss_mib $pid)")
  kill $pid; wait $pid 2>/dev/null || true

  port=$(free_port)
  pm volume rm -f bench >/dev/null 2>&1 || true
  t0=$(date +%s%N)
  # (podman logs that it has no systemd to time the HEALTHCHECK with: true here, and harmless)
  cid=$(pm run -d -p "127.0.0.1:$port:8080" -v bench:/var/lib/ferry -e FERRY_SYNC_INTERVAL=0 "localhost/ferry:$VERSION" 2>/dev/null)
  ct_start+=("$(wait_ready "http://127.0.0.1:$port")")
  sleep 10; ct_rss+=("$(rss_mib "$(pm inspect -f '{{.State.Pid}}' "$cid")")")
  pm rm -f -t 2 "$cid" >/dev/null 2>&1
done

hs=$(printf '%s\n' "${host_start[@]}" | median); cs=$(printf '%s\n' "${ct_start[@]}" | median)
hr=$(printf '%s\n' "${host_rss[@]}" | median); cr=$(printf '%s\n' "${ct_rss[@]}" | median)
printf 'ferry %s, %s runs, medians\n' "$VERSION" "$RUNS"
printf '| measure | release | baseline (same binary on the host) | ratio |\n|---|---|---|---|\n'
printf '| image size | %.1f MB | | |\n' "$(echo "$image_bytes / 1000000" | bc -l)"
printf '| tarball size | %.1f MB | | |\n' "$(echo "$(stat -c %s "$DIST"/ferry-"$VERSION"-linux-*.tar.gz) / 1000000" | bc -l)"
printf '| start to /readyz | %.2f s (podman run) | %.2f s | %.2f |\n' "$cs" "$hs" "$(echo "$cs / $hs" | bc -l)"
printf '| idle RSS after 10 s | %.1f MiB (in the container) | %.1f MiB | %.2f |\n' "$cr" "$hr" "$(echo "$cr / $hr" | bc -l)"
echo "all runs: host start ${host_start[*]}; container start ${ct_start[*]}; host RSS ${host_rss[*]}; container RSS ${ct_rss[*]}"
