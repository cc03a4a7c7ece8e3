# What test/cluster/build.sh and test/prometheus/build.sh share: building tools from wrapper Go
# modules into a cache outside the repository, and reusing what is there. Sourced, not run:
#
#   source "$here/../support/go-build-cache.sh"
#   parse_build_args LLMSAFESPACE_X_REBUILD "$@"       # sets $rebuild (--rebuild, -h/--help)
#   out="$(cache_dir LLMSAFESPACE_X_CACHE x)/<version>"; mkdir -p "$out"
#   reuse_or_lock binaries_ok "<what, for messages>" "<Go it needs>"   # exits 0 when cached
#   tmp_files+=("$out/.x.tmp.$$")                      # removed on exit, built or not
#
# Progress goes to stderr; a script prints its output directory as the last line of stdout.

say() { printf '%s\n' "$*" >&2; }
die() { say "$(basename "$0"): $*"; exit 1; }

# --rebuild, or the environment variable named by $1 set to 1, builds again; -h/--help prints the
# calling script's header comment (its lines 2 to 18).
parse_build_args() { # <rebuild env var> <args…>
  rebuild="${!1:-0}"
  shift
  local arg
  for arg in "$@"; do
    case "$arg" in
      --rebuild) rebuild=1 ;;
      -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
      *) die "unknown argument: $arg (only --rebuild is accepted)" ;;
    esac
  done
}

# The version of a module from a wrapper go.mod, so that it cannot drift from it: `require
# <module> <version>` on one line, as written in those files.
module_version() { # <go.mod> <module path>
  awk -v m="$2" '$1 == "require" && $2 == m { print $3; exit }' "$1"
}

# The absolute cache root: the directory the environment variable $1 names, or
# ~/.cache/llmsafespace/<$2>; created if missing.
cache_dir() { # <cache env var> <default folder name>
  local root="${!1:-${HOME:?HOME is not set}/.cache/llmsafespace/$2}"
  mkdir -p "$root"
  (cd "$root" && pwd -P)
}

# Prints $out and exits when `check` passes (and no rebuild was asked for). Otherwise makes sure
# Go is there, and takes the cache directory's lock when flock(1) exists (Linux): a second caller
# waits, then finds what the first built.
reuse_or_lock() { # <check command> <what, for messages> <Go it needs>
  local check="$1" what="$2" go_needed="$3"
  if [ "$rebuild" != 1 ] && "$check"; then
    say "using cached ${what} in $out"
    printf '%s\n' "$out"
    exit 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "'go' is not on PATH. Install ${go_needed} or newer (https://go.dev/dl/) to build ${what}, or put what it builds in $out"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$out/.lock"
    if ! flock -n 9; then
      say "another build.sh is building into $out; waiting for it…"
      flock 9
    fi
    if [ "$rebuild" != 1 ] && "$check"; then
      say "using cached ${what} in $out"
      printf '%s\n' "$out"
      exit 0
    fi
  fi
}

# Builds go to a temporary name in the cache directory and are renamed at the end, so an
# interrupted build never leaves a partial file under the final name; these go on exit.
tmp_files=()
cleanup_tmp_files() { [ "${#tmp_files[@]}" -eq 0 ] || rm -f "${tmp_files[@]}"; }
trap cleanup_tmp_files EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
