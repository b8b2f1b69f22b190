/**
 * The simulated device's records and how each becomes a printable item. Field order, flag
 * letters and quoting follow the shapes in ../shared/ROUTEROS.md.
 */
import { formatTime } from './format';
import type { MenuShape, Prop, PropValue, RenderItem } from './render';

export interface SimDisk {
  /** Internal id number; shown as `.id` `*<hex>`; never reused. */
  readonly id: number;
  readonly slot: string;
  /** Path as the device shows it: `storage-pool/k8s/x.img` (no leading slash). */
  readonly filePath: string;
  readonly fileSize: number;
  readonly nvmeExport: boolean;
  readonly port: number;
  readonly nqn: string;
  /** Stored verbatim; backends that fence split it on commas and whitespace. */
  readonly allowHost: string;
  /** Stored, never printed. */
  readonly password: string;
}

export interface SimPool {
  readonly id: number;
  readonly mountPoint: string;
  readonly sizeBytes: number;
  readonly usedBytes: number;
}

export interface SimFileEntry {
  /** Device path without leading slash. */
  readonly name: string;
  readonly type: 'disk' | 'directory' | 'file';
  readonly size: number;
  readonly modified: Date;
}

export const DISK_MENU: MenuShape = {
  flagsHeader:
    'Flags: X - disabled, E - empty; B - block-device; M - mounted; F - formatting; ' +
    't - nvme-tcp-export',
  flagColumn: 3,
};

export const FILE_MENU: MenuShape = { flagsHeader: '', flagColumn: 0 };

export const DISK_TABLE_COLUMNS = ['slot', 'type', 'file-path', 'file-size', 'size', 'free'];
export const FILE_TABLE_COLUMNS = ['name', 'type', 'size', 'last-modified'];

export function itemId(id: number): string {
  return `*${id.toString(16).toUpperCase()}`;
}

const str = (v: string): PropValue => ({ kind: 'str', v });
const word = (v: string): PropValue => ({ kind: 'word', v });
const prop = (key: string, value: PropValue): Prop => ({ key, value });

export function poolProps(pool: SimPool): Prop[] {
  const free = Math.max(0, pool.sizeBytes - pool.usedBytes);
  const use = pool.sizeBytes > 0 ? Math.round((pool.usedBytes * 100) / pool.sizeBytes) : 0;
  return [
    prop('type', word('hardware')),
    prop('slot', str(pool.mountPoint)),
    prop('slot-default', str('nvme1')),
    prop('parent', str('')),
    prop('device', str('nvme1n1')),
    prop('fs', word('btrfs')),
    prop('model', str('RDS-SIM NVMe 1TB')),
    prop('serial', str('SIM0000000001')),
    prop('size', { kind: 'bytes', v: pool.sizeBytes }),
    prop('mount-point', str(pool.mountPoint)),
    prop('free', { kind: 'bytes', v: free }),
    prop('use', { kind: 'percent', v: use }),
  ];
}

export function diskProps(d: SimDisk): Prop[] {
  const props = [
    prop('type', word('file')),
    prop('slot', str(d.slot)),
    prop('slot-default', str('')),
    prop('parent', str('')),
    prop('fs', word('-')),
    prop('model', str(d.filePath)),
    prop('size', { kind: 'bytes', v: d.fileSize }),
    prop('nvme-tcp-export', { kind: 'bool', v: d.nvmeExport }),
  ];
  if (d.nvmeExport) {
    props.push(
      prop('nvme-tcp-server-port', { kind: 'num', v: d.port }),
      prop('nvme-tcp-server-nqn', str(d.nqn)),
      prop('nvme-tcp-server-allow-host-name', str(d.allowHost)),
    );
  }
  props.push(
    prop('file-path', word(d.filePath)),
    prop('file-size', { kind: 'size', v: d.fileSize }),
    prop('file-offset', { kind: 'num', v: 0 }),
  );
  return props;
}

/** The pool first (index 0), then disks in creation order. */
export function diskItems(pool: SimPool, disks: readonly SimDisk[]): RenderItem[] {
  const items: RenderItem[] = [
    { index: 0, id: itemId(pool.id), flags: 'BM', props: poolProps(pool) },
  ];
  disks.forEach((d, i) =>
    items.push({
      index: i + 1,
      id: itemId(d.id),
      flags: d.nvmeExport ? 't' : '',
      props: diskProps(d),
    }),
  );
  return items;
}

/** RouterOS names a file's type after its extension (`.img file`). */
export function fileTypeName(e: SimFileEntry): string {
  if (e.type !== 'file') return e.type;
  const dot = e.name.lastIndexOf('.');
  const slash = e.name.lastIndexOf('/');
  return dot > slash + 1 ? `${e.name.slice(dot)} file` : 'file';
}

export function fileItems(entries: readonly SimFileEntry[]): RenderItem[] {
  return entries.map((e, i) => {
    const props = [prop('name', str(e.name)), prop('type', str(fileTypeName(e)))];
    if (e.type === 'file') props.push(prop('size', { kind: 'size', v: e.size }));
    props.push(prop('last-modified', { kind: 'time', v: e.modified }));
    return { index: i, id: itemId(i + 1), flags: '', props };
  });
}

/** The text a `where`/`find` comparison sees for a property (raw, unformatted). */
export function compareText(value: PropValue): string {
  switch (value.kind) {
    case 'str':
    case 'word':
      return value.v;
    case 'bool':
      return value.v ? 'yes' : 'no';
    case 'time':
      return formatTime(value.v);
    default:
      return String(value.v);
  }
}
