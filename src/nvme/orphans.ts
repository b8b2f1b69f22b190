/**
 * Start-up sweep for controllers the driver manages but no staged volume accounts for (a
 * crash between connect and stage, or a lost unstage). Matching is by subsystem NQN, so a
 * controller renumbered by a reconnect is still recognised. Listing is always safe;
 * disconnecting happens only when allowed, and still goes through the detach policy (a
 * device in use is reported, never pulled away).
 */
import type { Logger } from '../observability/logger';
import type { AttachedVolume, Fabrics, OrphanReport } from './ports';

export interface OrphanSweepOptions {
  /**
   * Subsystem NQNs of volumes staged on this node (staging records, and the raw block
   * volumes kubelet holds: src/node/compat/go-staged.ts stagedNqnsOnNode).
   */
  readonly stagedNqns: Iterable<string>;
  /** Disconnect the orphans (true) or only report them (false). */
  readonly disconnect: boolean;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Called once per orphan disconnected (the orphansCleaned counter). */
  readonly onCleaned?: () => void;
}

export async function cleanupOrphans(
  fabrics: Pick<Fabrics, 'listManaged' | 'detach'>,
  opts: OrphanSweepOptions,
): Promise<OrphanReport> {
  const staged = new Set(opts.stagedNqns);
  const orphans: AttachedVolume[] = (await fabrics.listManaged()).filter((v) => !staged.has(v.nqn));
  const disconnected: string[] = [];
  const failed: { nqn: string; reason: string }[] = [];
  for (const vol of orphans) {
    opts.logger?.warn('orphaned NVMe controller', {
      nqn: vol.nqn,
      controllers: vol.controllers.map((c) => `nvme${c.instance}`),
      willDisconnect: opts.disconnect,
    });
    if (!opts.disconnect) continue;
    try {
      await fabrics.detach(vol.nqn, opts.signal === undefined ? {} : { signal: opts.signal });
      disconnected.push(vol.nqn);
      opts.onCleaned?.();
    } catch (err) {
      failed.push({ nqn: vol.nqn, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return { orphans, disconnected, failed };
}
