/**
 * The Fabrics port implemented the way most NVMe-oF drivers do it: spawning nvme-cli
 * (`nvme connect` / `nvme disconnect`) with argv arrays. Used only to compare attach and
 * detach latency against the native path in benchmarks; production uses fabrics.ts.
 * Queries (find, listManaged, rescan, deviceSize) and the device wait are shared with the
 * native implementation, so a comparison measures only the connect/disconnect mechanism.
 * Failures are reported by exit status; nvme-cli's text is kept as context, never parsed.
 */
import { execFile } from 'node:child_process';
import type { DomainError } from '../domain/errors';
import { InternalError, UnavailableError } from '../domain/errors';
import { waitForDevice } from './attach';
import { type NativeFabricsOptions, createContext } from './context';
import { assertManaged } from './detach';
import { createNativeFabrics } from './fabrics';
import { buildConnectOptions, DEFAULT_TUNING, resolveTraddr } from './options';
import type { AttachTarget, Fabrics } from './ports';
import { throwIfAborted } from './wait';

export interface RunResult {
  readonly code: number;
  readonly stderr: string;
}

/** Runs a program with an argv array (never a shell). */
export type Runner = (
  file: string,
  args: readonly string[],
  opts: { signal?: AbortSignal; timeoutMs: number },
) => Promise<RunResult>;

export const execRunner: Runner = (file, args, opts) =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: opts.timeoutMs, signal: opts.signal, encoding: 'utf8' },
      (err, _stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stderr: String(stderr) });
      },
    );
  });

export interface NvmeCliFabricsOptions extends NativeFabricsOptions {
  /** nvme-cli binary; default 'nvme' (found on PATH). */
  readonly nvmePath?: string;
  readonly runner?: Runner;
}

/** `nvme connect` argv for a target (values validated by the same option builder). */
export function connectArgs(target: AttachTarget, traddr: string): string[] {
  buildConnectOptions({ ...target, traddr });
  const t = target.tuning ?? {};
  const args = [
    'connect',
    '--transport=tcp',
    `--traddr=${traddr}`,
    `--trsvcid=${target.trsvcid}`,
    `--nqn=${target.nqn}`,
    `--hostnqn=${target.hostnqn}`,
    `--hostid=${target.hostid}`,
    `--reconnect-delay=${t.reconnectDelaySec ?? DEFAULT_TUNING.reconnectDelaySec}`,
    `--ctrl-loss-tmo=${t.ctrlLossTmoSec ?? DEFAULT_TUNING.ctrlLossTmoSec}`,
  ];
  if (t.nrIoQueues !== undefined) args.push(`--nr-io-queues=${t.nrIoQueues}`);
  if (t.keepAliveTmoSec !== undefined) args.push(`--keep-alive-tmo=${t.keepAliveTmoSec}`);
  if (t.fastIoFailTmoSec !== undefined) args.push(`--fast_io_fail_tmo=${t.fastIoFailTmoSec}`);
  return args;
}

function failure(what: string, res: RunResult, nqn: string): DomainError {
  const detail = res.stderr.trim().split('\n').slice(-1)[0] ?? '';
  const context = { nqn, exitCode: res.code, stderr: detail };
  return res.code === -1
    ? new InternalError(`${what} could not run or timed out`, context)
    : new UnavailableError(`${what} failed with exit status ${res.code}`, context);
}

export function createNvmeCliFabrics(opts: NvmeCliFabricsOptions): Fabrics {
  const ctx = createContext(opts);
  const native = createNativeFabrics(opts);
  const nvme = opts.nvmePath ?? 'nvme';
  const run = opts.runner ?? execRunner;
  return {
    ...native,
    async attach(target, o = {}) {
      const started = ctx.clock.now();
      const deadlineAt = started + (o.deadlineMs ?? ctx.defaultDeadlineMs);
      throwIfAborted(o.signal);
      const traddr = await resolveTraddr(target.traddr, ctx.resolver);
      const args = connectArgs(target, traddr);
      const existing = await native.find(target.nqn);
      const reused = existing?.controllers.some((c) => c.state === 'live') === true;
      let connectMs = 0;
      if (!reused) {
        const t0 = ctx.clock.now();
        const timeoutMs = Math.max(1, Math.ceil(deadlineAt - t0));
        const res = await run(nvme, args, { signal: o.signal, timeoutMs });
        if (res.code !== 0) throw failure('nvme connect', res, target.nqn);
        connectMs = ctx.clock.now() - t0;
      }
      const readyStarted = ctx.clock.now();
      const ready = await waitForDevice(ctx, target.nqn, target.nsid ?? 1, {
        deadlineAt,
        signal: o.signal,
        connected: undefined,
      });
      const now = ctx.clock.now();
      return {
        device: ready.device,
        controller: ready.controller,
        reused,
        timings: { connectMs, deviceReadyMs: now - readyStarted, totalMs: now - started },
      };
    },
    async detach(nqn, o = {}) {
      assertManaged(ctx, nqn);
      const vol = await native.find(nqn);
      if (vol === undefined) return { disconnected: 0 };
      const res = await run(nvme, ['disconnect', `--nqn=${nqn}`], {
        signal: o.signal,
        timeoutMs: ctx.defaultDeadlineMs,
      });
      if (res.code !== 0) throw failure('nvme disconnect', res, nqn);
      return { disconnected: vol.controllers.length };
    },
  };
}
