/**
 * The device state behind test/fixtures/routeros/ and the command → file table. The
 * render tests compare against the files; RDS_SIM_WRITE_FIXTURES=1 rewrites them.
 */
import * as path from 'node:path';
import {
  DISK_MENU,
  DISK_TABLE_COLUMNS,
  diskItems,
  FILE_MENU,
  fileItems,
} from '../../../src/sim/model';
import type { SimDisk, SimFileEntry, SimPool } from '../../../src/sim/model';
import { renderDetail, renderJson, renderTable, renderTerse } from '../../../src/sim/render';
import { identityScreen, resourceScreen, trafficScreen } from '../../../src/sim/screens';

export const FIXTURE_DIR = path.resolve(__dirname, '../../../../test/fixtures/routeros');

const GiB = 1024 ** 3;
const base = { password: '', nvmeExport: true, port: 4420, allowHost: '' };
export const DISKS: SimDisk[] = [
  {
    ...base,
    id: 2,
    slot: 'pvc-0f0e4c2a-5b7d-4e21-9c3a-8d6f1b2e3a4c',
    filePath: 'storage-pool/k8s/pvc-0f0e4c2a-5b7d-4e21-9c3a-8d6f1b2e3a4c.img',
    fileSize: 50 * GiB,
    nqn: 'nqn.2000-02.com.mikrotik:pvc-0f0e4c2a-5b7d-4e21-9c3a-8d6f1b2e3a4c',
  },
  {
    ...base,
    id: 3,
    slot: 'pvc-7a1bd3e9-2c44-4f0a-b6d1-93e8a0c5f217',
    filePath: 'storage-pool/k8s/pvc-7a1bd3e9-2c44-4f0a-b6d1-93e8a0c5f217.img',
    fileSize: 10 * GiB,
    nqn: 'nqn.2000-02.com.mikrotik:pvc-7a1bd3e9-2c44-4f0a-b6d1-93e8a0c5f217',
    allowHost: 'nqn.2014-08.org.nvmexpress:uuid:4c4c4544-0051-3510-8052-b4c04f4e3332',
  },
  {
    ...base,
    id: 5,
    slot: 'snap-5d2c9a10-8e3f-4b6a-a1c7-2f9e8d7c6b5a',
    filePath: 'storage-pool/k8s/snapshots/snap-5d2c9a10-8e3f-4b6a-a1c7-2f9e8d7c6b5a.img',
    fileSize: 50 * GiB,
    nvmeExport: false,
    nqn: '',
  },
  {
    ...base,
    id: 6,
    slot: 'pvc-c3d9e1f2-7a8b-4c5d-9e0f-1a2b3c4d5e6f',
    filePath: 'storage-pool/k8s/pvc-c3d9e1f2-7a8b-4c5d-9e0f-1a2b3c4d5e6f.img',
    fileSize: 1.5 * GiB,
    port: 4421,
    nqn: 'nqn.2000-02.com.mikrotik:pvc-c3d9e1f2-7a8b-4c5d-9e0f-1a2b3c4d5e6f',
    password: 'not-printed',
  },
];

const ORPHAN = 2 * GiB;
export const POOL: SimPool = {
  id: 1,
  mountPoint: 'storage-pool',
  sizeBytes: 1024 * GiB,
  usedBytes: DISKS.reduce((a, d) => a + d.fileSize, 0) + ORPHAN,
};

const t0 = new Date(Date.UTC(2026, 10, 21, 23, 10, 5));
const disk = (i: number): SimDisk => DISKS[i]!;
export const FILES: SimFileEntry[] = [
  {
    name: 'storage-pool',
    type: 'disk',
    size: 0,
    modified: new Date(Date.UTC(2026, 10, 2, 8, 0, 0)),
  },
  {
    name: 'storage-pool/k8s',
    type: 'directory',
    size: 0,
    modified: new Date(Date.UTC(2026, 10, 21, 22, 58, 41)),
  },
  {
    name: 'storage-pool/k8s/orphan-11111111-2222-4333-8444-555555555555.img',
    type: 'file',
    size: ORPHAN,
    modified: new Date(Date.UTC(2026, 10, 20, 7, 3, 9)),
  },
  ...[0, 1, 3].map((i) => ({
    name: disk(i).filePath,
    type: 'file' as const,
    size: disk(i).fileSize,
    modified: t0,
  })),
  { name: 'storage-pool/k8s/snapshots', type: 'directory', size: 0, modified: t0 },
  { name: disk(2).filePath, type: 'file', size: disk(2).fileSize, modified: t0 },
];

