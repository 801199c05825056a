#!/usr/bin/env bash
# haproxy-trixie.sh: fetch Debian trixie's haproxy (3.0) with the libraries it
# needs, make it run on this bookworm machine, cache it, and print the path of
# the binary. Used by .ci/run to run the test suite on a second haproxy
# version (make test HAPROXY=$(scripts/haproxy-trixie.sh)).
#
# Why this way: bookworm has haproxy 2.6 only, Ray ships 2.8, and no registry
# this project reaches carries 2.8; trixie's 3.0 is the newer side of Ray's
# version. Installing trixie's packages would replace bookworm's libc, so we
# only download them with a private apt state (bookworm's own apt config and
# caches are not touched), unpack them into one directory, and point a copy
# of the binary at that directory's loader and libraries with patchelf
# (--force-rpath writes DT_RPATH, which the libraries' own dependencies
# honour too; DT_RUNPATH would apply to the binary's direct ones only).
#
# The cache is ${XDG_CACHE_HOME:-$HOME/.cache}/serve-launch/haproxy-trixie;
# a cached binary that still runs is reused without a network. --refresh
# fetches again (trixie's point releases update haproxy 3.0.x).
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/serve-launch/haproxy-trixie"
bin="$cache/haproxy"
want_major="3.0"

say() { echo "haproxy-trixie: $*" >&2; }

# version_line PROGRAM: the first line of PROGRAM -v. Not "PROGRAM -v | head -n 1":
# head exits after one line, haproxy may still be writing and dies of SIGPIPE,
# and under pipefail that 141 reads as "this binary does not run" (a needless
# fetch) or, below, fails the script.
version_line() {
  local out
  out=$("$1" -v 2>/dev/null) || return 1
  echo "${out%%$'\n'*}"
}

if [ "${1:-}" = "--refresh" ]; then
  rm -rf "$cache"
elif [ -n "${1:-}" ]; then
  say "error: unknown argument $1 (usage: scripts/haproxy-trixie.sh [--refresh])"
  exit 2
fi

if [ -x "$bin" ] && [[ "$(version_line "$bin")" == *"version $want_major."* ]]; then
  echo "$bin"
  exit 0
fi

for tool in apt-get dpkg-deb patchelf; do
  command -v "$tool" >/dev/null 2>&1 || {
    say "error: $tool is missing (apt-get install -y patchelf, as .ci/run does)"
    exit 1
  }
done

mkdir -p "$(dirname "$cache")"
work=$(mktemp -d "$(dirname "$cache")/.haproxy-trixie.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs" "$work/root"

# The mirrors are the ones this machine's apt already uses for bookworm,
# with trixie's suites; the keyring bookworm ships (debian-archive-keyring)
# holds trixie's keys.
apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | sort -u |
  while read -r uri release; do
    case "$release" in
      bookworm | bookworm-security)
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri ${release/bookworm/trixie} main"
        ;;
    esac
  done >"$work/apt/sources.list"
if ! grep -q ' trixie main' "$work/apt/sources.list"; then
  say "error: apt has no bookworm source to take trixie's from (see apt-get indextargets)"
  exit 1
fi
apt_opts=(
  -o "Dir::Etc::sourcelist=$work/apt/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/apt/lists"
  -o "Dir::Cache=$work/apt/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
  -qq
)
say "fetching trixie's package lists"
apt-get "${apt_opts[@]}" update >&2

# haproxy and the libraries it links, down to libc: all from trixie, so one
# loader and one libc serve every one of them.
pkgs=(haproxy libc6 libcrypt1 libjemalloc2 liblua5.4-0 libopentracing-c-wrapper0t64
  libopentracing1 libpcre2-8-0 libssl3t64 libstdc++6 libgcc-s1 zlib1g)
say "downloading ${pkgs[*]}"
(cd "$work/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >&2)
for deb in "$work/debs"/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done

lib="$cache/root/usr/lib/x86_64-linux-gnu"
cp "$work/root/usr/sbin/haproxy" "$work/haproxy"
# The paths are those of the cache, where the tree is moved next.
patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$work/haproxy"

rm -rf "$cache"
mkdir -p "$cache"
mv "$work/root" "$cache/root"
mv "$work/haproxy" "$bin"
ls "$work/debs" >"$cache/packages.txt"

version=$(version_line "$bin") || {
  say "error: $bin -v failed"
  exit 1
}
case "$version" in
  *"version $want_major."*) say "$version at $bin" ;;
  *)
    say "error: trixie's haproxy says \"$version\", not $want_major.x"
    exit 1
    ;;
esac
echo "$bin"
