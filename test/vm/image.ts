// Builds the test VM's boot files from Debian packages and host binaries, cached in
// .cache/vm/<key>/ and rebuilt only when an input changes (package versions, host binaries,
// this builder and the guest init script). Run as a script to build ahead of the tests:
//   node dist/test/vm/image.js [--force]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot, rmTree, runText, runTool, which } from './host-tools';
import { hostToolsMissing, stageRootfs } from './rootfs';

export interface VmImage {
  /** Cache directory holding the files below. */
  dir: string;
  /** Uncompressed vmlinux (booted through its PVH entry point) or, as a fallback, the bzImage. */
  kernel: string;
  boot: 'pvh' | 'bzimage';
  /** Uncompressed cpio (newc) initramfs: busybox init, modules, node, mkfs and mount tools. */
  initrd: string;
  kernelVersion: string;
  /** Hash of every input; names the cache directory. */
  key: string;
}

export interface ImageOptions {
  /** Default: <project root>/.cache/vm. */
  cacheDir?: string;
  /** Rebuild even when a cached image with the same key exists. */
  force?: boolean;
  log?: (line: string) => void;
}

/** Kernel modules the guest needs; their dependency closure is added by the builder. */
export const GUEST_MODULES = [
  'virtio_pci',
  'virtio_net',
  'virtio-rng',
  '9pnet_virtio',
  '9p',
  'configfs',
  'loop',
  'ext4',
  'xfs',
  'nvme-core',
  'nvme-fabrics',
  'nvme-tcp',
  'nvmet',
  'nvmet-tcp',
  'crc32c_generic',
  'crc32c-intel',
];

/** Debian packages unpacked for nvme-cli (kept for comparison runs only). */
export const NVME_CLI_PACKAGES = ['nvme-cli', 'libnvme1', 'libjson-c5', 'libdbus-1-3'];

/** Host programs the build itself needs, with the Debian package that provides each. */
export const BUILD_TOOLS: Record<string, string> = {
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  depmod: 'kmod',
  modprobe: 'kmod',
  kmod: 'kmod',
  cpio: 'cpio',
  xz: 'xz-utils',
  busybox: 'busybox-static',
  ldd: 'libc-bin',
};

/** Names of missing build prerequisites (empty when the image can be built here). */
export function missingBuildTools(): string[] {
  const missing = Object.entries(BUILD_TOOLS)
    .filter(([tool]) => which(tool) === null)
    .map(([tool, pkg]) => `${tool} (Debian package ${pkg})`);
  if (process.getuid?.() !== 0) missing.push('root (apt-get download and depmod as root)');
  return missing;
}

/** Candidate versions of `pkgs`, in one apt-cache call (each call parses all lists: ~1 s). */
async function candidateVersions(pkgs: string[]): Promise<Record<string, string>> {
  const out = await runText('apt-cache', ['show', '--no-all-versions', ...pkgs]);
  const versions: Record<string, string> = {};
  for (const block of out.split(/\n\s*\n/)) {
    const name = /^Package: (\S+)/m.exec(block)?.[1];
    const version = /^Version: (\S+)/m.exec(block)?.[1];
    if (name !== undefined && version !== undefined) versions[name] = version;
  }
  for (const pkg of pkgs) {
    if (versions[pkg] === undefined) throw new Error(`apt-cache knows no version of ${pkg}`);
  }
  return versions;
}

/** linux-image-amd64 depends on the versioned package holding the actual kernel. */
async function resolveKernelPackage(): Promise<string> {
  const out = await runText('apt-cache', ['depends', 'linux-image-amd64']);
  const m = /Depends: (linux-image-\d\S*-amd64)\s*$/m.exec(out);
  if (m?.[1] === undefined) throw new Error(`cannot resolve linux-image-amd64:\n${out}`);
  return m[1];
}

/** Changes whenever `apt-get update` fetched new package lists. */
function aptListsStamp(): string {
  const dir = '/var/lib/apt/lists';
  if (!fs.existsSync(dir)) return 'no lists';
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('Packages') || f.includes('Packages.'))
    .map((f) => `${f}:${fs.statSync(path.join(dir, f)).mtimeMs}`)
    .join(',');
}

