import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FailedPreconditionError, UnavailableError } from '../../../src/domain/errors';
import type { ProbeResult } from '../../../src/mount/ports';
import { type RecordStore, createFileRecordStore } from '../../../src/node/records';
import { stageVolume } from '../../../src/node/stage';
import { NQN, formatCalls, rig } from './setup';

t.test('stage of an empty device formats, mounts and records it', async (t) => {
  const r = rig(t);
  const res = await stageVolume(
    r.ctx,
    r.stageInput({ access: { kind: 'mount', fsType: 'ext4', flags: ['noatime'] } }),
  );
  t.equal(res.device, '/dev/nvme0n1');
  t.ok(res.formatted);
  t.notOk(res.alreadyStaged);
  t.same(formatCalls(r.mounter), ['format /dev/nvme0n1 ext4']);
  t.ok(r.mounter.calls.includes(`mount /dev/nvme0n1 ${r.staging} ext4 noatime`));
  t.ok(fs.statSync(r.staging).isDirectory());
  const rec = await r.ctx.records.get('pvc-1');
  t.match(rec, { stagingPath: r.staging, access: 'mount', fsType: 'ext4', device: '/dev/nvme0n1' });
  t.equal(await r.count('volumeOperations', { operation: 'stage', status: 'success' }), 1);
  t.equal(await r.count('mountOperations', { operation: 'format', status: 'success' }), 1);
  t.ok(res.timings.totalMs >= 0);
});

t.test('a second stage at the same path is a no-op success', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  const before = r.mounter.calls.length;
  const res = await stageVolume(r.ctx, r.stageInput());
  t.ok(res.alreadyStaged);
  t.same(
    r.mounter.calls.slice(before).filter((c) => !c.startsWith('probe')),
    [],
    'nothing mounted or formatted',
  );
  t.equal(r.mounter.table.length, 1);
});

t.test('stage at another path while staged → FAILED_PRECONDITION, nothing attached', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  const attaches = r.fabrics.calls.length;
  await t.rejects(
    stageVolume(r.ctx, r.stageInput({ stagingPath: path.join(r.kubelet, 'other') })),
    FailedPreconditionError,
  );
  t.equal(r.fabrics.calls.length, attaches);
});

t.test('a leftover record for a path no longer in use does not block staging', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  r.mounter.table = [];
  const other = path.join(r.kubelet, 'other');
  await stageVolume(r.ctx, r.stageInput({ stagingPath: other }));
  t.equal((await r.ctx.records.get('pvc-1'))?.stagingPath, other);
});

t.test('same path with a different access type → ALREADY_EXISTS', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  await t.rejects(stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } })), {
    code: 'already-exists',
  });
});

t.test('an existing filesystem of the requested type is mounted, never formatted', async (t) => {
  const r = rig(t);
  r.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 1024 ** 3 });
  const res = await stageVolume(r.ctx, r.stageInput());
  t.notOk(res.formatted);
  t.same(formatCalls(r.mounter), []);
  t.equal(r.mounter.table.length, 1);
});

t.test(
  'a different filesystem or another signature → FAILED_PRECONDITION, untouched',
  async (t) => {
    for (const probe of [
      { kind: 'filesystem', fsType: 'xfs' },
      { kind: 'other', detail: 'a gpt partition table' },
    ] as ProbeResult[]) {
      const r = rig(t);
      r.mounter.probeScript.push(probe);
      await t.rejects(stageVolume(r.ctx, r.stageInput()), FailedPreconditionError);
      t.same(formatCalls(r.mounter), [], `${probe.kind}: not formatted`);
      t.same(r.mounter.table, [], `${probe.kind}: not mounted`);
      t.equal(r.events.failures.length, 1, 'mount failure event');
    }
  },
);

t.test('never format: every ambiguous probe outcome retries and then fails', async (t) => {
  const reasons = [
    'blkid exited 8: ambiguous',
    'blkid exited 4: usage',
    'blkid timed out',
    'blkid exited 2 with output: cannot open',
    '/dev/nvme0n1 could not be read: EIO',
    '/dev/nvme0n1 returned 0 bytes (size 0?)',
  ];
  for (const reason of reasons) {
    const r = rig(t);
    for (let i = 0; i < 10; i++) r.mounter.probeScript.push({ kind: 'ambiguous', reason });
    await t.rejects(stageVolume(r.ctx, r.stageInput()), UnavailableError, reason);
    t.same(formatCalls(r.mounter), [], `not formatted after: ${reason}`);
    t.equal(
      r.mounter.calls.filter((c) => c.startsWith('probe')).length,
      r.ctx.timing.probeAttempts,
      'probed the configured number of times',
    );
    t.same(r.mounter.table, []);
    t.equal(await r.count('volumeOperations', { operation: 'stage', status: 'failure' }), 1);
  }
});

