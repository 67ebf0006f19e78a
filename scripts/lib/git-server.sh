#!/usr/bin/env bash
# A git server for the test suite (tests/harness/git_server.py: git's smart HTTP through
# `git http-backend`, Basic auth), on a port of its own, stopped by PID. Sourced by scripts/test.
# Serves $dir/repos, holding the bare repository ferry.git (branch main, pushes allowed).

git_server_start() { # dir port user token
  local dir=$1 port=$2 user=$3 token=$4
  rm -rf "$dir"; mkdir -p "$dir/repos"
  python3 "$FERRY_ROOT/tests/harness/git_server.py" --root "$dir/repos" --port "$port" \
    --user "$user" --token "$token" >"$dir/server.log" 2>&1 &
  GIT_SERVER_PID=$!
  GIT_SERVER_BARE="$dir/repos/ferry.git"
  for _ in $(seq 1 40); do
    GIT_TERMINAL_PROMPT=0 git -c credential.helper= ls-remote \
      "http://$user:$token@127.0.0.1:$port/ferry.git" >/dev/null 2>&1 && return 0
    kill -0 "$GIT_SERVER_PID" 2>/dev/null || break
    sleep 0.25
  done
  cat "$dir/server.log" >&2
  return 1
}