interface Resolved {
  stamp: string;
  kernelPackage: string;
  versions: Record<string, string>;
}

/**
 * Runs an apt operation; when it fails (no package lists yet on a fresh machine, or lists so
 * old that the mirror dropped the version), refreshes the lists once as root and retries.
 */
async function withAptUpdate<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (process.getuid?.() !== 0) throw err;
    await runTool('apt-get', ['update', '-qq']);
    return fn();
  }
}

/** Package versions, re-resolved only when the apt lists changed. */
async function resolvePackages(cacheDir: string): Promise<Resolved> {
  const file = path.join(cacheDir, 'packages.json');
  const stamp = aptListsStamp();
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as Resolved;
    if (cached.stamp === stamp) return cached;
  } catch {
    // not resolved yet
  }
  const lookup = async (): Promise<Omit<Resolved, 'stamp'>> => {
    const kernelPackage = await resolveKernelPackage();
    const versions = await candidateVersions([kernelPackage, ...NVME_CLI_PACKAGES]);
    return { kernelPackage, versions };
  };
  const looked = await withAptUpdate(lookup);
  // Stamped after the lookup: it may have refreshed the lists.
  const resolved = { stamp: aptListsStamp(), ...looked };
  fs.writeFileSync(file, JSON.stringify(resolved));
  return resolved;
}

function fingerprint(file: string): string {
  const st = fs.statSync(file);
  return `${fs.realpathSync(file)}:${st.size}:${st.mtimeMs}`;
}

interface Inputs {
  kernelPackage: string;
  versions: Record<string, string>;
  key: string;
}

async function resolveInputs(root: string, cacheDir: string): Promise<Inputs> {
  const { kernelPackage, versions } = await resolvePackages(cacheDir);
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify(versions));
  hash.update(JSON.stringify(GUEST_MODULES));
  for (const f of ['image.js', 'rootfs.js', 'host-tools.js']) {
    hash.update(fs.readFileSync(path.join(__dirname, f)));
  }
  hash.update(fs.readFileSync(path.join(root, 'test/vm/init.sh')));
  hash.update(process.version);
  for (const tool of ['node', 'busybox', 'kmod', 'mke2fs', 'mkfs.xfs', 'mount', 'blkid']) {
    const p = which(tool);
    hash.update(p === null ? `${tool}:none` : fingerprint(p));
  }
  return { kernelPackage, versions, key: hash.digest('hex').slice(0, 16) };
}

/** Finds the xz payload inside a bzImage and decompresses it to the ELF vmlinux. */
export async function extractVmlinux(bzImage: Buffer): Promise<Buffer | null> {
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  for (let at = bzImage.indexOf(magic); at >= 0; at = bzImage.indexOf(magic, at + 1)) {
    const res = await runTool('xz', ['-dc', '--single-stream'], {
      input: bzImage.subarray(at),
      okCodes: [0, 1, 2],
    });
    if (res.stdout.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
      return res.stdout;
    }
  }
  return null;
}

function readCached(dir: string): VmImage | null {
  try {
    const image = JSON.parse(fs.readFileSync(path.join(dir, 'image.json'), 'utf8')) as VmImage;
    return fs.existsSync(image.kernel) && fs.existsSync(image.initrd) ? image : null;
  } catch {
    return null;
  }
}

