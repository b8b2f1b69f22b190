/**
 * The one loader of the rds_nvme addon, and its exact typed surface. Nothing else imports
 * the addon: code above this file takes an `NvmeAddon` by injection (tests pass a fake).
 */
import fs from 'node:fs';
import path from 'node:path';

/** Raw attribute value as the kernel wrote it; null when absent or vanished mid-scan. */
export type RawAttr = string | null;

export interface RawController {
  /** 'nvme3' */
  readonly name: string;
  readonly state: RawAttr;
  readonly transport: RawAttr;
  readonly address: RawAttr;
  readonly subsysnqn: RawAttr;
  readonly hostnqn: RawAttr;
  readonly hostid: RawAttr;
  readonly cntlid: RawAttr;
  /** Seconds, or 'off' (the kernel's rendering of -1). */
  readonly ctrlLossTmo: RawAttr;
  readonly reconnectDelay: RawAttr;
  /** Seconds, or 'off'. */
  readonly fastIoFailTmo: RawAttr;
  readonly kato: RawAttr;
}

export interface RawSubsystem {
  /** 'nvme-subsys0' */
  readonly name: string;
  readonly subsysnqn: RawAttr;
  readonly iopolicy: RawAttr;
  /** Member controller names ('nvme0', 'nvme1'). */
  readonly members: readonly string[];
}

export interface RawNamespace {
  /** 'nvme0n1' (head or single-path) or 'nvme0c1n1' (per-path). */
  readonly name: string;
  /** The controller ('nvme0') or subsystem ('nvme-subsys0') directory it was found under. */
  readonly parent: string;
  readonly nsid: RawAttr;
  /** 512-byte sectors. */
  readonly size: RawAttr;
  readonly uuid: RawAttr;
  readonly nguid: RawAttr;
  readonly wwid: RawAttr;
  /** '1' for per-path nodes under native multipath (no /dev node). */
  readonly hidden: RawAttr;
  /**
   * Only in a connect's lookup given devRoot: '1' when <devRoot>/<name> exists, '0' when
   * not, null for a per-path entry.
   */
  readonly devNode?: RawAttr;
  /** 'major:minor' */
  readonly dev: RawAttr;
}

export interface RawScan {
  readonly controllers: readonly RawController[];
  readonly subsystems: readonly RawSubsystem[];
  readonly namespaces: readonly RawNamespace[];
  /** True when a bound was hit and some entries were not read. */
  readonly truncated: boolean;
}

/**
 * A libblkid low-level probe (the chains of `blkid -p`): 'found' with the NAME=value tags
 * (TYPE, USAGE, PTTYPE, UUID...), 'nothing' when every prober ran and none matched,
 * 'ambiguous' when more than one signature matched. I/O errors reject instead.
 */
export interface ProbeReply {
  readonly status: 'found' | 'nothing' | 'ambiguous';
  readonly values: Readonly<Record<string, string>>;
}

/** The addon calls the Mounter makes: the in-process probe, mount(2) and umount2(2). */
export interface MountSyscalls {
  /** Opens `device` read-only (ENOTBLK when it is not a block device) and probes it. */
  probeDevice(device: string): Promise<ProbeReply>;
  /** One mount(2); fstype and data may be null (bind, remount). */
  mount(
    source: string,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): Promise<void>;
  /** One umount2(2). */
  umount(target: string, flags: number): Promise<void>;
}

export interface RunReply {
  /** Exit code; -1 when killed by a signal. */
  readonly code: number;
  /** The signal that ended it, or 0. */
  readonly signal: number;
  /** True when the timeout passed and the addon killed it (SIGKILL). */
  readonly timedOut: boolean;
  /** At most 64 KiB each. */
  readonly stdout: string;
  readonly stderr: string;
}

