/**
 * Detach policy. Only subsystems under the managed prefix are ever disconnected, only when
 * nothing on the node still uses the device (mount, open descriptor, stacked device), and
 * repeating a detach is harmless: no controller, or a controller that vanished between the
 * scan and the write, counts as done.
 */
import { type DomainError, FailedPreconditionError, InvalidArgumentError } from '../domain/errors';
import type { FabricsContext } from './context';
import { recordActive } from './context';
import { isGoneError, mapControllerWriteError } from './errors';
import { describeUses, findDeviceUsers } from './inuse';
import type { DetachOptions, DetachResult } from './ports';
import { controllersOf, isRemoving, namespacesOf } from './topology';
import { throwIfAborted } from './wait';

export function assertManaged(ctx: FabricsContext, nqn: string): void {
  if (!ctx.isManaged(nqn)) {
    throw new InvalidArgumentError(
      `refusing to touch ${JSON.stringify(nqn)}: not under the managed prefix ${ctx.managedNqnPrefix}`,
      { nqn },
    );
  }
}

export async function detach(
  ctx: FabricsContext,
  nqn: string,
  opts: DetachOptions = {},
): Promise<DetachResult> {
  assertManaged(ctx, nqn);
  throwIfAborted(opts.signal);
  const started = ctx.clock.now();
  // Only which controllers and devices belong to `nqn`, and their states, are needed.
  const topo = await ctx.scan({ brief: true });
  const scanned = ctx.clock.now();
  const ctrls = controllersOf(topo, nqn).filter((c) => !isRemoving(c.state));
  if (ctrls.length === 0) return { disconnected: 0 };
  const devices = namespacesOf(topo, nqn).map((n) => n.name);
  const uses = await findDeviceUsers(devices, {
    procRoot: ctx.procRoot,
    sysfsRoot: ctx.sysfsRoot,
    deviceUsage: (names, o) => ctx.addon.deviceUsage(names, o),
  });
  if (uses.length > 0) {
    throw new FailedPreconditionError(
      `NVMe device of ${nqn} is still in use: ${describeUses(uses)}`,
      {
        nqn,
        devices,
      },
    );
  }
  throwIfAborted(opts.signal);
  const checked = ctx.clock.now();
  const results = await Promise.allSettled(
    ctrls.map((c) => ctx.addon.disconnect(c.instance, { sysfsRoot: ctx.sysfsRoot })),
  );
  let failure: DomainError | undefined;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled' || isGoneError(r.reason)) return;
    failure ??= mapControllerWriteError(r.reason, 'disconnect', ctrls[i]?.instance ?? -1);
  });
  ctx.metrics?.nvmeDisconnects.inc({ status: failure === undefined ? 'success' : 'failure' });
  recordActive(ctx, {
    ...topo,
    controllers: topo.controllers.filter((c) => c.subsysnqn !== nqn),
  });
  if (failure !== undefined) throw failure;
  const now = ctx.clock.now();
  const timings = {
    scanMs: scanned - started,
    inUseMs: checked - scanned,
    disconnectMs: now - checked,
  };
  ctx.logger.debug('nvme detached', { nqn, controllers: ctrls.map((c) => c.name), timings });
  return { disconnected: ctrls.length, timings };
}
