#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock. Idempotent: does nothing when `docker info` answers.
#   1. installs docker.io containerd runc iptables debootstrap with apt if dockerd is missing (needs root);
#   2. starts dockerd in the background when it is not running (no systemd here), logging to $DOCKERD_LOG;
#   3. waits until `docker info` answers (at most $ENGINE_TIMEOUT_S seconds, default 60).
# Prints one line `engine: ready (...)` on success — `engine: ready (started dockerd pid N, ...)` when this call started
# the daemon, whose pid also goes to $DOCKERD_PIDFILE so that docker/stop-engine.sh (or whoever started it) can stop
# it by its pid. On failure: one line `engine: <reason>` on stderr, exit 1.
# See shared/notes/docker.md for the verified facts this relies on (no registry, no systemd, cgroup v1, overlay2).
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/conformance-dockerd.log}"
DOCKERD_PIDFILE="${DOCKERD_PIDFILE:-/run/conformance-dockerd.pid}"
ENGINE_TIMEOUT_S="${ENGINE_TIMEOUT_S:-60}"
t0=$(date +%s.%N)

fail() { echo "engine: $*" >&2; exit 1; }
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
answers() { timeout 10 docker info >/dev/null 2>&1; }

if answers; then
  echo "engine: ready (already running, $(elapsed) s)"
  exit 0
fi

if [ ! -x /usr/sbin/dockerd ] || ! command -v debootstrap >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "dockerd is not installed and this is not root: install docker.io containerd runc iptables debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; `update` once when the candidate is unknown.
  if ! apt-cache policy docker.io 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq >/dev/null || fail "apt-get update failed"
  fi
  apt-get install -y -qq --no-install-recommends docker.io containerd runc iptables debootstrap >/dev/null \
    || fail "apt-get install docker.io containerd runc iptables debootstrap failed"
fi
[ -x /usr/sbin/dockerd ] || fail "/usr/sbin/dockerd is missing after install"

# One caller at a time from here on (two callers must not start two daemons).
exec 9>"${DOCKERD_PIDFILE}.lock"
flock -w "$ENGINE_TIMEOUT_S" 9 || fail "another ensure-engine.sh holds ${DOCKERD_PIDFILE}.lock"

started=""
pid=""
if ! pgrep -x dockerd >/dev/null 2>&1; then
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  # Not a process-group leader here, so setsid does not fork: $! is dockerd's own pid once nohup has exec'd it.
  setsid nohup /usr/sbin/dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$DOCKERD_PIDFILE"
  started="started dockerd pid $pid, "
fi

deadline=$(( $(date +%s) + ENGINE_TIMEOUT_S ))
until answers; do
  if [ -n "$pid" ] && [ ! -d "/proc/$pid" ]; then
    rm -f "$DOCKERD_PIDFILE"
    fail "dockerd exited: $(tail -n 3 "$DOCKERD_LOG" 2>/dev/null | tr '\n' ' ')"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "dockerd did not answer within ${ENGINE_TIMEOUT_S} s (log: $DOCKERD_LOG)"
  sleep 0.2
done
echo "engine: ready (${started}$(elapsed) s, log $DOCKERD_LOG)"