/** Exclusive build lock across processes (tap runs test files in parallel). */
async function withLock<T>(cacheDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(cacheDir, 'build.lock');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const owner = Number(fs.readFileSync(lock, 'utf8') || '0');
      let alive = owner > 0;
      try {
        if (alive) process.kill(owner, 0);
      } catch {
        alive = false;
      }
      if (!alive) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`VM image build lock held by ${owner}`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Returns the cached image for the current inputs, building it first when needed. */
export async function ensureImage(opts: ImageOptions = {}): Promise<VmImage> {
  const root = projectRoot();
  const cacheDir = opts.cacheDir ?? path.join(root, '.cache', 'vm');
  const log = opts.log ?? (() => undefined);
  fs.mkdirSync(cacheDir, { recursive: true });
  const inputs = await resolveInputs(root, cacheDir);
  const outDir = path.join(cacheDir, inputs.key);
  if (opts.force !== true) {
    const cached = readCached(outDir);
    if (cached !== null) return cached;
  }
  return withLock(cacheDir, async () => {
    const again = opts.force === true ? null : readCached(outDir);
    if (again !== null) return again;
    const started = Date.now();
    const image = await build(root, cacheDir, inputs, log);
    log(`VM image ${inputs.key} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return image;
  });
}

async function build(
  root: string,
  cacheDir: string,
  inputs: Inputs,
  log: (line: string) => void,
): Promise<VmImage> {
  const work = fs.mkdtempSync(path.join(cacheDir, '.build-'));
  try {
    const debs = path.join(work, 'debs');
    fs.mkdirSync(debs);
    log(`downloading ${inputs.kernelPackage} and nvme-cli`);
    const packages = new Set([inputs.kernelPackage, ...NVME_CLI_PACKAGES, ...hostToolsMissing()]);
    await withAptUpdate(() => runTool('apt-get', ['download', '-q', ...packages], { cwd: debs }));
    const kernelTree = path.join(work, 'kernel');
    const pkgTree = path.join(work, 'pkgs');
    for (const deb of fs.readdirSync(debs)) {
      const dest = deb.startsWith('linux-image-') ? kernelTree : pkgTree;
      await runTool('dpkg-deb', ['-x', path.join(debs, deb), dest]);
    }
    rmTree(debs);
    const kernelVersion = fs.readdirSync(path.join(kernelTree, 'lib/modules'))[0];
    if (kernelVersion === undefined) throw new Error('kernel package has no modules');
    log(`kernel ${kernelVersion}: staging modules and tools`);
    await runTool('depmod', ['-b', kernelTree, kernelVersion]);

    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const bzImage = fs.readFileSync(path.join(kernelTree, 'boot', `vmlinuz-${kernelVersion}`));
    const vmlinux = await extractVmlinux(bzImage);
    const kernel = path.join(out, vmlinux === null ? 'bzImage' : 'vmlinux');
    fs.writeFileSync(kernel, vmlinux ?? bzImage);

    const staging = path.join(work, 'root');
    await stageRootfs({
      staging,
      kernelTree,
      kernelVersion,
      modules: GUEST_MODULES,
      pkgTree,
      initScript: path.join(root, 'test/vm/init.sh'),
    });
    rmTree(kernelTree);
    rmTree(pkgTree);
    const initrd = path.join(out, 'initrd.cpio');
    await runTool('sh', ['-c', `find . | cpio -o -H newc -R 0:0 --quiet > '${initrd}'`], {
      cwd: staging,
    });
    rmTree(staging);

    const finalDir = path.join(cacheDir, inputs.key);
    const image: VmImage = {
      dir: finalDir,
      kernel: path.join(finalDir, path.basename(kernel)),
      boot: vmlinux === null ? 'bzimage' : 'pvh',
      initrd: path.join(finalDir, 'initrd.cpio'),
      kernelVersion,
      key: inputs.key,
    };
    fs.writeFileSync(
      path.join(out, 'image.json'),
      JSON.stringify({ ...image, versions: inputs.versions }, null, 2),
    );
    rmTree(finalDir);
    fs.renameSync(out, finalDir);
    // Older images are dead weight: only the current key is ever used.
    for (const entry of fs.readdirSync(cacheDir)) {
      if (/^[0-9a-f]{16}$/.test(entry) && entry !== inputs.key) rmTree(path.join(cacheDir, entry));
    }
    return image;
  } finally {
    rmTree(work);
  }
}

if (require.main === module) {
  const force = process.argv.includes('--force');
  const missing = missingBuildTools();
  if (missing.length > 0) {
    console.error(`cannot build the VM image, missing: ${missing.join(', ')}`);
    process.exit(2);
  }
  ensureImage({ force, log: (l) => console.log(l) }).then(
    (image) => {
      const mb = (f: string) => `${(fs.statSync(f).size / 2 ** 20).toFixed(0)} MiB`;
      console.log(`kernel ${image.kernel} (${image.boot}, ${mb(image.kernel)})`);
      console.log(`initrd ${image.initrd} (${mb(image.initrd)})`);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
