import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../../src/paths';
import { aptPackages, copiesFrom, finalUser, parseDockerfile } from './dockerfile';
import type { Stage } from './dockerfile';

const root = packageRoot();
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));

/**
 * Which Debian (bookworm/trixie) package provides each program the driver may run. A tool
 * found in src/ that is missing here fails the test: add its package, and the package to the
 * runtime stage.
 */
const TOOL_PACKAGES: Record<string, string> = {
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.ext3': 'e2fsprogs',
  'fsck.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  tune2fs: 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  'fsck.xfs': 'xfsprogs',
  xfs_growfs: 'xfsprogs',
  xfs_repair: 'xfsprogs',
  xfs_admin: 'xfsprogs',
  xfs_info: 'xfsprogs',
  blkid: 'util-linux',
  fsck: 'util-linux',
  findmnt: 'util-linux',
  lsblk: 'util-linux',
  blockdev: 'util-linux',
  wipefs: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  losetup: 'mount',
  nvme: 'nvme-cli',
  modprobe: 'kmod',
};

/** What the node plugin needs whatever src/ currently spells out (issue 11's list). */
const BASELINE_TOOLS = [
  'mkfs.ext4',
  'mkfs.xfs',
  'blkid',
  'mount',
  'umount',
  'fsck',
  'resize2fs',
  'xfs_growfs',
];

/** Directories whose code runs external programs on a node. */
const SPAWNING_DIRS = ['src/mount', 'src/node', 'src/nvme'];

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const TOOL_LITERAL =
  /['"`](?:\/usr)?(?:\/s?bin\/)?(mkfs\.[a-z0-9]+|fsck(?:\.[a-z0-9]+)?|e2fsck|blkid|u?mount|resize2fs|xfs_[a-z_]+|findmnt|lsblk|blockdev|wipefs|tune2fs|dumpe2fs|losetup|modprobe)['"`]/g;
const SPAWN_CALL =
  /\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*['"`](?:\/usr)?(?:\/s?bin\/)?([\w.+-]+)['"`]/g;

/** Tools named in node-side code: literal program names, and literal argv[0] of any spawn. */
function spawnedTools(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of SPAWNING_DIRS) {
    for (const file of tsFiles(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const re of [TOOL_LITERAL, SPAWN_CALL]) {
        for (const m of text.matchAll(re)) {
          if (!found.has(m[1]!)) found.set(m[1]!, relative(root, file));
        }
      }
    }
  }
  for (const tool of BASELINE_TOOLS) if (!found.has(tool)) found.set(tool, 'baseline');
  return found;
}

function stageNamed(name: string): Stage | undefined {
  return dockerfile.stages.find((s) => s.name === name);
}

const runtime = dockerfile.stages.at(-1)!;

t.test('multi-stage build with named stages', async (t) => {
  t.ok(dockerfile.stages.length >= 2, 'at least a build and a runtime stage');
  for (const s of dockerfile.stages) t.ok(s.name, `stage FROM ${s.base} has a name`);
  t.equal(runtime.name, 'runtime', 'the last stage (the image) is called runtime');
  t.ok(stageNamed('build'), 'a build stage');
});

t.test('every stage builds on a supported Node LTS, Debian slim', async (t) => {
  for (const s of dockerfile.stages) {
    const m = /^node:(\d+)-(bookworm|trixie)-slim$/.exec(s.base);
    t.ok(m, `${s.name ?? '?'}: ${s.base} is node:<major>-<debian>-slim`);
    if (m) t.ok(['24', '26'].includes(m[1]!), `${s.name ?? '?'}: Node ${m[1]} is 24 or 26`);
  }
  t.equal(
    new Set(dockerfile.stages.map((s) => s.base)).size,
    1,
    'build and runtime share one base (the addon ABI matches the runtime Node)',
  );
});

t.test('the build stage has the addon toolchain and builds with npm ci then prunes', async (t) => {
  const build = stageNamed('build')!;
  const pkgs = aptPackages(build);
  for (const p of ['python3', 'make', 'g++', 'libblkid-dev'])
    t.ok(pkgs.has(p), `build installs ${p}`);
  t.notOk(
    build.instructions.some((i) => i.keyword === 'ENV' && /npm_config_/.test(i.args)),
    'no npm_config_* in the environment (npm warns about unknown settings on every command)',
  );
  const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
  const compile = runs.findIndex((r) => /\bnpm run build\b/.test(r));
  const prune = runs.findIndex((r) => /\bnpm prune --omit=dev\b/.test(r));
  t.ok(ci >= 0 && compile > ci && prune > compile, 'npm ci, then npm run build, then prune');
  t.match(runs[ci], /--omit=peer/, 'no dev-only peer dependencies (aws-cdk-lib) in the build');
  t.notOk(
    runs.some((r) => /npm ci[^&]*--omit=dev/.test(r)),
    'no npm ci --omit=dev (it would rebuild the addon)',
  );
});

t.test('the runtime stage installs every tool the node code runs', async (t) => {
  const pkgs = aptPackages(runtime);
  // Packages whose programs are taken from the .deb, without its dependencies.
  const extracted = aptPackages(runtime, 'download');
  const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const tools = spawnedTools();
  t.ok(tools.size >= BASELINE_TOOLS.length);
  for (const [tool, where] of tools) {
    const pkg = TOOL_PACKAGES[tool];
    if (!t.ok(pkg, `${tool} (${where}) has a known Debian package`)) continue;
    if (extracted.has(pkg!)) {
      const named = new RegExp(`(^|\\s)${tool.replace('.', '\\.')}(\\s|;|$)`, 'm');
      t.ok(
        runs.some((r) => r.includes(`apt-get download ${pkg!}`) && named.test(r)),
        `runtime extracts ${tool} from ${pkg} (${where})`,
      );
    } else t.ok(pkgs.has(pkg!), `runtime installs ${pkg} for ${tool} (${where})`);
  }
  t.notOk(pkgs.has('nvme-cli'), 'attach uses /dev/nvme-fabrics, not nvme-cli');
  t.notOk(pkgs.has('g++') || pkgs.has('make'), 'no compiler in the runtime image');
  // xfsprogs depends on python3 and libicu72 (~90 MB) for xfs_scrub alone.
  t.notOk(pkgs.has('xfsprogs') || pkgs.has('python3'), 'no python3 in the runtime image');
});

t.test('no runtime dependency is a peer-only package (the build omits peers)', async (t) => {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { peer?: boolean; dev?: boolean }>;
  };
  const prodPeers = Object.entries(lock.packages)
    .filter(([, p]) => p.peer === true && p.dev !== true)
    .map(([name]) => name);
  t.same(prodPeers, [], 'npm ci --omit=peer keeps every production dependency');
});

