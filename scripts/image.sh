#!/usr/bin/env bash
# Usage: scripts/image.sh            build the image (IMAGE, default rds-csi:ci)
#
# Builds the repository's Dockerfile with buildah, daemonless, as CI does. The Dockerfile
# is the ordinary one (`docker build .` on the public node:<major>-bookworm-slim base);
# this script only supplies that base when no registry is reachable:
#
#   RDS_CSI_BASE=auto      (default) pull the public base; if that fails, use the stand-in
#   RDS_CSI_BASE=registry  pull the public base, fail if it cannot
#   RDS_CSI_BASE=local     always use the stand-in
#
# The stand-in is tagged with the public name, so `FROM` resolves to it with --pull=never:
# a Debian minbase rootfs (mmdebstrap), Node and npm under /usr/local from the npm registry
# (scripts/node-dist.sh), a `node` user with uid 1000, dpkg's path excludes and apt's
# docker-clean setting as in the official slim images. Its rootfs is cached in
# .cache/image/ keyed by Node version, npm version and Debian snapshot: DEBIAN_SNAPSHOT
# (a snapshot.debian.org timestamp such as 20260601T000000Z) for a fixed one, else the
# mirror as of today's UTC date.
#
# When the host's CA bundle exists it is mounted, with an npmrc pointing npm at it, over
# /usr/local/etc (empty in the base) for every RUN step, so npm works behind a proxy that
# re-signs TLS; a directory bind mount leaves nothing behind in the image.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
IMAGE=${IMAGE:-rds-csi:ci}
mode=${RDS_CSI_BASE:-auto}
cache="$root/.cache/image"
mkdir -p "$cache"

log() { echo "image: $*" >&2; }

major=$(sed -nE 's/^ARG NODE_VERSION=([0-9]+)$/\1/p' Dockerfile)
release=$(sed -nE 's/^ARG DEBIAN_RELEASE=([a-z]+)$/\1/p' Dockerfile)
base="docker.io/library/node:$major-$release-slim"

# --policy always: a stand-in stored under the same name must not count as the public base.
pull_base() { timeout 120 buildah pull --policy always --quiet "$base" >/dev/null 2>&1; }

# Writes the stand-in rootfs tarball for $1 (node prefix) to $2.
make_rootfs() {
  local prefix=$1 out=$2 mirror security
  if [ -n "${DEBIAN_SNAPSHOT:-}" ]; then
    mirror="http://snapshot.debian.org/archive/debian/$DEBIAN_SNAPSHOT"
    security="http://snapshot.debian.org/archive/debian-security/$DEBIAN_SNAPSHOT"
  else
    mirror=http://deb.debian.org/debian
    security=http://deb.debian.org/debian-security
  fi
  # path-exclude lines end up in /etc/dpkg/dpkg.cfg.d/99mmdebstrap, so they keep applying
  # to the packages the Dockerfile installs, as the slim images' dpkg config does.
  # The system python3 (mmdebstrap runs it once per package), not a user-installed one.
  PATH=/usr/sbin:/usr/bin:/sbin:/bin mmdebstrap --variant=minbase --format=tar --quiet \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/groff/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" >"$1/etc/apt/apt.conf.d/docker-clean"' \
    --customize-hook="cp -a '$prefix/.' \"\$1/usr/local/\"" \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$release" "$out" \
    "deb $mirror $release main" \
    "deb $mirror $release-updates main" \
    "deb $security $release-security main"
}

stand_in() {
  local prefix node_version key tar
  prefix=$(scripts/node-dist.sh "$major")
  node_version=$("$prefix/bin/node" -p 'process.versions.node')
  key="node$node_version-$(basename "$prefix" | sed 's/.*-//')-$release-${DEBIAN_SNAPSHOT:-$(date -u +%Y%m%d)}"
  if [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "rds-csi.stand-in"}}' "$base" 2>/dev/null)" = "$key" ]; then
    log "stand-in $base ($key) is current"
    return
  fi
  tar="$cache/rootfs-$key.tar"
  if [ ! -s "$tar" ]; then
    log "assembling the stand-in rootfs ($key)"
    rm -f "$cache"/rootfs-*.tar
    make_rootfs "$prefix" "$tar.part"
    mv "$tar.part" "$tar"
  fi
  local ctr
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$tar" / >/dev/null
  buildah config \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env "NODE_VERSION=$node_version" \
    --cmd node \
    --annotation "rds-csi.stand-in=$key" \
    --label "org.opencontainers.image.description=Local stand-in for $base: Debian $release minbase, Node $node_version from the npm registry" \
    "$ctr"
  buildah commit --quiet --rm "$ctr" "$base" >/dev/null
  log "stand-in $base committed ($key)"
}

case "$mode" in
  registry) pull_base || { log "cannot pull $base"; exit 1; } ;;
  local) stand_in ;;
  auto) if pull_base; then log "using the public $base"; else log "$base cannot be pulled; using the stand-in"; stand_in; fi ;;
  *) log "RDS_CSI_BASE must be auto, registry or local"; exit 2 ;;
esac

mounts=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$cache/etc"
  cp /etc/ssl/certs/ca-certificates.crt "$cache/etc/ca-certificates.crt"
  echo 'cafile=/usr/local/etc/ca-certificates.crt' >"$cache/etc/npmrc"
  mounts=(-v "$cache/etc:/usr/local/etc:ro")
fi

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
version=$(node -p "require('./package.json').version")
log "building $IMAGE (commit $commit)"
buildah bud --pull=never --isolation chroot --network host --layers \
  "${mounts[@]}" \
  --build-arg "BUILD_COMMIT=$commit" \
  --build-arg "VERSION=$version" \
  -t "$IMAGE" .
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "$IMAGE: $((size / 1000000)) MB uncompressed"
