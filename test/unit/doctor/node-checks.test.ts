import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeChecks, NODE_TOOLS } from '../../../src/doctor/node-checks';
import { formatReport, runChecks } from '../../../src/doctor/report';

function roots(t: Tap) {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['sys', 'dev', 'etc', 'kubelet', 'bin']) mkdirSync(join(dir, d));
  return dir;
}
type Tap = { teardown(fn: () => void): void };

t.test('a bare node fails each check and says how to fix it', async (t) => {
  const dir = roots(t);
  const results = await runChecks(
    nodeChecks({
      nodeId: 'n1',
      kubeletDir: join(dir, 'nope'),
      sysRoot: join(dir, 'sys'),
      devRoot: join(dir, 'dev'),
      etcNvmeDir: join(dir, 'etc'),
      path: join(dir, 'bin'),
    }),
  );
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  t.equal(by['kernel module nvme-tcp']!.status, 'fail');
  t.match(by['kernel module nvme-tcp']!.fix, /modprobe nvme-tcp/);
  t.equal(by['/dev/nvme-fabrics']!.status, 'fail');
  t.equal(by['NVMe host identity']!.status, 'warn', 'derived identity is a warning');
  t.match(by['NVMe host identity']!.fix, /\/etc\/nvme\/hostnqn/);
  for (const [tool, pkg] of Object.entries(NODE_TOOLS)) {
    t.equal(by[`tool ${tool}`]!.status, 'fail', `${tool} missing`);
    t.match(by[`tool ${tool}`]!.fix, pkg);
  }
  t.equal(by['kubelet directory']!.status, 'fail');
  const report = formatReport(results);
  t.match(report, /FAIL\s+nvme_tcp is not loaded\n\s+fix: modprobe nvme-tcp/);
  t.match(report, /checks: \d+ passed, 1 warnings, \d+ failed/);
});

t.test('a prepared node passes', async (t) => {
  const dir = roots(t);
  mkdirSync(join(dir, 'sys/module/nvme_tcp'), { recursive: true });
  writeFileSync(join(dir, 'dev/nvme-fabrics'), '');
  writeFileSync(
    join(dir, 'etc/hostnqn'),
    'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555\n',
  );
  writeFileSync(join(dir, 'etc/hostid'), '11111111-2222-3333-4444-555555555555\n');
  mkdirSync(join(dir, 'kubelet/plugins'), { recursive: true });
  for (const tool of Object.keys(NODE_TOOLS))
    writeFileSync(join(dir, 'bin', tool), '#!/bin/sh\n', { mode: 0o755 });
  const results = await runChecks(
    nodeChecks({
      nodeId: 'n1',
      kubeletDir: join(dir, 'kubelet'),
      sysRoot: join(dir, 'sys'),
      devRoot: join(dir, 'dev'),
      etcNvmeDir: join(dir, 'etc'),
      path: join(dir, 'bin'),
    }),
  );
  for (const r of results) t.equal(r.status, 'pass', `${r.name}: ${r.detail}`);
});

t.test('a crashing check is reported as a failure, not thrown', async (t) => {
  const results = await runChecks([
    { name: 'boom', run: () => Promise.reject(new Error('kaput')) },
  ]);
  t.equal(results[0]!.status, 'fail');
  t.match(results[0]!.detail, /kaput/);
});
