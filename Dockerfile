# syntax=docker/dockerfile:1
#
# rds-csi image: one binary for the controller Deployment and the node DaemonSet.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg BUILD_COMMIT="$(git rev-parse HEAD)" \
#     --build-arg VERSION="$(node -p "require('./package.json').version")" \
#     -t <registry>/rds-csi:<version> .
#
# Multi-arch: nothing here downloads an architecture-specific file. The build stage runs on
# the target platform (natively or under emulation), because the N-API addon is compiled
# for the CPU it will run on; there is no cross-compilation step to get wrong.
#
# The runtime defaults to an unprivileged user, which is what the controller runs as. The
# node DaemonSet overrides it to root with privileged: true, because it writes
# /dev/nvme-fabrics, formats block devices and mounts into the kubelet's directories.

# Node.js 24: a long-term-support line supported until 2028-04-30, so an image built today
# stays on a supported runtime through 2027. CI also runs the unit, integration and
# conformance tests on Node 26 (the newer LTS line, supported until 2029-04-30), so moving
# the image to it is this one ARG once 26 has been in production use for a while.
ARG NODE_VERSION=24
ARG DEBIAN_RELEASE=bookworm

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
# Compiler toolchain for node-gyp (the rds_nvme addon) and libblkid's headers, which the
# addon links. The Node headers ship in the base image under /usr/local/include/node;
# scripts/build-addon.js points node-gyp at them, so nothing is downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libblkid-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first so that source edits keep the npm ci layer cached. npm ci runs the
# package's own install script (scripts/build-addon.js), which needs binding.gyp and native/.
COPY package.json package-lock.json binding.gyp ./
COPY scripts/build-addon.js ./scripts/build-addon.js
COPY native ./native
# --omit=peer: every peer dependency in the lock is a dev-only tool's (the test suite's
# bundled helm drags in aws-cdk-lib, ~200 MB); none is needed to build or run.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=peer --no-audit --no-fund
COPY tsconfig*.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build \
 && test -f build/Release/rds_nvme.node \
 && test -f dist/src/main.js
# Drop devDependencies without re-running node-gyp (npm ci --omit=dev would rebuild the
# addon from scratch); build/Release/rds_nvme.node is left where it is. npm prune leaves
# the folders of removed scoped packages behind, empty.
RUN npm prune --omit=dev --no-audit --no-fund \
 && find node_modules -mindepth 1 -type d -empty -delete

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
ARG VERSION=0.0.0-dev
ARG BUILD_COMMIT=unknown
LABEL org.opencontainers.image.title="rds-csi" \
      org.opencontainers.image.description="Kubernetes CSI driver for MikroTik ROSE Data Server (NVMe/TCP)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${BUILD_COMMIT}"
# What the node plugin runs (NODE_TOOLS in src/doctor/node-checks.ts; test/image checks
# each is here): mkfs.ext4/resize2fs/fsck.ext4 (e2fsprogs), mkfs.xfs/xfs_growfs (xfsprogs),
# blkid/fsck/findmnt (util-linux), mount/umount (mount). NVMe/TCP attach goes through
# /dev/nvme-fabrics directly, so nvme-cli is not needed.
# xfsprogs is not installed as a package: it depends on python3 and libicu72 (~90 MB) for
# xfs_scrub, which the driver never runs. Its mkfs/grow/repair programs need only liburcu8
# and libinih1 (plus libblkid1/libuuid1 from the base), so those are taken from the .deb.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      e2fsprogs util-linux mount ca-certificates liburcu8 libinih1 \
 && cd /tmp \
 && apt-get download xfsprogs \
 && dpkg-deb -x xfsprogs_*.deb /tmp/xfsprogs \
 && for tool in mkfs.xfs xfs_growfs xfs_repair fsck.xfs; do \
      install -m 0755 "$(find /tmp/xfsprogs -type f -name "$tool")" "/usr/sbin/$tool"; done \
 && rm -rf /tmp/xfsprogs xfsprogs_*.deb /var/lib/apt/lists/* \
 && mkfs.xfs -V && xfs_growfs -V && xfs_repair -V \
 && groupadd --system --gid 65532 rds-csi \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin rds-csi
WORKDIR /opt/rds-csi
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/build/Release/rds_nvme.node ./build/Release/rds_nvme.node
# Loaded at run time from the package root by src/csi/proto/load.ts.
COPY --from=build /app/src/csi/proto/csi.proto ./src/csi/proto/csi.proto
# The commit the app reports (rds_csi_build_info, `rds-csi version`); the version comes
# from package.json.
RUN printf '%s\n' "${BUILD_COMMIT}" > ./BUILD_COMMIT
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 9809
ENTRYPOINT ["node", "/opt/rds-csi/dist/src/main.js"]
CMD ["serve", "--mode", "controller"]
