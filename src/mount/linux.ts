/**
 * The Linux Mounter: mkfs, fsck and the grow tools through one argv runner with per-tool
 * timeouts; mount state from <procRoot>/self/mountinfo. Probe, mount, bind and unmount are
 * done in-process through the addon (kernel.ts) when `native` is given, else by blkid(8),
 * mount(8) and umount(8) (kept to compare against in benchmarks and for tests).
 */
import { DeadlineExceededError, FailedPreconditionError, InternalError } from '../domain/errors';
import { FILESYSTEMS } from './filesystems';
import type { CallOptions, Mounter } from './ports';
import type { MountSyscalls, SpawnSyscalls } from '../nvme/native';
import { kernelMountOps } from './kernel';
import { createNativeRunner } from './native-runner';
import { classifyProbe } from './probe';
import { kernelQueries, readHead } from './queries';
import { type CommandRunner, type RunResult, firstLine } from './runner';

export { classifyProbe } from './probe';

/** Per-tool timeouts in ms. mkfs and fsck of large volumes are slow; mounts are not. */
export interface MounterTimeouts {
  readonly probeMs: number;
  readonly formatMs: number;
  readonly checkMs: number;
  readonly mountMs: number;
  readonly growMs: number;
}

export const DEFAULT_TIMEOUTS: MounterTimeouts = Object.freeze({
  probeMs: 15_000,
  formatMs: 10 * 60_000,
  checkMs: 30 * 60_000,
  mountMs: 60_000,
  growMs: 10 * 60_000,
});

export interface LinuxMounterOptions {
  readonly run: CommandRunner;
  /** Default '/proc'. */
  readonly procRoot?: string;
  readonly timeouts?: Partial<MounterTimeouts>;
  /** The addon's probe/mount syscalls; when absent, the tools are spawned instead. */
  readonly native?: MountSyscalls;
}

export function createLinuxMounter(opts: LinuxMounterOptions): Mounter {
  const procRoot = opts.procRoot ?? '/proc';
  const t: MounterTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const exec = async (
    argv: readonly string[],
    timeoutMs: number,
    what: string,
    signal?: AbortSignal,
    maxOk = 0,
  ): Promise<RunResult> => {
    const r = await opts.run(argv, { timeoutMs, ...(signal ? { signal } : {}) });
    if (r.code < 0 || r.code > maxOk) {
      throw new InternalError(
        `${what} failed (${argv[0]} exit ${r.code}): ${firstLine(r.stderr) || firstLine(r.stdout)}`,
        { argv },
      );
    }
    return r;
  };

  const queries = kernelQueries(procRoot);
  const tools: Mounter = {
    async probe(device, o?: CallOptions) {
      const readable = await readHead(device);
      if (typeof readable === 'string') return { kind: 'ambiguous', reason: readable };
      try {
        const r = await opts.run(['blkid', '-p', '-o', 'export', device], {
          timeoutMs: t.probeMs,
          ...(o?.signal ? { signal: o.signal } : {}),
        });
        return classifyProbe(r);
      } catch (err) {
        if (err instanceof FailedPreconditionError) throw err;
        if (o?.signal?.aborted) throw err;
        const why = err instanceof DeadlineExceededError ? 'blkid timed out' : String(err);
        return { kind: 'ambiguous', reason: why };
      }
    },
    async format(device, fsType) {
      await exec(FILESYSTEMS[fsType].mkfs(device), t.formatMs, `formatting ${device} as ${fsType}`);
    },
    async check(device, fsType) {
      const tools = FILESYSTEMS[fsType];
      if (!tools.fsck) return;
      await exec(
        tools.fsck(device),
        t.checkMs,
        `checking ${fsType} on ${device}`,
        undefined,
        tools.fsckMaxOk,
      );
    },
    async mount(device, target, fsType, options, o) {
      const all = [...new Set([...options, ...FILESYSTEMS[fsType].mountOptions])];
      const argv = [
        'mount',
        '-t',
        fsType,
        ...(all.length ? ['-o', all.join(',')] : []),
        device,
        target,
      ];
      await exec(argv, t.mountMs, `mounting ${device} on ${target}`, o?.signal);
    },
    async bind(source, target, readonly, o) {
      await exec(
        ['mount', '--bind', source, target],
        t.mountMs,
        `bind-mounting on ${target}`,
        o?.signal,
      );
      if (readonly) {
        await exec(
          ['mount', '-o', 'remount,bind,ro', target],
          t.mountMs,
          `remounting ${target} read-only`,
        );
      }
    },
    async unmount(target, o) {
      const r = await opts.run(['umount', target], {
        timeoutMs: t.mountMs,
        ...(o?.signal ? { signal: o.signal } : {}),
      });
      if (r.code !== 0) {
        throw new FailedPreconditionError(
          `could not unmount ${target}: ${firstLine(r.stderr) || `exit ${r.code}`}`,
          {
            target,
          },
        );
      }
    },
    async grow(device, mountPoint, fsType) {
      await exec(
        FILESYSTEMS[fsType].grow(device, mountPoint),
        t.growMs,
        `growing ${fsType} on ${mountPoint}`,
      );
    },
    ...queries,
  };
  if (!opts.native) return tools;
  return {
    ...tools,
    ...kernelMountOps({
      sys: opts.native,
      mounts: queries.mounts,
      deviceNumber: queries.deviceNumber,
      readHead,
    }),
  };
}

/**
 * The node's Mounter as production runs it: probe and mounts in-process, tools started
 * with the addon's posix_spawn.
 */
export function createAddonMounter(
  addon: MountSyscalls & SpawnSyscalls,
  opts: Omit<LinuxMounterOptions, 'run' | 'native'> = {},
): Mounter {
  return createLinuxMounter({ ...opts, run: createNativeRunner(addon), native: addon });
}