/** The addon's process starter: posix_spawn of an absolute path, stdin /dev/null. */
export interface SpawnSyscalls {
  run(
    file: string,
    argv: readonly string[],
    opts: { readonly env: readonly string[]; readonly timeoutMs: number },
  ): Promise<RunReply>;
}

export interface ConnectReply {
  readonly instance: number;
  readonly cntlid: number;
  /**
   * With `sysfsRoot`: scanController(instance) taken in the same pool job right after the
   * reply; absent when that lookup failed (the connect still succeeded).
   */
  readonly lookup?: RawScan;
  /**
   * When the pool job began, had the kernel's reply, and had finished the lookup, in ms of
   * CLOCK_MONOTONIC (the clock of process.hrtime): where a connect's time went.
   */
  readonly stamps?: { readonly started: number; readonly replied: number; readonly done: number };
}

/**
 * The addon's exported functions. Each validates its arguments synchronously (TypeError on
 * a wrong type), runs its syscalls on the libuv pool and rejects with a NativeError.
 */
export interface NvmeAddon {
  readonly abiVersion: number;
  /**
   * One write of `options` to fabricsPath, one read of `instance=N,cntlid=M`; with
   * `sysfsRoot`, then the lookup of the new controller (see ConnectReply.lookup); with
   * `devRoot` too, the lookup says which namespaces have their device node.
   */
  connect(
    options: string,
    opts: { readonly fabricsPath: string; readonly sysfsRoot?: string; readonly devRoot?: string },
  ): Promise<ConnectReply>;
  /** Writes 1 to <sysfsRoot>/class/nvme/nvme<instance>/delete_controller. */
  disconnect(instance: number, opts: { readonly sysfsRoot: string }): Promise<void>;
  /**
   * Every controller, subsystem and namespace. `brief` reads only controller state and
   * subsysnqn, namespace nsid and hidden, and subsystem subsysnqn (the rest null): what
   * finding and judging a subsystem's controllers and devices needs.
   */
  scan(opts: { readonly sysfsRoot: string; readonly brief?: boolean }): Promise<RawScan>;
  /**
   * The scan limited to controller nvme<instance>, its namespaces and the subsystem it is a
   * member of (with that subsystem's heads); empty lists when the controller is gone.
   * Always brief (see scan).
   */
  scanController(instance: number, opts: { readonly sysfsRoot: string }): Promise<RawScan>;
  /** Writes `value` to <sysfsRoot>/class/nvme/nvme<instance>/<name>. */
  setAttribute(
    instance: number,
    name: string,
    value: string,
    opts: { readonly sysfsRoot: string },
  ): Promise<void>;
  /** Writes 1 to <sysfsRoot>/class/nvme/nvme<instance>/rescan_controller. */
  rescan(instance: number, opts: { readonly sysfsRoot: string }): Promise<void>;
  /** Processes with one of `paths` (at most 64) open, from <procRoot>/<pid>/fd links. */
  findOpeners(paths: readonly string[], opts: { readonly procRoot: string }): Promise<Opener[]>;
  /**
   * What the detach in-use check reads, in one pool job: each device of `names` (at most
   * 64 plain names) and its partitions with 'major:minor' and holders, the text of
   * <procRoot>/self/mountinfo, and the openers of their /dev nodes. Rejects when mountinfo
   * or <procRoot> cannot be read, or with E2BIG past 4096 devices and partitions (nothing
   * is left out silently); a vanished device is listed with dev null.
   */
  deviceUsage(
    names: readonly string[],
    opts: { readonly sysfsRoot: string; readonly procRoot: string },
  ): Promise<DeviceUsageReply>;
}

/** A block device or one of its partitions, from <sysfsRoot>/block. */
export interface RawBlockNode {
  readonly name: string;
  /** 'major:minor'; null when the device is gone. */
  readonly dev: RawAttr;
  /** Entries of its holders/ directory (stacked devices such as dm-0). */
  readonly holders: readonly string[];
}

