/** Node prerequisites: the kernel's NVMe/TCP support, host identity, tools, kubelet paths. */
import { constants, promises as fs } from 'node:fs';
import { delimiter, join } from 'node:path';
import { loadHostIdentity } from '../nvme/hostid';
import { addonCandidates, loadNvmeAddon } from '../nvme/native';
import type { Check } from './report';
import { fail, pass, warn } from './report';

export interface NodeCheckOptions {
  readonly nodeId: string;
  readonly kubeletDir: string;
  /** Roots, injectable so tests can point them at a directory. */
  readonly sysRoot?: string;
  readonly devRoot?: string;
  readonly etcNvmeDir?: string;
  readonly path?: string;
}

/**
 * Every external program the node plugin runs, and the Debian package that has it. Probing
 * (libblkid) and mounting (mount(2)) happen inside the plugin through the addon.
 */
export const NODE_TOOLS: Readonly<Record<string, string>> = {
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  'fsck.ext4': 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  xfs_growfs: 'xfsprogs',
};

async function exists(p: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await fs.access(p, mode);
    return true;
  } catch {
    return false;
  }
}

export async function which(tool: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, tool);
    if (await exists(candidate, constants.X_OK)) return candidate;
  }
  return undefined;
}

export function nodeChecks(o: NodeCheckOptions): Check[] {
  const sys = o.sysRoot ?? '/sys';
  const dev = o.devRoot ?? '/dev';
  const pathEnv = o.path ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return [
    {
      name: 'kernel module nvme-tcp',
      async run() {
        return (await exists(join(sys, 'module/nvme_tcp')))
          ? pass('nvme_tcp is loaded')
          : fail(
              'nvme_tcp is not loaded',
              'modprobe nvme-tcp, and add nvme-tcp to /etc/modules-load.d/nvme-tcp.conf so it loads at boot',
            );
      },
    },
    {
      name: '/dev/nvme-fabrics',
      async run() {
        const p = join(dev, 'nvme-fabrics');
        if (!(await exists(p)))
          return fail(
            `${p} does not exist`,
            'load nvme-fabrics (modprobe nvme-tcp loads it), and mount the host /dev into the node plugin',
          );
        if (!(await exists(p, constants.R_OK | constants.W_OK)))
          return fail(
            `${p} is not readable and writable`,
            'run the node plugin privileged as root',
          );
        return pass(`${p} is usable`);
      },
    },
    {
      name: 'NVMe host identity',
      async run() {
        const id = await loadHostIdentity({
          nodeId: o.nodeId,
          ...(o.etcNvmeDir ? { etcDir: o.etcNvmeDir } : {}),
        });
        const detail = `hostnqn ${id.hostnqn}, hostid ${id.hostid} (from ${id.source})`;
        return id.source === 'node-id'
          ? warn(
              detail,
              'no /etc/nvme/hostnqn: the identity is derived from the node name; write /etc/nvme/hostnqn and /etc/nvme/hostid to pin it',
            )
          : pass(detail);
      },
    },
    {
      name: 'native addon',
      run() {
        try {
          loadNvmeAddon();
          return Promise.resolve(pass('rds_nvme addon loads'));
        } catch (err) {
          return Promise.resolve(
            fail(
              (err as Error).message.split('\n')[0]!,
              `rebuild it with npm ci (node-gyp); tried: ${addonCandidates().join(', ')}`,
            ),
          );
        }
      },
    },
    ...Object.entries(NODE_TOOLS).map(([tool, pkg]): Check => ({
      name: `tool ${tool}`,
      async run() {
        const found = await which(tool, pathEnv);
        return found
          ? pass(found)
          : fail(`${tool} not found in PATH`, `install the ${pkg} package in the node image`);
      },
    })),
    {
      name: 'kubelet directory',
      async run() {
        const plugins = join(o.kubeletDir, 'plugins');
        if (!(await exists(o.kubeletDir)))
          return fail(
            `${o.kubeletDir} does not exist`,
            'set --kubelet-dir to the kubelet root (--root-dir of kubelet) and mount it into the node plugin',
          );
        return (await exists(plugins))
          ? pass(`${plugins} exists`)
          : warn(
              `${plugins} does not exist yet`,
              'is this a Kubernetes node? kubelet creates it on start',
            );
      },
    },
  ];
}
