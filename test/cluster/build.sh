#!/usr/bin/env bash
# Builds the real etcd, kube-apiserver, kube-controller-manager and kubectl used
# by the cluster test tiers from the wrapper Go modules next to this script
# (kube-apiserver/, which also builds kube-controller-manager and kubectl, and
# etcd/), into a cache outside the repository, and prints that directory.
#
#   test/cluster/build.sh            reuse the cached binaries, or build them
#   test/cluster/build.sh --rebuild  build again even if cached binaries work
#
# Environment:
#   LLMSAFESPACE_CLUSTER_CACHE    cache root (default ~/.cache/llmsafespace/cluster)
#   LLMSAFESPACE_CLUSTER_REBUILD  set to 1 for the same effect as --rebuild
#
# Output: progress goes to stderr; the LAST line on stdout is the absolute
# directory holding `etcd`, `kube-apiserver`, `kube-controller-manager` and
# `kubectl`. Exit status is
# non-zero on any failure. Go is only needed when something has to be built;
# the modules are fetched through the normal Go module proxy with
# -mod=readonly, so go.mod and go.sum are never edited.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# say, die, parse_build_args, module_version, cache_dir, reuse_or_lock, tmp_files.
source "$here/../support/go-build-cache.sh"

parse_build_args LLMSAFESPACE_CLUSTER_REBUILD "$@"

# The versions come from the wrapper go.mod files so they cannot drift apart.
k8s_version="$(module_version "$here/kube-apiserver/go.mod" k8s.io/kubernetes)"
etcd_version="$(module_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)"
[[ "$k8s_version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] ||
  die "cannot read the k8s.io/kubernetes version from kube-apiserver/go.mod (got '${k8s_version}')"
k8s_minor="${BASH_REMATCH[1]}"
[[ "$etcd_version" =~ ^v3\.[0-9]+\.[0-9]+$ ]] ||
  die "cannot read the go.etcd.io/etcd/server/v3 version from etcd/go.mod (got '${etcd_version}')"

# Every k8s.io staging module must be replaced by the v0.Y.Z matching v1.Y.Z.
staging_version="v0.${k8s_version#v1.}"
bad="$(awk -v want="$staging_version" '$1 ~ /^k8s\.io\// && $2 == "=>" && $4 != want' "$here/kube-apiserver/go.mod")"
[ -z "$bad" ] || die "kube-apiserver/go.mod replaces staging modules with versions other than ${staging_version}:
${bad}"

out="$(cache_dir LLMSAFESPACE_CLUSTER_CACHE cluster)/${k8s_version}-etcd-${etcd_version}"
mkdir -p "$out"

# `<binary> <args…>` prints the pinned version on a line of its own. The output
# is captured before it is matched: piping into `grep -q` can kill the writer
# with SIGPIPE, which pipefail would report as a failure.
reports_version() { # <expected line> <binary> [args…]
  local expected="$1" output
  shift
  [ -x "$1" ] || return 1
  output="$("$@" 2>/dev/null)" || return 1
  grep -qxF "$expected" <<<"$output"
}
apiserver_ok() { reports_version "Kubernetes ${k8s_version}" "$out/kube-apiserver" --version; }
etcd_ok() { reports_version "etcd Version: ${etcd_version#v}" "$out/etcd" --version; }
# kubectl has no --version flag; `version --client` works without a cluster.
kubectl_ok() { reports_version "Client Version: ${k8s_version}" "$out/kubectl" version --client; }
controller_manager_ok() { reports_version "Kubernetes ${k8s_version}" "$out/kube-controller-manager" --version; }
binaries_ok() { apiserver_ok && etcd_ok && kubectl_ok && controller_manager_ok; }
cached="kube-apiserver ${k8s_version}, kube-controller-manager ${k8s_version}, kubectl ${k8s_version} and etcd ${etcd_version}"

reuse_or_lock binaries_ok "$cached" "Go 1.26"

build() { # <name> <module dir> <package> <ldflags>
  local name="$1" dir="$2" pkg="$3" ldflags="$4"
  local tmp="$out/.${name}.tmp.$$" start=$SECONDS
  tmp_files+=("$tmp")
  (cd "$dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg") ||
    die "building $name failed (go build $pkg in ${dir#"$here"/}, see the errors above)"
  mv -f "$tmp" "$out/$name"
  say "built $name in $((SECONDS - start))s"
}

say "using $(go version)"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

if [ "$rebuild" = 1 ] || ! etcd_ok; then
  say "building etcd ${etcd_version} (about a minute on 2 cores)…"
  build etcd "$here/etcd" go.etcd.io/etcd/server/v3 "-s -w"
fi

# The same version stamps as Kubernetes' hack/lib/version.sh, for kube-apiserver
# and kubectl alike. Without them both call themselves v0.0.0-master, /version
# reports nothing useful, and the cache check above could never pass.
k8s_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=${k8s_version} -X $p.gitMajor=1 -X $p.gitMinor=${k8s_minor} -X $p.gitCommit="
  k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=${build_date}"
done

if [ "$rebuild" = 1 ] || ! apiserver_ok; then
  say "building kube-apiserver ${k8s_version} (first build takes several minutes on 2 cores)…"
  build kube-apiserver "$here/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
fi

# kube-controller-manager runs the garbage collector and the serviceaccount,
# namespace and pvc-protection controllers for the tier with the real
# Metacontroller (test/e2e/); it comes from the same k8s.io/kubernetes module.
if [ "$rebuild" = 1 ] || ! controller_manager_ok; then
  say "building kube-controller-manager ${k8s_version} (a few minutes once kube-apiserver is built)…"
  build kube-controller-manager "$here/kube-apiserver" k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
fi

# kubectl builds the kustomizations under metacontroller/ (`kubectl kustomize`)
# for the manifest tests; it comes from the same k8s.io/kubernetes module.
if [ "$rebuild" = 1 ] || ! kubectl_ok; then
  say "building kubectl ${k8s_version} (a minute or two once kube-apiserver is built)…"
  build kubectl "$here/kube-apiserver" k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"
fi

binaries_ok || die "the binaries in $out were built but do not all report their pinned versions (kube-apiserver, kube-controller-manager and kubectl ${k8s_version}, etcd ${etcd_version#v})"
say "${cached} are in $out"
printf '%s\n' "$out"
