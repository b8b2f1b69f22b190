/**
 * The Controller service against rds-sim holding the Go driver's state (every version's,
 * made by its own command lines: test/fixtures/go-driver/state.ts), with or without
 * compatibility mode.
 */
import * as path from 'node:path';
import type { Test } from 'tap';
import { MiB } from '../../../src/domain/sizes';
import { GO_BASE, makeGoState, type GoState } from '../../fixtures/go-driver/state';
import { harness, type Harness as SimHarness } from '../routeros/harness';
import { once } from '../../unit/sim/helpers';
import { startController, type Harness as CtlHarness } from '../../unit/controller/harness';
import { poolFilesUnder } from './setup';

export interface GoRig extends CtlHarness {
  readonly h: SimHarness;
  readonly go: GoState;
  /** Every file under the pool, as device paths, sorted. */
  poolFiles(): Promise<string[]>;
  /** Slots of every file-backed disk, sorted. */
  slots(): Promise<string[]>;
}

export async function goRig(t: Test, compat: boolean): Promise<GoRig> {
  const h = await harness(t, { ros: { poolBasePath: GO_BASE } });
  const run = async (line: string): Promise<string> => {
    const r = await once(h.sim.port, h.privateKey, line);
    return r.stdout + r.stderr;
  };
  const go = await makeGoState(run);
  const ctl = await startController(t, h.ros, {
    config: {
      poolBasePath: GO_BASE,
      minVolumeBytes: MiB,
      ...(compat ? { compat: { rdsAddress: '10.0.0.1' } } : {}),
    },
  });
  const root = path.join(h.sim.stateDir, 'pool');
  const poolFiles = (): Promise<string[]> => poolFilesUnder(root);
  const slots = async (): Promise<string[]> =>
    (await h.ros.volumes.list('')).map((d) => d.slot).sort();
  return { ...ctl, h, go, poolFiles, slots };
}
