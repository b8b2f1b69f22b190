/**
 * Metrics after real flows, read the way Prometheus does: over HTTP from /metrics, with
 * exact values. The driver is the conformance composition (controller on rds-sim over SSH,
 * node on fake kernel interfaces) with one injected registry.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { startHealthServer } from '../../../src/observability/http';
import { createMetrics } from '../../../src/observability/metrics';
import { nullLogger } from '../../../src/observability/logger';
import { csiClient } from '../../helpers/csi';
import { sample } from '../../helpers/prometheus';
import { startConformanceDriver } from '../../conformance/driver';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findPromtool, promtoolCheck } from './promtool';

t.test('stage, publish, unpublish, unstage and a failed stage show up in /metrics', async (t) => {
  const metrics = createMetrics({
    registry: new Registry(),
    version: '1.0.0',
    commit: 'test',
    processMetrics: false,
  });
  const driver = await startConformanceDriver({ metrics });
  t.teardown(() => driver.stop());
  const health = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness: () => Promise.resolve({ ready: true }),
    logger: nullLogger(),
  });
  t.teardown(() => health.stop());
  const c = csiClient(driver.address);
  t.teardown(() => c.close());

  const cap = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
  const { volume } = await c.controller<{
    volume: { volume_id: string; volume_context: Record<string, string> };
  }>('CreateVolume', {
    name: 'pvc-3e1f6a52-0c1b-4a7e-9d55-0a1b2c3d4e5f',
    capacity_range: { required_bytes: String(1024 ** 3) },
    volume_capabilities: [cap],
  });
  const staging = join(driver.params.stagingRoot, 'flow');
  const target = join(driver.params.targetRoot, 'flow', 'mount');
  mkdirSync(staging, { recursive: true });
  mkdirSync(join(driver.params.targetRoot, 'flow'), { recursive: true });
  const base = {
    volume_id: volume.volume_id,
    volume_capability: cap,
    volume_context: volume.volume_context,
  };
  await c.node('NodeStageVolume', { ...base, staging_target_path: staging });
  await c.node('NodePublishVolume', { ...base, staging_target_path: staging, target_path: target });
  await c.node('NodeUnpublishVolume', { volume_id: volume.volume_id, target_path: target });
  await c.node('NodeUnstageVolume', { volume_id: volume.volume_id, staging_target_path: staging });
  // A stage with a context that names no NQN fails validation: counted as a failed RPC.
  await c
    .node('NodeStageVolume', { ...base, volume_context: {}, staging_target_path: staging })
    .catch(() => undefined);

  const text = await (await fetch(`${health.url}/metrics`)).text();
  const v = (s: string) => sample(text, s);
  t.equal(v('rds_csi_volume_operations_total{operation="stage",status="success"}'), 1);
  t.equal(v('rds_csi_volume_operations_total{operation="publish",status="success"}'), 1);
  t.equal(v('rds_csi_volume_operations_total{operation="unpublish",status="success"}'), 1);
  t.equal(v('rds_csi_volume_operations_total{operation="unstage",status="success"}'), 1);
  t.equal(
    v('rds_csi_volume_operations_total{operation="expand",status="failure"}'),
    0,
    'present from start',
  );
  t.equal(v('rds_csi_csi_rpc_duration_seconds_count{method="NodeStageVolume",code="OK"}'), 1);
  t.equal(
    v('rds_csi_csi_rpc_duration_seconds_count{method="NodeStageVolume",code="INVALID_ARGUMENT"}'),
    1,
  );
  t.equal(v('rds_csi_csi_rpc_duration_seconds_count{method="CreateVolume",code="OK"}'), 1);
  t.equal(v('rds_csi_rds_connection_state'), 1, 'SSH connection up');
  t.ok(
    (v('rds_csi_rds_command_duration_seconds_count{command="/disk add",outcome="success"}') ?? 0) >=
      1,
    'RouterOS commands timed',
  );
  t.notMatch(text, /pvc-3e1f6a52/, 'no volume id in any label');

  const promtool = await findPromtool();
  if (typeof promtool !== 'string') {
    t.pass('promtool check metrics', { skip: promtool.skip });
  } else {
    const r = await promtoolCheck(promtool, text);
    t.equal(r.code, 0, `promtool check metrics passes\n${r.output}`);
  }
});
