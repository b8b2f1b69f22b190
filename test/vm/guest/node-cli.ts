// Guest-side command line over the node use-cases, for host-orchestrated tests across VMs.
// Each call is a fresh process, as after a plugin restart: state lives in the kernel, the
// mount table and the record dir, nothing in memory.
//   node dist/test/vm/guest/node-cli.js <command> '<json arguments>'
// prints the JSON result on its last output line. Commands (kubelet is the kubelet dir):
//   stage {kubelet, volumeId, stagingPath, block, context}         → {device}
//   publish {kubelet, volumeId, stagingPath, targetPath, block, context?} → {}
//   unpublish {kubelet, volumeId, targetPath}                      → {}
//   unstage {kubelet, volumeId, stagingPath}                       → {}
// `context` is a raw volume_context (ours or the Go driver's), parsed as NodeStage does.
import path from 'node:path';
import { parseNodeVolumeContext } from '../../../src/domain/compat/go-context';
import { createLinuxMounter } from '../../../src/mount/linux';
import { createProcessRunner } from '../../../src/mount/runner';
import { type NodeContext, resolveNode } from '../../../src/node/deps';
import { publishVolume, unpublishVolume } from '../../../src/node/publish';
import { stageVolume } from '../../../src/node/stage';
import { unstageVolume } from '../../../src/node/unstage';
import { createNativeFabrics } from '../../../src/nvme/fabrics';
import { loadHostIdentity } from '../../../src/nvme/hostid';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { guestEnv } from './env';

type Args = Record<string, unknown>;

async function node(a: Args): Promise<NodeContext> {
  const kubeletDir = String(a.kubelet);
  return resolveNode({
    nodeId: guestEnv()?.name ?? 'guest',
    kubeletDir,
    stateDir: path.join(kubeletDir, 'plugins/rds.csi.srvlab.io/node'),
    maxVolumesPerNode: 0,
    fabrics: createNativeFabrics({ addon: loadNvmeAddon() }),
    mounter: createLinuxMounter({ run: createProcessRunner() }),
    host: await loadHostIdentity({ nodeId: guestEnv()?.name ?? 'guest' }),
  });
}

const context = (a: Args) =>
  a.context === undefined ? undefined : parseNodeVolumeContext(a.context as Record<string, string>);

const commands: Record<string, (a: Args) => Promise<unknown>> = {
  stage: async (a) => {
    const r = await stageVolume(await node(a), {
      volumeId: String(a.volumeId),
      stagingPath: String(a.stagingPath),
      access: a.block === true ? { kind: 'block' } : { kind: 'mount', fsType: 'ext4', flags: [] },
      context: context(a)!,
    });
    return { device: r.device };
  },
  publish: async (a) => {
    await publishVolume(await node(a), {
      volumeId: String(a.volumeId),
      stagingPath: String(a.stagingPath),
      targetPath: String(a.targetPath),
      access: a.block === true ? 'block' : 'mount',
      readonly: false,
      context: context(a),
    });
    return {};
  },
  unpublish: async (a) => {
    await unpublishVolume(await node(a), {
      volumeId: String(a.volumeId),
      targetPath: String(a.targetPath),
    });
    return {};
  },
  unstage: async (a) => {
    await unstageVolume(await node(a), {
      volumeId: String(a.volumeId),
      stagingPath: String(a.stagingPath),
    });
    return {};
  },
};

async function main(argv: string[]): Promise<void> {
  const [name, json] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) {
    throw new Error(`usage: node-cli.js <${Object.keys(commands).join('|')}> '<json>'`);
  }
  const result = await command(JSON.parse(json ?? '{}') as Args);
  console.log(JSON.stringify(result));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
