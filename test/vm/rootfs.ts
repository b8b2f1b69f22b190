// Stages the initramfs tree of the test VM: merged-/usr layout, kernel modules (dependency
// closure), busybox applets, kmod, node, filesystem and mount tools with their shared libraries.
import fs from 'node:fs';
import path from 'node:path';
import { imagePath, parseLdd, projectRoot, runText, runTool, which } from './host-tools';

export interface StageOptions {
  staging: string;
  /** Unpacked kernel package (depmod already run on it). */
  kernelTree: string;
  kernelVersion: string;
  modules: string[];
  /** Unpacked Debian packages providing tools the host lacks (nvme-cli at least). */
  pkgTree: string;
  initScript: string;
}

/** Programs copied into the image, with the Debian package that provides each. */
export const GUEST_TOOLS: Record<string, string> = {
  node: 'nodejs',
  kmod: 'kmod',
  mke2fs: 'e2fsprogs',
  'mkfs.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  'fsck.ext4': 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  tune2fs: 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  xfs_growfs: 'xfsprogs',
  xfs_repair: 'xfsprogs',
  xfs_db: 'xfsprogs',
  xfs_io: 'xfsprogs',
  xfs_info: 'xfsprogs',
  'fsck.xfs': 'xfsprogs',
  xfs_admin: 'xfsprogs',
  mount: 'mount',
  umount: 'mount',
  losetup: 'mount',
  blkid: 'util-linux',
  fsck: 'util-linux',
  findmnt: 'util-linux',
  lsblk: 'util-linux',
  wipefs: 'util-linux',
  blockdev: 'util-linux',
  // GNU cp copies sparse images by their data extents (rds-sim's copy-from); busybox cp
  // reads every zero of a 1 GiB image, which takes minutes under TCG.
  cp: 'coreutils',
  nvme: 'nvme-cli',
};

/** Host tools the image takes from the host when installed, else from `pkgTree`. */
export function hostToolsMissing(): string[] {
  return Object.entries(GUEST_TOOLS)
    .filter(([tool]) => tool !== 'nvme' && which(tool) === null)
    .map(([, pkg]) => pkg);
}

/** Native addons built on the host whose shared libraries the guest needs. */
const ADDON_LIBRARIES = ['rds_nvme.node'];

const KMOD_LINKS = ['modprobe', 'insmod', 'rmmod', 'lsmod', 'modinfo', 'depmod'];

function copyInto(staging: string, src: string, rel: string): void {
  const dest = path.join(staging, rel);
  if (fs.existsSync(dest)) return;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(src, dest);
  fs.chmodSync(dest, fs.statSync(src).mode & 0o7777);
}

function findTool(tool: string, pkgTree: string): string | null {
  if (tool !== 'nvme') {
    const host = which(tool);
    if (host !== null) return host;
  }
  for (const dir of ['usr/sbin', 'usr/bin', 'sbin', 'bin']) {
    const p = path.join(pkgTree, dir, tool);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function pkgLibPath(pkgTree: string): string {
  return ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu']
    .map((d) => path.join(pkgTree, d))
    .join(':');
}

/** Copies a program and the libraries ldd reports for it. */
async function addProgram(opts: StageOptions, src: string, rel: string): Promise<void> {
  copyInto(opts.staging, src, rel);
  await addLibraries(opts, src);
}

/** Copies the shared libraries ldd reports for an ELF file (none for a script). */
async function addLibraries(opts: StageOptions, src: string): Promise<void> {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(src, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  if (!head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return; // a script
  const out = await runText('ldd', [src], {
    env: { ...process.env, LD_LIBRARY_PATH: pkgLibPath(opts.pkgTree) },
    okCodes: [0, 1],
  });
  for (const lib of parseLdd(out, src)) {
    const fromPkg = lib.startsWith(opts.pkgTree + '/');
    const libRel = imagePath(fromPkg ? lib.slice(opts.pkgTree.length) : lib);
    copyInto(opts.staging, lib, libRel);
  }
}

async function addModules(opts: StageOptions): Promise<number> {
  const { kernelTree, kernelVersion: kv, staging } = opts;
  const files = new Set<string>();
  for (const mod of opts.modules) {
    const out = await runText('modprobe', ['-d', kernelTree, '-S', kv, '--show-depends', mod]);
    for (const line of out.split('\n')) {
      const m = /^insmod (\S+)/.exec(line);
      if (m?.[1] !== undefined) files.add(m[1]);
    }
  }
  const modRoot = path.join(kernelTree, 'lib/modules', kv);
  for (const file of files) {
    copyInto(staging, file, path.join('usr/lib/modules', kv, path.relative(modRoot, file)));
  }
  for (const meta of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    copyInto(staging, path.join(modRoot, meta), path.join('usr/lib/modules', kv, meta));
  }
  await runTool('depmod', ['-b', staging, kv]);
  return files.size;
}

const ETC: Record<string, string> = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\n',
  group: 'root:x:0:\n',
  hosts: '127.0.0.1 localhost\n::1 localhost ip6-localhost\n',
  'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
};

export async function stageRootfs(opts: StageOptions): Promise<void> {
  const { staging } = opts;
  for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64']) {
    fs.mkdirSync(path.join(staging, dir), { recursive: true });
  }
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) {
    fs.symlinkSync(`usr/${link}`, path.join(staging, link));
  }
  for (const dir of ['proc', 'sys', 'dev', 'tmp', 'run', 'mnt', 'root', 'var', 'etc/nvme']) {
    fs.mkdirSync(path.join(staging, dir), { recursive: true });
  }
  for (const [name, text] of Object.entries(ETC)) {
    fs.writeFileSync(path.join(staging, 'etc', name), text);
  }
  for (const conf of ['/etc/mke2fs.conf', path.join(opts.pkgTree, 'etc/mke2fs.conf')]) {
    if (fs.existsSync(conf)) copyInto(staging, conf, 'etc/mke2fs.conf');
  }
  fs.copyFileSync(opts.initScript, path.join(staging, 'init'));
  fs.chmodSync(path.join(staging, 'init'), 0o755);

  await addModules(opts);

  for (const tool of Object.keys(GUEST_TOOLS)) {
    const src = findTool(tool, opts.pkgTree);
    if (src === null) throw new Error(`no ${tool} on the host nor in the unpacked packages`);
    const dir = tool === 'node' || tool === 'kmod' ? 'usr/bin' : 'usr/sbin';
    await addProgram(opts, src, path.join(dir, tool));
  }
  // The addon itself reaches the guest through the shared project tree; the libraries it
  // links (libblkid.so.1) must be in the image.
  for (const lib of ADDON_LIBRARIES) {
    const src = path.join(projectRoot(), 'build', 'Release', lib);
    if (fs.existsSync(src)) await addLibraries(opts, src);
  }
  for (const name of KMOD_LINKS)
    fs.symlinkSync('../bin/kmod', path.join(staging, 'usr/sbin', name));

  const busybox = which('busybox');
  if (busybox === null) throw new Error('no busybox (Debian package busybox-static)');
  copyInto(staging, busybox, 'usr/bin/busybox');
  const applets = (await runText(busybox, ['--list']))
    .split('\n')
    .filter((a) => /^[\w.[-]+$/.test(a));
  for (const applet of applets) {
    const taken = ['usr/bin', 'usr/sbin'].some((d) => fs.existsSync(path.join(staging, d, applet)));
    if (!taken) fs.symlinkSync('busybox', path.join(staging, 'usr/bin', applet));
  }
}
