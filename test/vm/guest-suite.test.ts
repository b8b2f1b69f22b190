// Runs every dist/test/vm/guest/*.guest.js inside a fresh VM (one VM holding the rds and node
// roles) and asserts that it exits 0. Set RDS_VM_GUEST=<substring> to run only matching files.
// Benchmarks (*-bench.guest.js) are not tests: `npm run bench` runs them (test/bench/vm.ts).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { projectRoot } from './host-tools';
import { leftoverVmPids } from './runner';
import { asComment, suiteImage, vmSuiteSkipReason } from './suite-util';
import { SINGLE, startTopology } from './topology';

// Boots are ~5-10 s under TCG on 2 cores; each guest file gets up to 10 minutes.
t.setTimeout(30 * 60_000);

const skip = vmSuiteSkipReason();
if (skip !== null) console.log(`# VM guest suite skipped: ${skip}`);

t.test('guest test files in VMs', { skip: skip ?? false }, async (t) => {
  const suiteStart = Date.now();
  const buildStart = Date.now();
  const image = await suiteImage((l) => t.comment(l));
  t.comment(`image ready in ${Date.now() - buildStart} ms (${image.kernelVersion}, ${image.boot})`);

  const dir = path.join(projectRoot(), 'dist', 'test', 'vm', 'guest');
  const filter = process.env.RDS_VM_GUEST ?? '';
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.guest.js') && !f.endsWith('-bench.guest.js') && f.includes(filter))
    .sort();
  t.ok(files.length > 0, `guest test files found in ${dir}`);

  const rows: string[] = [];
  for (const file of files) {
    await t.test(file, async (t) => {
      const vmStart = Date.now();
      const topo = await startTopology(SINGLE, { image });
      t.teardown(() => topo.stop());
      const { vm } = topo.rds;
      const res = await vm.runNode(path.join(dir, file), [], { timeoutMs: 10 * 60_000 });
      t.comment(asComment(res.output));
      const ok = t.equal(res.exitCode, 0, `${file} exits 0 in the guest`);
      if (!ok) t.comment(`guest console (tail):\n${asComment(vm.console().slice(-4000))}`);
      await topo.stop();
      const row = `${file}: boot ${vm.bootMs} ms, run ${res.durationMs} ms, VM total ${Date.now() - vmStart} ms (${vm.accel})`;
      rows.push(row);
      t.comment(row);
    });
  }
  t.comment(`guest suite: ${files.length} files in ${Date.now() - suiteStart} ms`);
  for (const row of rows) t.comment(row);
  t.same(leftoverVmPids(), [], 'no QEMU process left behind');
});
