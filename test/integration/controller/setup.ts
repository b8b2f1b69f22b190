/**
 * The Controller service on a real gRPC server, over the real SSH adapters, against
 * rds-sim on loopback (files backend). Volumes are small (1 MiB minimum) because the
 * simulator copies image data for snapshots and clones.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Test } from 'tap';
import { MiB } from '../../../src/domain/sizes';
import type { SimOptions } from '../../../src/sim';
import { harness, type Harness as SimHarness } from '../routeros/harness';
import { startController, type Harness as CtlHarness } from '../../unit/controller/harness';

export interface Rig extends CtlHarness {
  readonly h: SimHarness;
  /** Host path of a device path in the simulator's pool (`storage-pool/k8s/x.img`). */
  hostPath(devicePath: string): string;
  /** Every file under the pool, as device paths, sorted. */
  poolFiles(): Promise<string[]>;
}

export async function rig(t: Test, sim: Partial<SimOptions> = {}): Promise<Rig> {
  const h = await harness(t, { sim });
  const ctl = await startController(t, h.ros, { config: { minVolumeBytes: MiB } });
  const root = path.join(h.sim.stateDir, 'pool');
  const hostPath = (devicePath: string): string =>
    path.join(root, ...devicePath.replace(/^\/+/, '').split('/').slice(1));
  const poolFiles = (): Promise<string[]> => poolFilesUnder(root);
  return { ...ctl, h, hostPath, poolFiles };
}

/** Every file under the simulator's pool directory `root`, as device paths, sorted. */
export async function poolFilesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path.join(dir, e.name), r);
      else out.push(r);
    }
  };
  await walk(root, 'storage-pool');
  return out.sort();
}