t.test(
  'a transient ambiguous probe followed by a filesystem mounts without formatting',
  async (t) => {
    const r = rig(t);
    r.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 1024 ** 3 });
    r.mounter.probeScript.push({ kind: 'ambiguous', reason: 'EIO' });
    r.mounter.probeScript.push({ kind: 'ambiguous', reason: 'EIO' });
    const res = await stageVolume(r.ctx, r.stageInput());
    t.notOk(res.formatted);
    t.same(formatCalls(r.mounter), []);
  },
);

t.test('fsck runs on an existing filesystem when configured, never after mkfs', async (t) => {
  const r = rig(t, { fsckOnStage: true });
  await stageVolume(r.ctx, r.stageInput());
  t.notOk(
    r.mounter.calls.some((c) => c.startsWith('check')),
    'fresh filesystem: no fsck',
  );
  const r2 = rig(t, { fsckOnStage: true });
  r2.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 1024 ** 3 });
  await stageVolume(r2.ctx, r2.stageInput());
  t.ok(r2.mounter.calls.includes('check /dev/nvme0n1'));
});

t.test('the filesystem is grown at stage when the device is larger', async (t) => {
  const r = rig(t);
  r.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 512 * 1024 ** 2 });
  const res = await stageVolume(r.ctx, r.stageInput());
  t.ok(r.mounter.calls.includes(`grow /dev/nvme0n1 ${r.staging} ext4`));
  t.ok(res.timings.growMs >= 0);
  const r2 = rig(t);
  r2.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 1024 ** 3 });
  await stageVolume(r2.ctx, r2.stageInput());
  t.notOk(
    r2.mounter.calls.some((c) => c.startsWith('grow')),
    'same size: no grow',
  );
});

t.test('block stage attaches and records, mounts nothing', async (t) => {
  const r = rig(t);
  const res = await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  t.equal(res.device, '/dev/nvme0n1');
  t.same(r.mounter.table, []);
  t.same(r.mounter.calls, []);
  t.match(await r.ctx.records.get('pvc-1'), { access: 'block', device: '/dev/nvme0n1' });
  const again = await stageVolume(r.ctx, r.stageInput({ access: { kind: 'block' } }));
  t.ok(again.alreadyStaged);
});

t.test('attach failures propagate and count as a failed stage', async (t) => {
  const r = rig(t);
  r.fabrics.unavailable();
  await t.rejects(stageVolume(r.ctx, r.stageInput()), UnavailableError);
  t.equal(await r.count('volumeOperations', { operation: 'stage', status: 'failure' }), 1);
  t.equal(await r.ctx.records.get('pvc-1'), undefined);
});

t.test('a stale staging mount (renumbered device) is replaced on the next stage', async (t) => {
  const r = rig(t);
  r.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 1024 ** 3 });
  await stageVolume(r.ctx, r.stageInput());
  const moved = r.fabrics.renumber(NQN);
  r.mounter.moveFilesystem('/dev/nvme0n1', moved);
  await stageVolume(r.ctx, r.stageInput());
  t.same(r.events.stale, [r.staging]);
  t.equal(await r.count('staleMountsDetected'), 1);
  t.equal(await r.count('staleRecoveries', { status: 'success' }), 1);
  t.equal(r.mounter.table.length, 1);
  t.same(r.events.recovered, [moved]);
  t.equal(r.mounter.table[0]?.source, moved);
  t.same(formatCalls(r.mounter), []);
});

t.test(
  'a stale mount that cannot be unmounted fails the stage and counts a failed recovery',
  async (t) => {
    const r = rig(t);
    await stageVolume(r.ctx, r.stageInput());
    r.fabrics.renumber(NQN);
    r.mounter.busy.set(r.staging, 100);
    await t.rejects(stageVolume(r.ctx, r.stageInput()), FailedPreconditionError);
    t.equal(await r.count('staleRecoveries', { status: 'failure' }), 1);
  },
);

t.test('a mount error is reported as a mount failure event', async (t) => {
  const r = rig(t);
  r.mounter.mountError = new Error('mount: wrong fs type');
  await t.rejects(stageVolume(r.ctx, r.stageInput()));
  t.equal(r.events.failures.length, 1);
  t.equal(await r.count('mountOperations', { operation: 'mount', status: 'failure' }), 1);
});

function tempStore(t: Test): RecordStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-rec-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return createFileRecordStore(dir);
}

