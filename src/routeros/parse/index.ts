/**
 * From device output to domain values: pick the parser for the output form, then map
 * records to Disk, FileEntry and PoolCapacity. Pure.
 */
import type { OutputForm } from '../config';
import type { Disk, FileEntry, PoolCapacity } from '../ports';
import { parseJson } from './json';
import { parseDetail, parseKeyValues, parseTerse, type RosRecord } from './text';
import {
  field,
  parseBool,
  parseBytes,
  parseDate,
  parseInteger,
  parseList,
  parseString,
} from './values';

export { OutputParseError } from './json';
export { parseDetail, parseTerse, parseKeyValues, tokenize } from './text';
export { parseJson } from './json';
export type { RosRecord, RosValue } from './text';

export function parseRecords(output: string, form: OutputForm): RosRecord[] {
  switch (form) {
    case 'json':
      return parseJson(output);
    case 'terse':
      return parseTerse(output);
    case 'detail':
      return parseDetail(output);
  }
}

const stripSlash = (p: string): string => p.replace(/^\/+/, '');

/**
 * A file-backed disk, or undefined for anything else (the pool disk, a disk without slot or
 * file path). Size: the exact `size=` byte count, else `file-size=` (approximate), else 0.
 */
export function toDisk(rec: RosRecord): Disk | undefined {
  const type = parseString(field(rec, 'type'));
  const slot = parseString(field(rec, 'slot'));
  const filePath = parseString(field(rec, 'file-path'));
  if ((type !== undefined && type !== 'file') || !slot || !filePath) return undefined;
  const sizeBytes = parseBytes(field(rec, 'size')) ?? parseBytes(field(rec, 'file-size')) ?? 0;
  const nqn = parseString(field(rec, 'nvme-tcp-server-nqn'));
  const port = parseInteger(field(rec, 'nvme-tcp-server-port'));
  const disk: {
    -readonly [K in keyof Disk]: Disk[K];
  } = {
    slot,
    filePath: stripSlash(filePath),
    sizeBytes,
    nvmeExport: parseBool(field(rec, 'nvme-tcp-export')) ?? false,
    allowedHosts: parseList(field(rec, 'nvme-tcp-server-allow-host-name')),
  };
  if (nqn) disk.nqn = nqn;
  if (port !== undefined) disk.port = port;
  return disk;
}

export function parseDisks(output: string, form: OutputForm): Disk[] {
  const out: Disk[] = [];
  for (const rec of parseRecords(output, form)) {
    const d = toDisk(rec);
    if (d !== undefined) out.push(d);
  }
  return out;
}

/** Files (directories skipped). Sizes may be `10.0GiB` (approximate) or exact. */
export function parseFiles(output: string, form: OutputForm): FileEntry[] {
  const out: FileEntry[] = [];
  for (const rec of parseRecords(output, form)) {
    const name = parseString(field(rec, 'name'));
    const type = parseString(field(rec, 'type'));
    if (!name || type === 'directory') continue;
    const lastModified =
      parseDate(field(rec, 'last-modified')) ?? parseDate(field(rec, 'creation-time'));
    const entry: { path: string; sizeBytes: number; lastModified?: Date } = {
      path: stripSlash(name),
      sizeBytes: parseBytes(field(rec, 'size')) ?? 0,
    };
    if (lastModified !== undefined) entry.lastModified = lastModified;
    out.push(entry);
  }
  return out;
}

/**
 * The pool disk's capacity from `size=` and `free=` (or `use=NN%` when `free=` is absent).
 * Undefined when no record has a readable size.
 */
export function parsePool(output: string, form: OutputForm): PoolCapacity | undefined {
  for (const rec of parseRecords(output, form)) {
    const total = parseBytes(field(rec, 'size'));
    if (total === undefined) continue;
    let free = parseBytes(field(rec, 'free'));
    if (free === undefined) {
      const use = /^(\d+(?:\.\d+)?)%?$/.exec(parseString(field(rec, 'use')) ?? '');
      if (use?.[1] === undefined) continue;
      free = Math.floor((total * (100 - Number(use[1]))) / 100);
    }
    return { totalBytes: total, freeBytes: free };
  }
  return undefined;
}

/** `version: 7.16.1 (stable)` → `7.16.1`. */
export function parseVersion(output: string): string | undefined {
  const v = parseKeyValues(output)['version'];
  const m = v === undefined ? null : /^(\d+(?:\.\d+)*)/.exec(v);
  return m?.[1];
}

export function parseIdentity(output: string): string | undefined {
  return parseKeyValues(output)['name'];
}

/** The best output form for a RouterOS version: JSON from 7.13, terse before, detail if unknown. */
export function formForVersion(version: string | undefined): OutputForm {
  const m = version === undefined ? null : /^(\d+)\.(\d+)/.exec(version);
  if (m === null) return 'detail';
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 7 || (major === 7 && minor >= 13) ? 'json' : 'terse';
}
