import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  RECORD_MAX_BYTES,
  type StagingRecord,
  createFileRecordStore,
} from '../../../src/node/records';
import { loadNvmeAddon } from '../../../src/nvme/native';
import { CONTEXT } from './setup';

function record(over: Partial<StagingRecord> = {}): StagingRecord {
  return {
    version: 1,
    volumeId: 'pvc-1',
    stagingPath: '/var/lib/kubelet/plugins/x/globalmount',
    access: 'mount',
    fsType: 'ext4',
    mountFlags: [],
    context: CONTEXT,
    device: '/dev/nvme0n1',
    ...over,
  };
}

function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-records-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the first put makes the state directory (0700) and a 0600 record', async (t) => {
  const dir = path.join(tempDir(t), 'state', 'node');
  const store = createFileRecordStore(dir);
  await store.put(record());
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  const [name] = fs.readdirSync(dir);
  t.equal(name, 'pvc-1.json', 'no temp file left');
  t.equal(fs.statSync(path.join(dir, name!)).mode & 0o777, 0o600);
  t.match(await store.get('pvc-1'), { ...record(), context: { nqn: CONTEXT.nqn } });
});

t.test('a later put replaces the record in the existing directory', async (t) => {
  const dir = tempDir(t);
  const store = createFileRecordStore(dir);
  await store.put(record());
  await store.put(record({ device: '/dev/nvme1n1' }));
  t.equal((await store.get('pvc-1'))?.device, '/dev/nvme1n1');
  t.same(fs.readdirSync(dir), ['pvc-1.json']);
});

t.test('a put that fails for another reason than a missing directory rejects', async (t) => {
  const file = path.join(tempDir(t), 'not-a-dir');
  fs.writeFileSync(file, '');
  const store = createFileRecordStore(file);
  await t.rejects(store.put(record()), { code: 'ENOTDIR' });
});

t.test('the store reads through the addon when given it, with the same answers', async (t) => {
  const addon = loadNvmeAddon();
  const dir = tempDir(t);
  const reads: string[] = [];
  const store = createFileRecordStore(dir, {
    readFile: (f) => {
      reads.push(f);
      return addon.readFile(f, { maxBytes: RECORD_MAX_BYTES });
    },
  });
  t.equal(await store.get('pvc-1'), undefined, 'a missing record is undefined');
  await store.put(record());
  const stored: unknown = JSON.parse(JSON.stringify(record()));
  t.same(await store.get('pvc-1'), stored);
  t.same(await store.list(), [stored]);
  t.ok(reads.length >= 3, 'every read went through it');
  fs.writeFileSync(path.join(dir, 'pvc-2.json'), '{"version":1}');
  await t.rejects(store.get('pvc-2'), { name: 'InternalError' }, 'a malformed record');
  fs.writeFileSync(path.join(dir, 'pvc-3.json'), ' '.repeat(RECORD_MAX_BYTES + 1));
  await t.rejects(store.get('pvc-3'), { code: 'EFBIG' }, 'an oversized file is not read whole');
});
