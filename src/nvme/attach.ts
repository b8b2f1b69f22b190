/**
 * Attach policy: connect (or reuse), then wait for the namespace's block device.
 * - Idempotent: the kernel answers EALREADY when a controller for the same subsystem NQN,
 *   address and host NQN exists (in any state but deleting); that controller is reused.
 *   Asking the kernel (one write, ~7 ms) instead of scanning first keeps the common path,
 *   a first attach, at one scan fewer.
 * - The device is found through sysfs by subsystem NQN and nsid (see topology.ts). After a
 *   new connect only the controller the kernel named (its instance) and its subsystem are
 *   read, the first time by the connect's own pool job; a reused controller's instance is
 *   unknown, so that path reads the full scan.
 * - The wait polls (2 ms doubling to 50 ms) until the device node exists and a controller
 *   of the subsystem is live, bounded by the deadline and the caller's AbortSignal; a
 *   controller that stays `connecting` is reported with its state instead of waited on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  DeadlineExceededError,
  type DomainError,
  InvalidArgumentError,
  UnavailableError,
} from '../domain/errors';
import type { FabricsContext } from './context';
import { recordActive } from './context';
import { mapConnectError } from './errors';
import { type ConnectReply, isNativeError } from './native';
import { buildConnectOptions, resolveTraddr } from './options';
import type { AttachOptions, AttachResult, AttachTarget, ConnectParts } from './ports';
import { type Topology, controllersOf, findNamespace, isRemoving, parseScan } from './topology';
import { pollUntil, raceDeadline, throwIfAborted } from './wait';

interface Connected {
  readonly instance: number | undefined;
  /** The new controller as the connect's own lookup saw it. */
  readonly lookup: Topology | undefined;
  readonly reused: boolean;
  readonly connectMs: number;
  readonly parts?: ConnectParts | undefined;
}

/** CLOCK_MONOTONIC in ms: the clock of the addon's stamps. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The connect's parts from the addon's stamps and the caller's own; undefined without stamps. */
function connectParts(
  calledAt: number,
  reply: ConnectReply,
  resumedAt: number,
): ConnectParts | undefined {
  const s = reply.stamps;
  if (s === undefined) return undefined;
  return {
    queueMs: round2(s.started - calledAt),
    kernelMs: round2(s.replied - s.started),
    lookupMs: round2(s.done - s.replied),
    resumeMs: round2(resumedAt - s.done),
  };
}

