#!/usr/bin/env bash
# Builds Prometheus' promtool, used by the tests to check and unit-test the
# alerting and recording rules, from the wrapper Go module next to this script
# (go.mod, go.sum, tools.go) into a cache outside the repository, and prints
# that directory.
#
#   test/prometheus/build.sh            reuse the cached promtool, or build it
#   test/prometheus/build.sh --rebuild  build again even if the cached one works
#
# Environment:
#   LLMSAFESPACE_PROMTOOL_CACHE    cache root (default ~/.cache/llmsafespace/promtool)
#   LLMSAFESPACE_PROMTOOL_REBUILD  set to 1 for the same effect as --rebuild
#
# Output: progress goes to stderr; the LAST line on stdout is the absolute
# directory holding `promtool`. Exit status is non-zero on any failure. Go is
# only needed when something has to be built; the modules are fetched through
# the normal Go module proxy with -mod=readonly, so go.mod and go.sum are never
# edited.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# say, die, parse_build_args, module_version, cache_dir, reuse_or_lock, tmp_files.
source "$here/../support/go-build-cache.sh"

parse_build_args LLMSAFESPACE_PROMTOOL_REBUILD "$@"

# The version comes from the wrapper go.mod so it cannot drift from it.
module="github.com/prometheus/prometheus"
module_v="$(module_version "$here/go.mod" "$module")"
# Prometheus 3.Y.Z is published as the Go module version v0.3YY.Z (3.16.0 is
# v0.316.0): the module cannot be v3 without a /v3 import path.
[[ "$module_v" =~ ^v0\.3([0-9]{2})\.([0-9]+)$ ]] ||
  die "cannot read the ${module} version from go.mod (got '${module_v}', expected v0.3YY.Z)"
prom_version="3.$((10#${BASH_REMATCH[1]})).${BASH_REMATCH[2]}"

out="$(cache_dir LLMSAFESPACE_PROMTOOL_CACHE promtool)/${module_v}"
mkdir -p "$out"

# `promtool --version` prints "promtool, version 3.16.0 (branch: …, revision: …)"
# on its first line. The output is captured before it is matched: piping into
# `grep -q` can kill the writer with SIGPIPE, which pipefail would report as a
# failure. kingpin may print the version on stdout or stderr: take both.
reports_version() { # <binary>
  local output
  [ -x "$1" ] || return 1
  output="$("$1" --version 2>&1)" || return 1
  grep -q "^promtool, version ${prom_version//./\\.} (" <<<"$output"
}
promtool_ok() { reports_version "$out/promtool"; }
cached="promtool ${prom_version} (${module} ${module_v})"

reuse_or_lock promtool_ok "$cached" "Go 1.26.7"

tmp="$out/.promtool.tmp.$$"
tmp_files+=("$tmp")

say "using $(go version)"

# The same version stamps as Prometheus' own release build (.promu.yml in the
# module). Without them `promtool --version` prints an empty version and the
# cache check above could never pass. Revision and Branch stay empty: the
# module proxy does not say which commit the module version was cut from.
vpkg=github.com/prometheus/common/version
ldflags="-s -w -X ${vpkg}.Version=${prom_version} -X ${vpkg}.BuildUser=test/prometheus/build.sh"
ldflags+=" -X ${vpkg}.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"

# netgo is the one tag Prometheus' release build gives promtool (builtinassets
# only concerns the web UI of the prometheus server). Every service-discovery
# plugin stays in, as in the release binary, so `promtool check config`
# accepts any scrape configuration.
say "building ${cached} (first build takes several minutes on 2 cores)…"
start=$SECONDS
(cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath -tags netgo -ldflags "$ldflags" \
  -o "$tmp" "${module}/cmd/promtool") ||
  die "building promtool failed (go build ${module}/cmd/promtool in test/prometheus, see the errors above)"

# The module's own VERSION file says which Prometheus release it is; refuse a
# binary stamped with anything else (the v0.3YY.Z mapping above is a convention).
module_dir="$(cd "$here" && go list -mod=readonly -m -f '{{.Dir}}' "$module")"
if [ -n "$module_dir" ] && [ -f "$module_dir/VERSION" ]; then
  actual="$(tr -d '[:space:]' <"$module_dir/VERSION")"
  [ "$actual" = "$prom_version" ] ||
    die "${module} ${module_v} is Prometheus ${actual} according to its VERSION file, not ${prom_version}"
fi

mv -f "$tmp" "$out/promtool"
say "built promtool in $((SECONDS - start))s"

promtool_ok || die "promtool was built in $out but does not report version ${prom_version}"
say "${cached} is in $out"
printf '%s\n' "$out"
