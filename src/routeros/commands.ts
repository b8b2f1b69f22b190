/**
 * Typed builders for every RouterOS command the driver sends. Each validates all of its
 * inputs (throwing InvalidArgumentError) and quotes every value, so a Command only exists
 * when it is safe to send. Pure: no I/O.
 */
import { InvalidArgumentError } from '../domain/errors';
import type { OutputForm } from './config';
import {
  quote,
  regexLiteral,
  validateHostNqn,
  validatePoolDir,
  validatePoolPath,
  validatePort,
  validateSize,
  validateSlot,
  validateSlotPrefix,
  validateSubsystemNqn,
} from './grammar';

export interface Command {
  /** Argument-free name for logs and metric labels, e.g. `/disk add` (a closed set). */
  readonly name: string;
  /** The full command line. May name paths and NQNs; never a secret. */
  readonly text: string;
  /** Running it twice may differ from running it once: never retried blindly. */
  readonly mutating: boolean;
}

/** Builders bound to the configured pool base path (already normalised). */
export interface CommandBuilders {
  readonly basePath: string;
  /** Validate and normalise a disk image path (under the pool, `.img`, no leading `/`). */
  imagePath(filePath: string): string;
  diskAdd(spec: DiskAddSpec): Command;
  diskCopy(spec: DiskCopySpec): Command;
  diskResize(slot: string, sizeBytes: number): Command;
  diskRemove(slot: string): Command;
  diskSetAllowedHosts(slot: string, hostNqns: readonly string[]): Command;
  diskGet(slot: string, form: OutputForm): Command;
  diskList(slotPrefix: string, form: OutputForm): Command;
  poolGet(mountPoint: string, form: OutputForm): Command;
  fileList(dir: string, form: OutputForm): Command;
  fileRemove(path: string): Command;
}

export interface DiskAddSpec {
  readonly slot: string;
  readonly filePath: string;
  readonly sizeBytes: number;
  readonly nqn: string;
  readonly port: number;
  readonly allowedHosts?: readonly string[];
}

export interface DiskCopySpec {
  readonly sourceSlot: string;
  readonly slot: string;
  readonly filePath: string;
  readonly sizeBytes?: number;
  readonly export?: {
    readonly nqn: string;
    readonly port: number;
    readonly allowedHosts?: readonly string[];
  };
}

/** Cheap, read-only commands that need no pool path. */
export const SYSTEM_IDENTITY: Command = {
  name: '/system identity print',
  text: '/system identity print',
  mutating: false,
};
export const SYSTEM_RESOURCE: Command = {
  name: '/system resource print',
  text: '/system resource print',
  mutating: false,
};

function exportArgs(nqn: string, port: number, hosts?: readonly string[]): string {
  const args = [
    'nvme-tcp-export=yes',
    `nvme-tcp-server-port=${validatePort(port)}`,
    `nvme-tcp-server-nqn=${quote(validateSubsystemNqn(nqn))}`,
  ];
  if (hosts !== undefined && hosts.length > 0) args.push(allowHostArg(hosts));
  return args.join(' ');
}

/**
 * The one place that knows the allow-list's value format (unconfirmed on hardware): a
 * comma-separated list of host NQNs, empty for "any host".
 */
function allowHostArg(hosts: readonly string[]): string {
  if (!Array.isArray(hosts) || hosts.length > 64) {
    throw new InvalidArgumentError('host NQNs must be a list of at most 64 entries');
  }
  const unique = [...new Set(hosts.map((h) => validateHostNqn(h)))];
  return `nvme-tcp-server-allow-host-name=${quote(unique.join(','))}`;
}

/** `/disk print` in the given output form, with a `where` clause (already built and safe). */
function diskPrint(where: string, form: OutputForm): Command {
  const w = where === '' ? '' : ` where ${where}`;
  if (form === 'json') {
    return {
      name: ':serialize /disk print',
      text: `:put [:serialize to=json [/disk print detail as-value${w}]]`,
      mutating: false,
    };
  }
  return { name: '/disk print', text: `/disk print ${form}${w}`, mutating: false };
}

function filePrint(where: string, form: OutputForm): Command {
  if (form === 'json') {
    return {
      name: ':serialize /file print',
      text: `:put [:serialize to=json [/file print detail as-value where ${where}]]`,
      mutating: false,
    };
  }
  return { name: '/file print', text: `/file print ${form} where ${where}`, mutating: false };
}

export function createBuilders(basePath: string): CommandBuilders {
  const img = (p: string): string => validatePoolPath(p, basePath, { img: true });
  return {
    basePath,
    imagePath: img,
    diskAdd(spec) {
      const slot = validateSlot(spec.slot);
      const path = img(spec.filePath);
      const size = validateSize(spec.sizeBytes);
      const text =
        `/disk add type=file file-path=${quote(path)} file-size=${size} slot=${quote(slot)} ` +
        exportArgs(spec.nqn, spec.port, spec.allowedHosts);
      return { name: '/disk add', text, mutating: true };
    },
    diskCopy(spec) {
      const src = validateSlot(spec.sourceSlot, 'source slot');
      const slot = validateSlot(spec.slot);
      const path = img(spec.filePath);
      let text = `/disk add type=file copy-from=[find slot=${quote(src)}] file-path=${quote(path)} slot=${quote(slot)}`;
      if (spec.sizeBytes !== undefined) text += ` file-size=${validateSize(spec.sizeBytes)}`;
      // copy-from copies the source's properties, its export and allow-list included: say
      // both explicitly, so a copy of a fenced disk is not fenced to the source's nodes.
      if (spec.export === undefined) {
        text += ' nvme-tcp-export=no';
      } else {
        text +=
          ' ' +
          exportArgs(spec.export.nqn, spec.export.port) +
          ' ' +
          allowHostArg(spec.export.allowedHosts ?? []);
      }
      return { name: '/disk add copy-from', text, mutating: true };
    },
    diskResize(slot, sizeBytes) {
      const s = validateSlot(slot);
      const size = validateSize(sizeBytes);
      return {
        name: '/disk set file-size',
        text: `/disk set [find slot=${quote(s)}] file-size=${size}`,
        mutating: true,
      };
    },
    diskRemove(slot) {
      const s = validateSlot(slot);
      return { name: '/disk remove', text: `/disk remove [find slot=${quote(s)}]`, mutating: true };
    },
    diskSetAllowedHosts(slot, hostNqns) {
      const s = validateSlot(slot);
      return {
        name: '/disk set allow-host',
        text: `/disk set [find slot=${quote(s)}] ${allowHostArg(hostNqns)}`,
        mutating: true,
      };
    },
    diskGet(slot, form) {
      return diskPrint(`slot=${quote(validateSlot(slot))}`, form);
    },
    diskList(slotPrefix, form) {
      const p = validateSlotPrefix(slotPrefix);
      return diskPrint(p === '' ? '' : `slot~${quote('^' + regexLiteral(p))}`, form);
    },
    poolGet(mountPoint, form) {
      const mp = validatePoolDir(mountPoint, mountPoint.replace(/^\/+|\/+$/g, ''));
      return diskPrint(`mount-point=${quote(mp)}`, form);
    },
    fileList(dir, form) {
      const d = validatePoolDir(dir, basePath);
      return filePrint(`name~${quote('^' + regexLiteral(d + '/'))}`, form);
    },
    fileRemove(path) {
      const p = validatePoolPath(path, basePath);
      return { name: '/file remove', text: `/file remove [find name=${quote(p)}]`, mutating: true };
    },
  };
}