export interface DeviceUsageReply {
  /** The devices asked for, each followed by its partitions. */
  readonly nodes: readonly RawBlockNode[];
  readonly mountinfo: string;
  /** Processes holding /dev/<node> open, for every node above. */
  readonly openers: readonly Opener[];
}

export interface Opener {
  readonly pid: number;
  /** The link target that matched, e.g. '/dev/nvme0n1'. */
  readonly path: string;
}

/** Small state files read in one pool job. */
export interface FileSyscalls {
  /**
   * open, read and close of a regular file of at most `maxBytes` (≤ 1 MiB), as UTF-8 text;
   * null when the path does not exist. Rejects with EISDIR, EINVAL (not a regular file),
   * EFBIG (longer), EACCES, ...
   */
  readFile(path: string, opts: { readonly maxBytes: number }): Promise<string | null>;
}

/** Everything the addon exports: the fabrics surface, the Mounter's syscalls, state files. */
export type RdsAddon = NvmeAddon & MountSyscalls & SpawnSyscalls & FileSyscalls;

/** A failed syscall from the addon, shaped like Node's fs errors (errno is positive). */
export interface NativeError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string;
}

export function isNativeError(err: unknown): err is NativeError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<Record<'code' | 'errno' | 'syscall' | 'path', unknown>>;
  return (
    typeof e.code === 'string' &&
    typeof e.errno === 'number' &&
    typeof e.syscall === 'string' &&
    typeof e.path === 'string'
  );
}

export const ADDON_ABI_VERSION = 6;
const ADDON_FILE = 'rds_nvme.node';
const FUNCTIONS = [
  'connect',
  'disconnect',
  'scan',
  'scanController',
  'setAttribute',
  'rescan',
  'findOpeners',
  'deviceUsage',
  'probeDevice',
  'mount',
  'umount',
  'run',
  'readFile',
] as const;

export interface LoadAddonOptions {
  /** An explicit addon path from config/env, tried first. */
  readonly overridePath?: string;
  /** Where to start looking for the package root; default this file's directory. */
  readonly fromDir?: string;
}

/** Candidate addon paths in the order they are tried. */
export function addonCandidates(opts: LoadAddonOptions = {}): string[] {
  const out: string[] = [];
  if (opts.overridePath !== undefined && opts.overridePath !== '') {
    out.push(path.resolve(opts.overridePath));
  }
  let dir = path.resolve(opts.fromDir ?? __dirname);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      out.push(path.join(dir, 'build', 'Release', ADDON_FILE));
      out.push(path.join(dir, 'build', 'Debug', ADDON_FILE));
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}

function checkShape(loaded: unknown, file: string): RdsAddon {
  if (typeof loaded !== 'object' || loaded === null) {
    throw new Error(`${file}: addon exports are not an object`);
  }
  const rec = loaded as Record<string, unknown>;
  if (rec.abiVersion !== ADDON_ABI_VERSION) {
    throw new Error(
      `${file}: addon ABI ${String(rec.abiVersion)}, expected ${ADDON_ABI_VERSION} (rebuild with npm ci)`,
    );
  }
  for (const name of FUNCTIONS) {
    if (typeof rec[name] !== 'function') throw new Error(`${file}: addon lacks ${name}()`);
  }
  return loaded as RdsAddon;
}

/**
 * Loads the addon from the first candidate path that works. On failure the error lists
 * every path tried with the reason each one failed.
 */
export function loadNvmeAddon(opts: LoadAddonOptions = {}): RdsAddon {
  const tried: string[] = [];
  for (const file of addonCandidates(opts)) {
    try {
      const mod: { exports: unknown } = { exports: {} };
      process.dlopen(mod, file);
      return checkShape(mod.exports, file);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      tried.push(`  ${file}: ${reason}`);
    }
  }
  if (tried.length === 0) tried.push('  (no candidate paths: no package root found)');
  throw new Error(`cannot load the rds_nvme addon; tried:\n${tried.join('\n')}`);
}
