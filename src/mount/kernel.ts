/**
 * The Mounter's probe, mount, bind and unmount done in-process through the addon (libblkid,
 * mount(2), umount2(2)) instead of by spawning blkid(8), mount(8) and umount(8). Same
 * contracts as the tool path in linux.ts: the never-format rule (only a positive "nothing"
 * is 'empty'), the options mount(8) would pass (options.ts), and every mount is read back
 * from the mount table before it counts as done.
 */
import { CancelledError, FailedPreconditionError, InternalError } from '../domain/errors';
import type { FsType } from '../domain/volume-context';
import type { MountSyscalls } from '../nvme/native';
import { isNativeError } from '../nvme/native';
import { FILESYSTEMS } from './filesystems';
import { type MountEntry, mountAt } from './mountinfo';
import { MS, readOnlyBindRemountFlags, toKernelOptions } from './options';
import type { CallOptions, Mounter } from './ports';
import { classifyProbeReply } from './probe';

type KernelOps = Pick<Mounter, 'probe' | 'mount' | 'bind' | 'unmount'>;

export interface KernelMountDeps {
  readonly sys: MountSyscalls;
  readonly mounts: () => Promise<readonly MountEntry[]>;
  readonly deviceNumber: (device: string) => Promise<string | undefined>;
  /** The device's first bytes, or why it could not be read (readHead in queries.ts). */
  readonly readHead: (device: string) => Promise<Buffer | string>;
}

function describe(err: unknown): string {
  if (isNativeError(err)) return `${err.code} (${err.message.split(',')[0]})`;
  return err instanceof Error ? err.message : String(err);
}

function throwIfAborted(o?: CallOptions): void {
  if (!o?.signal?.aborted) return;
  const reason: unknown = o.signal.reason;
  throw reason instanceof Error ? reason : new CancelledError('the operation was cancelled');
}

export function kernelMountOps(deps: KernelMountDeps): KernelOps {
  const { sys } = deps;
  /** The mount now at `target`, or an InternalError: mount(2) said yes, the table must agree. */
  const readBack = async (target: string, what: string): Promise<MountEntry> => {
    const entry = mountAt(await deps.mounts(), target);
    if (!entry) throw new InternalError(`${what}: mount(2) succeeded but ${target} is not mounted`);
    return entry;
  };
  const mountOrThrow = async (
    args: Parameters<MountSyscalls['mount']>,
    what: string,
  ): Promise<void> => {
    try {
      await sys.mount(...args);
    } catch (err) {
      throw new InternalError(`${what} failed: ${describe(err)}`, {
        target: args[1],
        code: isNativeError(err) ? err.code : undefined,
      });
    }
  };

  return {
    async probe(device, o) {
      const readable = await deps.readHead(device);
      if (typeof readable === 'string') return { kind: 'ambiguous', reason: readable };
      throwIfAborted(o);
      try {
        return classifyProbeReply(await sys.probeDevice(device));
      } catch (err) {
        return {
          kind: 'ambiguous',
          reason: `libblkid could not probe ${device}: ${describe(err)}`,
        };
      }
    },

    async mount(device, target, fsType: FsType, options, o) {
      throwIfAborted(o);
      const all = [...new Set([...options, ...FILESYSTEMS[fsType].mountOptions])];
      const k = toKernelOptions(all);
      const what = `mounting ${device} on ${target}`;
      await mountOrThrow([device, target, fsType, k.flags, k.data], what);
      const [entry, majorMinor] = await Promise.all([
        readBack(target, what),
        deps.deviceNumber(device),
      ]);
      if (majorMinor !== undefined && entry.majorMinor !== majorMinor) {
        throw new InternalError(
          `${what}: the mount table shows ${entry.source} (${entry.majorMinor}) at ${target}`,
        );
      }
    },

    async bind(source, target, readonly, o) {
      throwIfAborted(o);
      const what = `bind-mounting on ${target}`;
      await mountOrThrow([source, target, null, MS.BIND, null], what);
      const entry = await readBack(target, what);
      if (!readonly) return;
      // As mount(8) does for `--bind -o ro`: the read-only flag takes a second, remount call.
      const remount = `remounting ${target} read-only`;
      await mountOrThrow(
        [source, target, null, readOnlyBindRemountFlags(entry.options), null],
        remount,
      );
      const after = await readBack(target, remount);
      if (!after.options.includes('ro')) {
        throw new InternalError(`${remount}: the mount table still shows it writable`);
      }
    },

    async unmount(target, o) {
      throwIfAborted(o);
      try {
        await sys.umount(target, 0);
      } catch (err) {
        throw new FailedPreconditionError(`could not unmount ${target}: ${describe(err)}`, {
          target,
        });
      }
    },
  };
}
