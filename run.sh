#!/usr/bin/env bash
# Conformance: one entry point for people and CI.
#   ./run.sh [--agent NAME|URL] [--runtime process|docker] [--mediator embedded|DID|URL] [--suite RFC0160,...]
#                            run the suites (default: every suite against the embedded reference agent and mediator;
#                            --agent alone: the agent suites; --mediator alone: the DIDComm v2 mediator suites;
#                            an external agent's cases run 4 side by side, --parallel N to change that)
#   ./run.sh test            build and run the project's own tests (what CI runs)
#   ./run.sh fixtures [--accept]   verify (or rewrite) the golden wire fixtures
#   ./run.sh interop [--agents reference,credo] [--runtime process]   every ordered pair of agents: the interop matrix
#   ./run.sh cli ARGS...     run the `conformance` command-line tool
#   ./run.sh bench ...       benchmarks (Release build)
# Exit codes: 0 ok, 1 a case or test failed, 2 usage error.
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages the project needs: libsodium23 (the wire layer's crypto) and chromium (browser cases).
# Installed on first use when run as root (as CI and fresh machines of this kind are); otherwise a clear message.
need_sodium() {
  local missing=()
  ldconfig -p 2>/dev/null | grep 'libsodium.so.23' >/dev/null || missing+=(libsodium23)   # no -q: under pipefail an early exit would fail the pipe
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing ${missing[*]} (apt-get)" >&2
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
      || { echo "run.sh: apt-get install ${missing[*]} failed" >&2; exit 2; }
  elif [[ " ${missing[*]} " == *" libsodium23 "* ]]; then
    echo "run.sh: libsodium23 is missing; install it with: apt-get install -y ${missing[*]}" >&2
    exit 2
  else
    echo "run.sh: chromium is missing (browser cases will be UNSUPPORTED); install it with: apt-get install -y chromium" >&2
  fi
}

build() { # build [Configuration]
  dotnet build "$ROOT/Conformance.sln" -c "${1:-Debug}" -nologo -v q -clp:ErrorsOnly 1>&2 || { echo "run.sh: build failed" >&2; exit 1; }
}

cli_dll() { echo "$ROOT/src/Conformance.Cli/bin/${1:-Debug}/net10.0/conformance.dll"; }

cmd_test() {
  need_sodium
  build Debug
  local log; log=$(mktemp)
  local rc=0
  dotnet test "$ROOT/Conformance.sln" --no-build -nologo "$@" 2>&1 | tee "$log" || rc=$?
  # Sum the per-assembly summaries of `dotnet test` into one closing line.
  awk '/(Passed|Failed)!  *- *Failed:/ {
         for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
       }
       END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
  if grep -q 'Failed!' "$log" && [ "$rc" -eq 0 ]; then rc=1; fi
  rm -f "$log"
  return $rc
}

cmd_cli() {
  need_sodium
  [ -f "$(cli_dll)" ] && [ -z "${CONFORMANCE_REBUILD:-}" ] || build Debug
  exec dotnet "$(cli_dll)" "$@"
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  cli) shift; cmd_cli "$@" ;;
  fixtures) shift; need_sodium; build Debug; exec dotnet "$(cli_dll)" fixtures "$@" ;;
  interop) shift; need_sodium; build Debug; exec dotnet "$(cli_dll)" interop "$@" ;;
  bench) shift; need_sodium; build Release; exec dotnet "$(cli_dll Release)" bench "$@" ;;
  -h|--help|help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) need_sodium; build Debug; exec dotnet "$(cli_dll)" run "$@" ;;
esac