async function connectOrReuse(
  ctx: FabricsContext,
  target: AttachTarget,
  traddr: string,
  opts: { deadlineAt: number; signal: AbortSignal | undefined },
): Promise<Connected> {
  const options = buildConnectOptions({ ...target, traddr });
  const started = ctx.clock.now();
  const context = { ...target, traddr, fabricsPath: ctx.fabricsPath };
  try {
    const calledAt = monotonicMs();
    const reply = await raceDeadline(
      ctx.addon.connect(options, {
        fabricsPath: ctx.fabricsPath,
        sysfsRoot: ctx.sysfsRoot,
        devRoot: ctx.devRoot,
      }),
      { ...opts, clock: ctx.clock, what: `NVMe connect to ${traddr}:${target.trsvcid}` },
    );
    const parts = connectParts(calledAt, reply, monotonicMs());
    return {
      instance: reply.instance,
      lookup: reply.lookup === undefined ? undefined : parseScan(reply.lookup),
      reused: false,
      connectMs: ctx.clock.now() - started,
      parts,
    };
  } catch (err) {
    if (isNativeError(err) && err.code === 'EALREADY') {
      return {
        instance: undefined,
        lookup: undefined,
        reused: true,
        connectMs: ctx.clock.now() - started,
      };
    }
    ctx.metrics?.nvmeConnects.inc({ status: 'failure' });
    throw mapConnectError(err, context);
  } finally {
    ctx.metrics?.nvmeConnectDuration.observe((ctx.clock.now() - started) / 1000);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}

export interface Ready {
  readonly device: string;
  readonly controller: number;
  readonly topo: Topology;
}

/** Waits for the namespace device; see the module comment for the rules. */
export async function waitForDevice(
  ctx: FabricsContext,
  nqn: string,
  nsid: number,
  opts: {
    deadlineAt: number;
    signal: AbortSignal | undefined;
    connected: number | undefined;
    /** A lookup already taken, used for the first poll. */
    first?: Topology | undefined;
  },
): Promise<Ready> {
  let first = opts.first;
  let notLiveSince: number | undefined;
  let lastStates = 'no controller';
  let anyLive = false;
  const stuck = (): DomainError =>
    new UnavailableError(
      `NVMe controller for ${nqn} is not live (${lastStates}); the target may be unreachable`,
      { nqn, states: lastStates },
    );
  return pollUntil<Ready>(
    async () => {
      const topo =
        first ??
        (opts.connected === undefined
          ? await ctx.scan()
          : await ctx.scanController(opts.connected));
      first = undefined;
      const ctrls = controllersOf(topo, nqn).filter((c) => !isRemoving(c.state));
      lastStates = ctrls.map((c) => `${c.name} ${c.state}`).join(', ') || 'no controller';
      const live = ctrls.filter((c) => c.state === 'live');
      anyLive = live.length > 0 || ctrls.length === 0;
      const now = ctx.clock.now();
      if (live.length === 0 && ctrls.length > 0) {
        notLiveSince ??= now;
        if (now - notLiveSince >= ctx.stuckConnectingMs) throw stuck();
        return undefined;
      }
      notLiveSince = undefined;
      const ns = findNamespace(topo, nqn, nsid);
      if (live.length === 0 || ns === undefined) return undefined;
      // The connect's own lookup already looked for the node; later polls look here.
      if (ns.devNode === false) return undefined;
      if (ns.devNode === undefined && !(await exists(path.join(ctx.devRoot, ns.name)))) {
        return undefined;
      }
      const controller = live.find((c) => c.instance === opts.connected) ?? live[0];
      return controller && { device: `/dev/${ns.name}`, controller: controller.instance, topo };
    },
    {
      clock: ctx.clock,
      deadlineAt: opts.deadlineAt,
      signal: opts.signal,
      minMs: ctx.pollMinMs,
      maxMs: ctx.pollMaxMs,
      onDeadline: () =>
        anyLive
          ? new DeadlineExceededError(`namespace ${nsid} of ${nqn} did not appear in time`, {
              nqn,
              states: lastStates,
            })
          : stuck(),
    },
  );
}

export async function attach(
  ctx: FabricsContext,
  target: AttachTarget,
  opts: AttachOptions = {},
): Promise<AttachResult> {
  const started = ctx.clock.now();
  const deadlineAt = started + (opts.deadlineMs ?? ctx.defaultDeadlineMs);
  const signal = opts.signal;
  const nsid = target.nsid ?? 1;
  if (!Number.isInteger(nsid) || nsid < 1 || nsid > 0xfffffffe) {
    throw new InvalidArgumentError(`nsid must be an integer in [1, 4294967294]: ${nsid}`);
  }
  throwIfAborted(signal);
  const traddr = await resolveTraddr(target.traddr, ctx.resolver);
  const conn = await connectOrReuse(ctx, target, traddr, { deadlineAt, signal });
  const readyStarted = ctx.clock.now();
  const ready = await waitForDevice(ctx, target.nqn, nsid, {
    deadlineAt,
    signal,
    connected: conn.instance,
    first: conn.lookup,
  });
  const now = ctx.clock.now();
  if (conn.connectMs > 0 || !conn.reused) {
    ctx.metrics?.nvmeConnects.inc({ status: 'success' });
    ctx.metrics?.nvmeDeviceReadyDuration.observe((now - readyStarted + conn.connectMs) / 1000);
  }
  // A targeted lookup sees one controller; the gauge counts them all.
  if (conn.instance === undefined) recordActive(ctx, ready.topo);
  else if (ctx.metrics !== undefined) void ctx.refreshActive();
  const timings = {
    connectMs: conn.connectMs,
    deviceReadyMs: now - readyStarted,
    totalMs: now - started,
    ...(conn.parts ? { connectParts: conn.parts } : {}),
  };
  ctx.logger.debug('nvme attached', {
    nqn: target.nqn,
    device: ready.device,
    reused: conn.reused,
    timings,
  });
  return { device: ready.device, controller: ready.controller, reused: conn.reused, timings };
}