/** Fixture file → the lines the renderers produce for it. */
export function expectedFixtures(): Record<string, string[]> {
  const all = diskItems(POOL, DISKS);
  const files = fileItems(FILES);
  const one = all.slice(1, 2);
  const pool = all.slice(0, 1);
  const idle = { readOps: 0, writeOps: 0, readBytes: 0, writeBytes: 0, readOpsPerSecond: 0 };
  return {
    'disk-print-detail.txt': renderDetail(all, DISK_MENU, 80),
    'disk-print-detail-width60.txt': renderDetail(all, DISK_MENU, 60),
    'disk-print-detail-width4096.txt': renderDetail(all, DISK_MENU, 4096),
    'disk-print-detail-one.txt': renderDetail(one, DISK_MENU, 80),
    'disk-print-detail-empty.txt': renderDetail([], DISK_MENU, 80),
    'disk-print-terse.txt': renderTerse(all, DISK_MENU),
    'disk-print-terse-empty.txt': renderTerse([], DISK_MENU),
    'disk-print.txt': renderTable(all, DISK_MENU, DISK_TABLE_COLUMNS),
    'disk-serialize-json.txt': [renderJson(all)],
    'disk-serialize-json-one.txt': [renderJson(one)],
    'disk-serialize-json-empty.txt': [renderJson([])],
    'pool-print-detail.txt': renderDetail(pool, DISK_MENU, 80),
    'pool-print-terse.txt': renderTerse(pool, DISK_MENU),
    'pool-serialize-json.txt': [renderJson(pool)],
    'file-print-detail.txt': renderDetail(files, FILE_MENU, 80),
    'file-print-detail-one.txt': renderDetail(files.slice(3, 4), FILE_MENU, 80),
    'file-print-detail-empty.txt': renderDetail([], FILE_MENU, 80),
    'file-print-terse.txt': renderTerse(files, FILE_MENU),
    'file-serialize-json.txt': [renderJson(files)],
    'system-resource-print.txt': resourceScreen({
      version: '7.16',
      uptimeSeconds: 3 * 86400 + 4 * 3600 + 12 * 60 + 7,
      boardName: 'RDS2216',
    }),
    'system-resource-print-7.12.txt': resourceScreen({
      version: '7.12.1',
      uptimeSeconds: 45,
      boardName: 'RDS2216',
    }),
    'system-identity-print.txt': identityScreen('rds-sim'),
    'disk-monitor-traffic.txt': trafficScreen({
      slot: disk(0).slot,
      readOps: 182734,
      writeOps: 96211,
      readBytes: 2994642944,
      writeBytes: 1576468480,
      readOpsPerSecond: 12,
      writeOpsPerSecond: 98,
      readBitsPerSecond: 393216,
      writeBitsPerSecond: 12845056,
    }),
    'disk-monitor-traffic-idle.txt': trafficScreen({
      ...idle,
      slot: disk(2).slot,
      writeOpsPerSecond: 0,
      readBitsPerSecond: 0,
      writeBitsPerSecond: 0,
    }),
  };
}

/** Fixture file → the command line whose reply it is (replies that the CLI must produce). */
export const ERROR_FIXTURES: Record<string, string> = {
  'failure-no-such-item.txt': '/disk remove nope',
  'failure-not-enough-space.txt':
    '/disk add type=file file-path=storage-pool/k8s/huge.img file-size=2T slot=huge',
  'failure-slot-exists.txt':
    '/disk add type=file file-path=storage-pool/k8s/other.img file-size=1M slot=a',
  'failure-file-exists.txt':
    '/disk add type=file file-path=storage-pool/k8s/a.img file-size=1M slot=other',
  'failure-shrink.txt': '/disk set a file-size=1K',
  'error-bad-command-name.txt': '/disk prnt',
  'error-expected-end-of-command.txt': '/disk print detail foo',
  'error-syntax-error.txt': '/disk print where slot="abc',
  'error-invalid-value.txt':
    '/disk add type=file file-path=storage-pool/k8s/x.img file-size=lots slot=x',
};
