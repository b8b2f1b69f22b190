/**
 * The Linux Mounter: mount(8)/umount(8), blkid, mkfs, fsck and the grow tools through one
 * argv runner with per-tool timeouts; mount state from <procRoot>/self/mountinfo.
 */
import { DeadlineExceededError, FailedPreconditionError, InternalError } from '../domain/errors';
import { FILESYSTEMS } from './filesystems';
import type { CallOptions, Mounter, ProbeResult } from './ports';
import { kernelQueries, readHead } from './queries';
import { type CommandRunner, type RunResult, firstLine } from './runner';

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
}

/** blkid(8) exit codes: 0 found, 2 nothing found (or could not open), 4 usage, 8 ambiguous. */
const BLKID_NOTHING = 2;

/** Pure: classifies a `blkid -p -o export` result. Only a clean exit 2 is 'empty'. */
export function classifyProbe(r: RunResult): ProbeResult {
  const out = r.stdout.trim();
  const err = r.stderr.trim();
  if (r.code === BLKID_NOTHING) {
    return out === '' && err === ''
      ? { kind: 'empty' }
      : { kind: 'ambiguous', reason: `blkid exited 2 with output: ${firstLine(err || out)}` };
  }
  if (r.code !== 0) {
    return {
      kind: 'ambiguous',
      reason: `blkid exited ${r.code}: ${firstLine(err) || 'no message'}`,
    };
  }
  const fields = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const type = fields.get('TYPE');
  const usage = fields.get('USAGE');
  if (type !== undefined && type !== '' && (usage === undefined || usage === 'filesystem')) {
    return { kind: 'filesystem', fsType: type };
  }
  if (type !== undefined && type !== '') return { kind: 'other', detail: `${type} (${usage})` };
  const pttype = fields.get('PTTYPE');
  if (pttype !== undefined) return { kind: 'other', detail: `a ${pttype} partition table` };
  return { kind: 'ambiguous', reason: 'blkid reported a match without a type' };
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

  return {
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
    ...kernelQueries(procRoot),
  };
}
