/**
 * Test-side renderer of RouterOS `/disk print` output (detail, terse, json), written
 * independently of the simulator so that parser round-trip tests do not share its bugs.
 */
import type { Disk } from '../../../src/routeros/ports';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

export function uuid(r: () => number): string {
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;
}

export function genDisk(r: () => number): Disk {
  const kind = r() < 0.8 ? 'pvc' : 'snap';
  const slot = `${kind}-${uuid(r)}`;
  const dir = kind === 'pvc' ? 'storage-pool/k8s' : 'storage-pool/k8s/snapshots';
  // Sizes from 1 byte to ~1 PiB, often exact GiB multiples, sometimes odd.
  const sizeBytes =
    r() < 0.5 ? (1 + Math.floor(r() * 2048)) * 1024 ** 3 : 1 + Math.floor(r() * 2 ** 50);
  const exported = kind === 'pvc' || r() < 0.2;
  const hosts: string[] = [];
  const nHosts = exported ? Math.floor(r() * 3) : 0;
  for (let i = 0; i < nHosts; i++) hosts.push(`nqn.2014-08.org.nvmexpress:uuid:${uuid(r)}`);
  const disk: { -readonly [K in keyof Disk]: Disk[K] } = {
    slot,
    filePath: `${dir}/${slot}.img`,
    sizeBytes,
    nvmeExport: exported,
    allowedHosts: hosts,
  };
  if (exported) {
    disk.nqn = `nqn.2000-02.com.mikrotik:${slot}`;
    disk.port = 4420 + Math.floor(r() * 4);
  }
  return disk;
}

export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

export function humanSize(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${(Math.floor(v * 10) / 10).toFixed(1)}${units[u]}`;
}

/** `key=value` tokens in device order, values in detail style. */
export function detailTokens(d: Disk): string[] {
  const t = [
    'type=file',
    `slot="${d.slot}"`,
    'slot-default=""',
    'parent=""',
    'fs=-',
    `model="${d.filePath}"`,
    `size=${groupDigits(d.sizeBytes)}`,
    `nvme-tcp-export=${d.nvmeExport ? 'yes' : 'no'}`,
  ];
  if (d.nvmeExport) {
    t.push(`nvme-tcp-server-port=${d.port ?? 4420}`);
    t.push(`nvme-tcp-server-nqn="${d.nqn ?? ''}"`);
    t.push(`nvme-tcp-server-allow-host-name="${d.allowedHosts.join(',')}"`);
  }
  t.push(`file-path=${d.filePath}`, `file-size=${humanSize(d.sizeBytes)}`, 'file-offset=0');
  return t;
}

export interface Wrap {
  /** Index of the token to split. */
  readonly token: number;
  /** Split position inside the token (1..length-1). */
  readonly at: number;
}

/**
 * One entry: index and flags, then tokens packed up to `width` columns, continuation lines
 * indented to the property column; with `wrap`, that token is split across two lines.
 */
export function renderDetailEntry(d: Disk, index: number, width: number, wrap?: Wrap): string[] {
  const head = `${String(index).padStart(2)} ${(d.nvmeExport ? 't' : '').padEnd(2)} `;
  const indent = ' '.repeat(head.length);
  const lines: string[] = [];
  let line = head;
  let fresh = true;
  const tokens = detailTokens(d);
  tokens.forEach((tok, i) => {
    if (wrap !== undefined && wrap.token === i) {
      if (!fresh) line += ' ';
      lines.push(line + tok.slice(0, wrap.at));
      line = indent + tok.slice(wrap.at);
      fresh = false;
      return;
    }
    if (!fresh && line.length + 1 + tok.length > width) {
      lines.push(line);
      line = indent;
      fresh = true;
    }
    line += (fresh ? '' : ' ') + tok;
    fresh = false;
  });
  lines.push(line);
  return lines;
}

export const FLAGS_HEADER =
  'Flags: X - disabled, E - empty; B - block-device; M - mounted; F - formatting;\nt - nvme-tcp-export';

export function renderDetail(disks: readonly Disk[], width = 80): string {
  const lines = [FLAGS_HEADER];
  disks.forEach((d, i) => lines.push(...renderDetailEntry(d, i, width)));
  return lines.join('\r\n') + '\r\n';
}

export function renderTerse(disks: readonly Disk[]): string {
  return (
    disks
      .map((d, i) => {
        const toks = detailTokens(d).map((t) => t.replace(/^([a-z-]+)="([^"]+)"$/, '$1=$2'));
        return `${String(i).padStart(2)} ${d.nvmeExport ? 't' : ''} ${toks.join(' ')}`;
      })
      .join('\r\n') + '\r\n'
  );
}

/** `:serialize to=json` before 7.17: every number a six-decimal float. */
export function renderJson(disks: readonly Disk[]): string {
  const f = (n: number): string => n.toFixed(6);
  const objs = disks.map((d, i) => {
    const parts = [
      `".id":"*${(i + 1).toString(16).toUpperCase()}"`,
      `"type":"file"`,
      `"slot":${JSON.stringify(d.slot)}`,
      `"slot-default":""`,
      `"model":${JSON.stringify(d.filePath)}`,
      `"size":${f(d.sizeBytes)}`,
      `"nvme-tcp-export":${d.nvmeExport}`,
    ];
    if (d.nvmeExport) {
      parts.push(`"nvme-tcp-server-port":${f(d.port ?? 4420)}`);
      parts.push(`"nvme-tcp-server-nqn":${JSON.stringify(d.nqn)}`);
      parts.push(`"nvme-tcp-server-allow-host-name":${JSON.stringify(d.allowedHosts.join(','))}`);
    }
    parts.push(`"file-path":${JSON.stringify(d.filePath)}`, `"file-size":${f(d.sizeBytes)}`);
    return `{${parts.join(',')}}`;
  });
  return `[${objs.join(',')}]\r\n`;
}