t.test('the runtime runs as an unprivileged user by default', async (t) => {
  const user = finalUser(runtime);
  const [uid] = user.split(':');
  t.not(uid, 'root');
  t.not(uid, '0');
  t.match(uid, /^[1-9]\d*$/, 'numeric uid, so runAsNonRoot can verify it');
});

t.test('the runtime carries the build output, addon, proto and commit', async (t) => {
  const fromBuild = copiesFrom(runtime).filter((c) => c.from === 'build');
  const sources = fromBuild.flatMap((c) => c.sources);
  for (const want of [
    '/app/dist',
    '/app/node_modules',
    '/app/package.json',
    '/app/build/Release/rds_nvme.node',
    '/app/src/csi/proto/csi.proto',
  ]) {
    t.ok(sources.includes(want), `COPY --from=build ${want}`);
  }
  const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  t.ok(
    runs.some((r) => /\$\{?BUILD_COMMIT\}?.*>\s*\S*BUILD_COMMIT\b/.test(r)),
    'BUILD_COMMIT written into the package root',
  );
  const args = runtime.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args);
  t.ok(args.some((a) => a.startsWith('BUILD_COMMIT')));
  t.ok(args.some((a) => a.startsWith('VERSION')));
  const entry = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT');
  t.ok(entry, 'an ENTRYPOINT');
  const argv = JSON.parse(entry!.args) as string[];
  t.equal(argv[0], 'node');
  t.match(argv[1], /dist\/src\/main\.js$/);
  const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args;
  t.equal(argv[1], `${workdir}/dist/src/main.js`, 'the entry point is inside the package root');
});

t.test('the runtime paths match what the code loads', async (t) => {
  const loader = readFileSync(join(root, 'src/csi/proto/load.ts'), 'utf8');
  t.match(loader, /src\/csi\/proto\/csi\.proto/, 'the proto is loaded from src/csi/proto');
  const native = readFileSync(join(root, 'src/nvme/native.ts'), 'utf8');
  t.match(native, /'build',\s*'Release'/, 'the addon is looked up in build/Release');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
  t.equal(pkg.main, 'dist/src/main.js');
});

t.test('the parser itself', async (t) => {
  const d = parseDockerfile(
    [
      'ARG V=22',
      'FROM node:${V}-bookworm-slim AS b',
      'RUN apt-get update \\',
      ' && apt-get install -y --no-install-recommends a b \\',
      '# a comment inside',
      ' && true',
      'FROM node:$V-bookworm-slim AS r',
      'USER 10:10',
      'COPY --from=b /x /y /z/',
    ].join('\n'),
  );
  t.same(
    d.stages.map((s) => [s.name, s.base]),
    [
      ['b', 'node:22-bookworm-slim'],
      ['r', 'node:22-bookworm-slim'],
    ],
  );
  t.same([...aptPackages(d.stages[0]!)], ['a', 'b']);
  t.equal(finalUser(d.stages[1]!), '10:10');
  t.equal(finalUser(d.stages[0]!), 'root');
  t.same(copiesFrom(d.stages[1]!), [{ from: 'b', sources: ['/x', '/y'], dest: '/z/' }]);
  t.throws(() => parseDockerfile('RUN x'), /before the first FROM/);
});
