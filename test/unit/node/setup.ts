/** Shared setup for node use-case tests: a temp kubelet dir, fakes and a context. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import {
  type NodeContext,
  type NodeDeps,
  type NodeEvents,
  resolveNode,
} from '../../../src/node/deps';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import type { VolumeContext } from '../../../src/domain/volume-context';
import type { StageInput } from '../../../src/node/stage';
import { FakeFabrics } from '../../fakes/fabrics';
import { FakeMounter } from '../../fakes/mounter';

export const NQN = 'nqn.2000-02.com.mikrotik:pvc-1';
export const CONTEXT: VolumeContext = {
  nqn: NQN,
  traddr: '10.0.0.5',
  trsvcid: 4420,
  fsType: undefined,
};

export interface Rig {
  ctx: NodeContext;
  fabrics: FakeFabrics;
  mounter: FakeMounter;
  metrics: Metrics;
  events: { stale: string[]; failures: string[]; recovered: string[] };
  kubelet: string;
  staging: string;
  target: string;
  stageInput(overrides?: Partial<StageInput>): StageInput;
  /** Current value of a counter with labels. */
  count(name: keyof Metrics, labels?: Record<string, string>): Promise<number>;
}

export function rig(t: Test, deps: Partial<NodeDeps> = {}): Rig {
  const kubelet = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-node-'));
  t.teardown(() => fs.rmSync(kubelet, { recursive: true, force: true }));
  const fabrics = new FakeFabrics();
  const mounter = new FakeMounter(
    (d) => fabrics.devices().includes(d),
    (d) => {
      const c = [...fabrics.conns.values()].find((x) => x.device === d);
      return c?.sizeBytes ?? 0;
    },
  );
  const metrics = createMetrics({
    registry: new Registry(),
    version: 't',
    commit: 't',
    processMetrics: false,
  });
  const events = { stale: [] as string[], failures: [] as string[], recovered: [] as string[] };
  const hook: NodeEvents = {
    staleMountDetected: (e) => events.stale.push(e.path),
    mountFailure: (e) => events.failures.push(e.reason),
    connectionRecovered: (e) => events.recovered.push(e.device),
  };
  const ctx = resolveNode({
    nodeId: 'node-a',
    kubeletDir: kubelet,
    stateDir: path.join(kubelet, 'plugins', 'rds-csi.dev', 'node'),
    maxVolumesPerNode: 0,
    fabrics,
    mounter,
    host: { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:host-a', hostid: 'host-a' },
    metrics,
    events: hook,
    sleep: () => Promise.resolve(),
    ...deps,
  });
  const staging = path.join(kubelet, 'plugins/kubernetes.io/csi/rds-csi.dev/abc/globalmount');
  const target = path.join(kubelet, 'pods/uid/volumes/kubernetes.io~csi/pvc-1/mount');
  return {
    ctx,
    fabrics,
    mounter,
    metrics,
    events,
    kubelet,
    staging,
    target,
    stageInput: (o = {}) => ({
      volumeId: 'pvc-1',
      stagingPath: staging,
      access: { kind: 'mount', fsType: 'ext4', flags: [] },
      context: CONTEXT,
      ...o,
    }),
    async count(name, labels = {}) {
      const metric = metrics[name] as unknown as {
        get(): Promise<{ values: { labels: Record<string, string>; value: number }[] }>;
      };
      const got = await metric.get();
      return got.values
        .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
        .reduce((a, v) => a + v.value, 0);
    },
  };
}

export function formatCalls(m: FakeMounter): string[] {
  return m.calls.filter((c) => c.startsWith('format'));
}