t.test('the staging record is on disk before anything is formatted or mounted', async (t) => {
  let seenAtPut: string[] | undefined;
  let mounterCalls: readonly string[] = [];
  const store = tempStore(t);
  const r = rig(t, {
    records: {
      ...store,
      async put(record) {
        await store.put(record);
        seenAtPut = [...mounterCalls];
      },
    },
  });
  mounterCalls = r.mounter.calls;
  await stageVolume(r.ctx, r.stageInput());
  t.ok(seenAtPut, 'the record was written');
  t.same(
    seenAtPut?.filter((c) => c.startsWith('format') || c.startsWith('mount')),
    [],
    'no format or mount before the record was written',
  );
  t.ok(
    r.mounter.calls.some((c) => c.startsWith('mount')),
    'then it mounted',
  );
});

t.test('the stage timings account for every phase of the stage', async (t) => {
  let clock = 1000;
  const cost = (ms: number) => {
    clock += ms;
  };
  const store = tempStore(t);
  const r = rig(t, {
    now: () => clock,
    records: {
      ...store,
      async get(id) {
        cost(3);
        return store.get(id);
      },
      async put(record) {
        cost(7);
        await store.put(record);
      },
    },
  });
  const format = r.mounter.format.bind(r.mounter);
  r.mounter.format = async (device, fsType) => {
    cost(100);
    await format(device, fsType);
  };
  const mount = r.mounter.mount.bind(r.mounter);
  r.mounter.mount = async (...args) => {
    cost(20);
    await mount(...args);
  };
  const res = await stageVolume(r.ctx, r.stageInput());
  const tm = res.timings;
  t.match(tm, { recordReadMs: 3, recordWriteMs: 7, formatMs: 100, mountMs: 20, totalMs: 130 });
  t.ok(tm.earlyProbeMs <= tm.recordWriteMs, 'the early probe is within the record write phase');
  const phases =
    tm.recordReadMs +
    tm.attachMs +
    tm.recordWriteMs +
    tm.mountCheckMs +
    tm.probeMs +
    tm.formatMs +
    tm.mountMs +
    tm.growMs;
  t.equal(phases, tm.totalMs);
});

t.test('a first stage probes the device alongside the record write', async (t) => {
  let probesAtPut: number | undefined;
  let mounterCalls: readonly string[] = [];
  const store = tempStore(t);
  const r = rig(t, {
    records: {
      ...store,
      async put(record) {
        probesAtPut = mounterCalls.filter((c) => c.startsWith('probe')).length;
        await store.put(record);
      },
    },
  });
  mounterCalls = r.mounter.calls;
  const res = await stageVolume(r.ctx, r.stageInput());
  t.equal(probesAtPut, 1, 'the probe was under way when the record write began');
  t.ok(res.formatted);
  t.equal(
    r.mounter.calls.filter((c) => c.startsWith('probe')).length,
    1,
    'the early probe is the one used: one probe in all',
  );
});

t.test('a repeated stage at the same path does not probe', async (t) => {
  const r = rig(t);
  await stageVolume(r.ctx, r.stageInput());
  const before = r.mounter.calls.length;
  const res = await stageVolume(r.ctx, r.stageInput());
  t.ok(res.alreadyStaged);
  t.same(r.mounter.calls.slice(before), [], 'no probe, format or mount');
});

t.test('an early probe that throws fails the stage before anything is formatted', async (t) => {
  const r = rig(t);
  r.mounter.probe = () => Promise.reject(new Error('probe blew up'));
  await t.rejects(stageVolume(r.ctx, r.stageInput()), /probe blew up/);
  t.same(formatCalls(r.mounter), []);
  t.same(r.mounter.table, []);
});

t.test('after unmounting a stale mount the device is probed again', async (t) => {
  const r = rig(t);
  r.mounter.filesystems.set('/dev/nvme0n1', { type: 'ext4', size: 1024 ** 3 });
  await stageVolume(r.ctx, r.stageInput());
  // The record is lost (it names this path otherwise, and no early probe is taken).
  await r.ctx.records.remove('pvc-1');
  const moved = r.fabrics.renumber(NQN);
  r.mounter.moveFilesystem('/dev/nvme0n1', moved);
  // The early probe, taken while the stale mount was still there, says empty; the probe
  // after the unmount finds the filesystem. Only the second may decide.
  r.mounter.probeScript.push({ kind: 'empty' });
  const res = await stageVolume(r.ctx, r.stageInput());
  t.notOk(res.formatted, 'not formatted on the early answer');
  t.same(formatCalls(r.mounter), []);
  t.equal(r.mounter.calls.filter((c) => c === `probe ${moved}`).length, 2);
  t.equal(r.mounter.table[0]?.source, moved);
});
