#!/usr/bin/env bash
# Stops the dockerd that docker/ensure-engine.sh started, by the pid it recorded (never by name: another dockerd
# on the machine is not ours). SIGTERM, then up to $STOP_TIMEOUT_S seconds (default 30) for it to exit.
# Prints one line; exit 0 also when there is nothing to stop.
set -euo pipefail
DOCKERD_PIDFILE="${DOCKERD_PIDFILE:-/run/conformance-dockerd.pid}"
STOP_TIMEOUT_S="${STOP_TIMEOUT_S:-30}"
[ -f "$DOCKERD_PIDFILE" ] || { echo "engine: no pid file $DOCKERD_PIDFILE: nothing started by ensure-engine.sh"; exit 0; }
pid=$(cat "$DOCKERD_PIDFILE")
if ! [ -d "/proc/$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
  rm -f "$DOCKERD_PIDFILE"
  echo "engine: dockerd pid $pid is not running"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 $((STOP_TIMEOUT_S * 10))); do
  [ -d "/proc/$pid" ] || { rm -f "$DOCKERD_PIDFILE"; echo "engine: stopped dockerd pid $pid"; exit 0; }
  sleep 0.1
done
echo "engine: dockerd pid $pid did not stop within ${STOP_TIMEOUT_S} s" >&2
exit 1
