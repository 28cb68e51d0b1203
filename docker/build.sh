#!/usr/bin/env bash
# Builds the reference agent image conformance/reference:dev without any registry (none is reachable here):
#   1. the engine (docker/ensure-engine.sh);
#   2. the base image local/debian:bookworm, once: `debootstrap --variant=minbase bookworm` + `docker import`
#      (skipped when the image exists; override with BASE=debian:bookworm-slim where a registry is reachable);
#   3. a self-contained `dotnet publish -r linux-x64` of src/Conformance.Cli (from a copy of src/ and suites/ in
#      docker/bin/src) plus the host's libsodium.so.23, libssl.so.3 and libcrypto.so.3 (.NET's crypto is OpenSSL) into
#      the build context docker/bin/reference/ (nothing is
#      downloaded inside the image build; the NuGet runtime packs come through the ordinary restore);
#   4. `docker build -f docker/reference.Dockerfile --build-arg BASE=... -t conformance/reference:dev`.
# The image carries the label conformance.source = a hash of the SDK version, this script, docker/reference.Dockerfile,
# Directory.Build.props, src/ and suites/ (every file but bin/, obj/ and src/agents/); an image whose label differs from the
# working tree is rebuilt, so a changed agent never runs from a stale image (the harness runs this script before every
# docker start; it returns at once when the image is up to date).
# Usage: docker/build.sh [--base-only] [--force]      (--force rebuilds the image even when it is up to date)
# Each step prints one line `build: <step> <seconds> s`; a failure prints `build: <reason>` on stderr, exit 1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE="${BASE:-local/debian:bookworm}"
IMAGE="${IMAGE:-conformance/reference:dev}"
SUITE="${SUITE:-bookworm}"
CONTEXT="$ROOT/docker/bin/reference"
export DOCKER_BUILDKIT=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

base_only=0; force=0
for a in "$@"; do
  case "$a" in
    --base-only) base_only=1 ;;
    --force) force=1 ;;
    *) echo "build: unknown option '$a' (usage: docker/build.sh [--base-only] [--force])" >&2; exit 2 ;;
  esac
done

fail() { echo "build: $*" >&2; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t=$(now)
bash "$ROOT/docker/ensure-engine.sh" >/dev/null || fail "no Docker engine (docker/ensure-engine.sh failed)"
echo "build: engine $(took "$t") s"

# ---- 2. the offline base image
if docker image inspect "$BASE" >/dev/null 2>&1; then
  echo "build: base $BASE present"
elif [ "$BASE" = "local/debian:$SUITE" ]; then
  command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
  t=$(now)
  dir=$(mktemp -d /var/tmp/conformance-debootstrap.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  debootstrap --variant=minbase "$SUITE" "$dir" >"$dir.log" 2>&1 \
    || fail "debootstrap --variant=minbase $SUITE failed: $(tail -n 2 "$dir.log" | tr '\n' ' ') (log $dir.log)"
  echo "build: debootstrap $(took "$t") s"
  t=$(now)
  tar -C "$dir" -c . | docker import - "$BASE" >/dev/null || fail "docker import of the $SUITE root failed"
  rm -rf "$dir" "$dir.log"; trap - EXIT
  echo "build: import $BASE $(took "$t") s"
else
  fail "base image $BASE is missing and cannot be pulled here (no registry); use BASE=local/debian:$SUITE"
fi
[ "$base_only" = 1 ] && exit 0

source_hash() {
  { dotnet --version
    (cd "$ROOT" && find Directory.Build.props docker/build.sh docker/reference.Dockerfile src suites \( -name bin -o -name obj -o -path src/agents \) -prune -o -type f -print \
       | LC_ALL=C sort | xargs -d '\n' sha256sum)
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

# ---- 3. the build context: self-contained publish + libsodium from the host
# The publish runs on a copy of the sources (docker/bin/src) so that its RID-specific restore never rewrites the
# obj/ folders a concurrent Debug build or test run of the working tree is using.
t=$(now)
SRC="$ROOT/docker/bin/src"
mkdir -p "$SRC"
find "$SRC" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) -not -path '*/obj/*' -not -path '*/bin/*' -delete 2>/dev/null || true
tar -C "$ROOT" --exclude=bin --exclude=obj --exclude=node_modules -c Directory.Build.props src suites | tar -C "$SRC" -x
rm -rf "$CONTEXT"; mkdir -p "$CONTEXT/app" "$CONTEXT/lib"
dotnet publish "$SRC/src/Conformance.Cli/Conformance.Cli.csproj" -c Release -r linux-x64 --self-contained \
  -p:InvariantGlobalization=true -p:UseAppHost=true -o "$CONTEXT/app" -nologo -v q -clp:ErrorsOnly >"$CONTEXT.publish.log" 2>&1 \
  || fail "dotnet publish -r linux-x64 --self-contained failed: $(grep -m1 -E 'error' "$CONTEXT.publish.log" || tail -n 1 "$CONTEXT.publish.log") (log $CONTEXT.publish.log)"
# The agent never opens a browser: Playwright's driver (node and its package, 135 MB), which the suites' package
# reference copies into every output, stays out of the image.
rm -rf "$CONTEXT/app/.playwright"
sodium=$(ls /usr/lib/x86_64-linux-gnu/libsodium.so.23* 2>/dev/null || true)
[ -n "$sodium" ] || fail "libsodium.so.23 is not on this host (apt-get install libsodium23)"
cp -a /usr/lib/x86_64-linux-gnu/libsodium.so.23* "$CONTEXT/lib/"
# .NET's System.Security.Cryptography (SHA-256, AES-GCM, HMAC) is OpenSSL on Linux; a minbase root has no libssl3.
ls /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 >/dev/null 2>&1 \
  || fail "libssl.so.3 / libcrypto.so.3 are not on this host (apt-get install libssl3)"
cp -aL /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 "$CONTEXT/lib/"
echo "build: publish $(took "$t") s"

# ---- 4. the image
t=$(now)
docker build --build-arg BASE="$BASE" --label "conformance.source=$SOURCE" -f "$ROOT/docker/reference.Dockerfile" -t "$IMAGE" "$CONTEXT" >"$CONTEXT.build.log" 2>&1 \
  || fail "docker build failed: $(tail -n 2 "$CONTEXT.build.log" | tr '\n' ' ') (log $CONTEXT.build.log)"
echo "build: image $IMAGE $(took "$t") s"
# The image this one replaced, now untagged, goes (only dangling images of ours: they carry the source label).
docker image prune -f --filter label=conformance.source >/dev/null 2>&1 || true
