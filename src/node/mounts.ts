/**
 * Mount-table helpers shared by the use-cases: busy-tolerant unmount, which mounts use a
 * device, and whether a mount still sits on the volume's current device.
 */
import path from 'node:path';
import { FailedPreconditionError } from '../domain/errors';
import type { MountEntry } from '../mount/ports';
import { mountAt, mountUsesDevice } from '../mount/mountinfo';
import type { NodeContext } from './deps';

/** Stacked mounts at one path that unmountAll removes before giving up (a mount storm). */
const MAX_STACKED = 10_000;

/**
 * Unmounts everything stacked at `target`, retrying briefly while it is busy. Resolves
 * when nothing is mounted there (idempotent); rejects with FailedPreconditionError when
 * the mount stays busy. `current`, a mount table the caller has just read, spares the
 * first re-read; every later pass reads the table again.
 */
export async function unmountAll(
  ctx: NodeContext,
  target: string,
  signal?: AbortSignal,
  current?: readonly MountEntry[],
): Promise<number> {
  let unmounted = 0;
  let lastError: unknown;
  let failures = 0;
  let table = current;
  for (;;) {
    const mounts = table ?? (await ctx.mounter.mounts());
    table = undefined;
    if (!mountAt(mounts, target)) return unmounted;
    if (unmounted >= MAX_STACKED) break;
    try {
      await ctx.mounter.unmount(target, signal ? { signal } : {});
      unmounted++;
      ctx.metrics?.mountOperations.inc({ operation: 'unmount', status: 'success' });
    } catch (err) {
      ctx.metrics?.mountOperations.inc({ operation: 'unmount', status: 'failure' });
      lastError = err;
      failures++;
      if (signal?.aborted || failures >= ctx.timing.unmountAttempts) break;
      await ctx.sleep(ctx.timing.unmountDelayMs, signal);
    }
  }
  throw new FailedPreconditionError(
    `${target} is still mounted after ${unmounted + failures} unmount attempts (busy?): ${String(
      (lastError as Error | undefined)?.message ?? lastError,
    )}`,
    { target },
    { cause: lastError },
  );
}

/**
 * Mounts that use the device `majorMinor` (filesystem mounts) or bind its node
 * `/dev/<name>` (raw block publishes), other than at `except`.
 */
export function deviceUsers(
  entries: readonly MountEntry[],
  device: { majorMinor: string | undefined; path: string },
  except: readonly string[] = [],
): MountEntry[] {
  const node = { majorMinor: device.majorMinor, name: path.basename(device.path) };
  return entries.filter((e) => !except.includes(e.mountPoint) && mountUsesDevice(e, node));
}

/** Does `entry` sit on `device` (a filesystem mount of it, or a bind of its node)? */
export function mountIsOn(
  entry: MountEntry,
  device: { majorMinor: string | undefined; path: string },
): boolean {
  return deviceUsers([entry], device).length === 1;
}

/**
 * Counts a stale mount once per path (stats calls repeat), logs it and posts the event.
 */
export function reportStale(ctx: NodeContext, volumeId: string, at: string, reason: string): void {
  const key = `${volumeId}\0${at}`;
  if (ctx.staleSeen.has(key)) return;
  ctx.staleSeen.add(key);
  ctx.metrics?.staleMountsDetected.inc();
  ctx.logger.warn('stale mount detected', { volumeId, path: at, reason });
  ctx.events.staleMountDetected({ volumeId, path: at, reason });
}

export function staleRepaired(ctx: NodeContext, volumeId: string, at: string, ok: boolean): void {
  ctx.metrics?.staleRecoveries.inc({ status: ok ? 'success' : 'failure' });
  if (ok) ctx.staleSeen.delete(`${volumeId}\0${at}`);
}
