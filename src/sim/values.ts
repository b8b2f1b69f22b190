/**
 * Argument value validation for `/disk add` and `/disk set`. A value that does not parse is
 * `invalid value for argument <name>` and the command does not run.
 */
import type { DiskArgs } from './ast';
import { CliSyntaxError } from './lexer';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1024,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/**
 * `file-size`: a byte count, or a number with K/M/G/T (powers of 1024). A fractional size
 * is rounded up to whole bytes, never down. Zero is invalid.
 */
export function parseFileSize(text: string): number | undefined {
  const m = /^(\d+)(\.\d+)?([kKMGT])?$/.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[3] ?? ''] ?? 1;
  if (m[2] !== undefined && unit === 1) return undefined;
  const bytes = Math.ceil(Number(m[1]! + (m[2] ?? '')) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

function invalid(name: string): CliSyntaxError {
  return new CliSyntaxError(`invalid value for argument ${name}`);
}

type Setter = (args: Record<string, unknown>, text: string) => void;

function bool(key: keyof DiskArgs, name: string): Setter {
  return (args, text) => {
    if (text !== 'yes' && text !== 'no') throw invalid(name);
    args[key] = text === 'yes';
  };
}

function str(key: keyof DiskArgs, check: (s: string) => boolean, name: string): Setter {
  return (args, text) => {
    if (!check(text)) throw invalid(name);
    args[key] = text;
  };
}

const printable = (s: string): boolean => ![...s].some((c) => c < ' ' || c === '\x7f');

/** Every disk property `add`/`set` accept, by CLI name. */
export const DISK_SETTERS: Readonly<Record<string, Setter>> = {
  type: str('type', (s) => s === 'file', 'type'),
  'file-path': str('filePath', (s) => s !== '' && printable(s), 'file-path'),
  'file-size': (args, text) => {
    const n = parseFileSize(text);
    if (n === undefined) throw invalid('file-size');
    args.fileSize = n;
  },
  slot: str('slot', (s) => s !== '' && s.length <= 255 && printable(s), 'slot'),
  'nvme-tcp-export': bool('nvmeExport', 'nvme-tcp-export'),
  'nvme-tcp-server-port': (args, text) => {
    const n = /^\d{1,5}$/.test(text) ? Number(text) : 0;
    if (n < 1 || n > 65535) throw invalid('nvme-tcp-server-port');
    args.port = n;
  },
  'nvme-tcp-server-nqn': str(
    'nqn',
    (s) => s === '' || (/^nqn\.[\x21-\x7e]+$/.test(s) && Buffer.byteLength(s) <= 223),
    'nvme-tcp-server-nqn',
  ),
  'nvme-tcp-server-allow-host-name': str('allowHost', printable, 'nvme-tcp-server-allow-host-name'),
  'nvme-tcp-server-password': str('password', printable, 'nvme-tcp-server-password'),
};

/** Properties `/disk set` may change (the rest are fixed at creation). */
export const DISK_SET_KEYS: ReadonlySet<string> = new Set([
  'file-size',
  'nvme-tcp-export',
  'nvme-tcp-server-port',
  'nvme-tcp-server-nqn',
  'nvme-tcp-server-allow-host-name',
  'nvme-tcp-server-password',
]);

/** Names `where`/`find` may test, per menu. */
export const DISK_KEYS: ReadonlySet<string> = new Set([
  'type',
  'slot',
  'slot-default',
  'parent',
  'device',
  'fs',
  'model',
  'serial',
  'size',
  'mount-point',
  'free',
  'use',
  'nvme-tcp-export',
  'nvme-tcp-server-port',
  'nvme-tcp-server-nqn',
  'nvme-tcp-server-allow-host-name',
  'file-path',
  'file-size',
  'file-offset',
]);

export const FILE_KEYS: ReadonlySet<string> = new Set(['name', 'type', 'size', 'last-modified']);

/** `7.16` ≥ `7.13`? Compares dotted numeric versions; a suffix like `rc1` is ignored. */
export function versionAtLeast(version: string, min: string): boolean {
  const parse = (v: string): number[] => v.split('.').map((p) => parseInt(p, 10) || 0);
  const a = parse(version);
  const b = parse(min);
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}
