#!/usr/bin/env bash
# Builds the Credo agent image conformance/credo:dev without any registry:
#   1. a Docker engine: docker/ensure-engine.sh when present (drivers branch), else one must be running;
#   2. the base image local/debian:bookworm: docker/build.sh --base-only when it is missing (override with
#      BASE=debian:bookworm-slim where a registry is reachable);
#   3. the build context docker/bin/credo/: the host's node binary and src/agents/credo with node_modules
#      (installed with `npm install --ignore-scripts --no-audit --no-fund` when missing; nothing is installed
#      inside the image build);
#   4. `docker build -f docker/credo.Dockerfile --build-arg BASE=... -t conformance/credo:dev docker/bin/credo`.
# The image carries the label conformance.source = a hash of the host's node version, this script, docker/credo.Dockerfile
# and src/agents/credo (every file but node_modules and test/logs, with package-lock.json standing for node_modules);
# an image whose label differs from the working tree is rebuilt, so a changed backchannel never runs from a stale image.
# Usage: docker/build-credo.sh [--force]     (--force rebuilds the image even when it is up to date)
# Each step prints `build: <step> <seconds> s`; a failure prints `build: <reason>` on stderr, exit 1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE="${BASE:-local/debian:bookworm}"
IMAGE="${IMAGE:-conformance/credo:dev}"
AGENT="$ROOT/src/agents/credo"
CONTEXT="$ROOT/docker/bin/credo"
export DOCKER_BUILDKIT=0

force=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    *) echo "build: unknown option '$a' (usage: docker/build-credo.sh [--force])" >&2; exit 2 ;;
  esac
done

fail() { echo "build: $*" >&2; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t=$(now)
if [ -x "$ROOT/docker/ensure-engine.sh" ] || [ -f "$ROOT/docker/ensure-engine.sh" ]; then
  bash "$ROOT/docker/ensure-engine.sh" >/dev/null || fail "no Docker engine (docker/ensure-engine.sh failed)"
else
  docker info >/dev/null 2>&1 || fail "no Docker engine is running (start dockerd, see shared/notes/docker.md)"
fi
echo "build: engine $(took "$t") s"

NODE=$(command -v node) || fail "node is not installed on the host"
NODE=$(readlink -f "$NODE")
source_hash() {
  { "$NODE" --version
    sha256sum "$ROOT/docker/build-credo.sh" "$ROOT/docker/credo.Dockerfile" | cut -c1-64
    (cd "$AGENT" && find . \( -path ./node_modules -o -path ./test/logs \) -prune -o -type f -print | LC_ALL=C sort | xargs -d '\n' sha256sum)
  } | sha256sum | cut -c1-16
}
SOURCE=$(source_hash)
if [ "$force" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  have=$(docker image inspect -f '{{ index .Config.Labels "conformance.source" }}' "$IMAGE" 2>/dev/null || true)
  if [ "$have" = "$SOURCE" ]; then
    echo "build: image $IMAGE present and up to date (source $SOURCE; use --force to rebuild)"
    exit 0
  fi
  echo "build: image $IMAGE is stale (source ${have:-unlabelled}, working tree $SOURCE): rebuilding"
fi

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  [ -f "$ROOT/docker/build.sh" ] || fail "base image $BASE is missing and docker/build.sh (which makes it) is not here"
  bash "$ROOT/docker/build.sh" --base-only || fail "docker/build.sh --base-only failed"
fi
echo "build: base $BASE present"

t=$(now)
if [ ! -f "$AGENT/node_modules/@credo-ts/core/package.json" ]; then
  (cd "$AGENT" && npm install --ignore-scripts --no-audit --no-fund >/dev/null 2>&1) || fail "npm install in src/agents/credo failed"
fi
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/node" "$CONTEXT/app"
cp "$NODE" "$CONTEXT/node/node"
(cd "$AGENT" && tar -c --exclude=./test/logs .) | tar -C "$CONTEXT/app" -x
echo "build: context $(took "$t") s ($(du -sh "$CONTEXT" | cut -f1))"

t=$(now)
docker build -q -f "$ROOT/docker/credo.Dockerfile" --build-arg "BASE=$BASE" --label "conformance.source=$SOURCE" -t "$IMAGE" "$CONTEXT" >/dev/null \
  || fail "docker build of $IMAGE failed"
echo "build: image $IMAGE $(took "$t") s"
# The image this one replaced, now untagged, goes (only dangling images of ours: they carry the source label).
docker image prune -f --filter label=conformance.source >/dev/null 2>&1 || true
