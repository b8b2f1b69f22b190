/** Shared wiring for attachment use-case tests: fakes, a real metrics registry, readers. */
import type { PublishRequest } from '../../../../src/controller/attachments-port';
import { AttachmentService } from '../../../../src/controller/attachments';
import type { Cache, KubeEventSpec, NodeInfo } from '../../../../src/kube/ports';
import { nullLogger } from '../../../../src/observability/logger';
import { createMetrics, type Metrics } from '../../../../src/observability/metrics';
import { FakeClock } from '../../../fakes/kube-clock';
import { FakeExports } from '../../../fakes/kube-exports';

export const nqn = (n: string): string => `nqn.2014-08.org.nvmexpress:uuid:host-${n}`;

export class FakeNodes implements Cache<NodeInfo> {
  readonly map = new Map<string, NodeInfo>();
  synced = true;
  add(name: string, ready = true): void {
    this.map.set(name, { name, ready, hostNqn: nqn(name) });
  }
  get(name: string): NodeInfo | undefined {
    return this.map.get(name);
  }
  list(): NodeInfo[] {
    return [...this.map.values()];
  }
}

/** Read one sample of a metric from the registry (0 when absent). */
export async function metric(
  m: Metrics,
  name: string,
  labels: Record<string, string> = {},
  sample = '',
): Promise<number> {
  const text = await m.registry.getSingleMetricAsString(`rds_csi_${name}`);
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [key, value] = line.split(' ');
    if (key === undefined || value === undefined) continue;
    const lbl = /\{(.*)\}/.exec(key)?.[1] ?? '';
    const base = key.replace(/\{.*\}/, '');
    if (base === `rds_csi_${name}${sample}` && lbl === want) return Number(value);
  }
  return 0;
}

export function setup(opts: { graceMs?: number } = {}) {
  const clock = new FakeClock();
  const exports = new FakeExports();
  const nodes = new FakeNodes();
  for (const n of ['a', 'b', 'c']) nodes.add(n);
  const metrics = createMetrics({ version: 't', commit: 't', processMetrics: false });
  const events: Array<{ volumeId: string } & KubeEventSpec> = [];
  const pvcs = new Map<string, string>();
  const service = new AttachmentService({
    exports,
    nodes,
    events: {
      post: (volumeId, spec) => events.push({ volumeId, ...spec }),
      rememberPvc: (v, p) => p && pvcs.set(v, `${p.namespace}/${p.name}`),
    },
    metrics,
    now: clock.now,
    logger: nullLogger(),
    ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }),
  });
  return { clock, exports, nodes, metrics, events, pvcs, service };
}

export function req(
  volumeId: string,
  nodeId: string,
  over: {
    rwx?: boolean;
    block?: boolean;
    fencing?: boolean;
    timeout?: number;
    readonly?: boolean;
  } = {},
): PublishRequest {
  return {
    volumeId,
    nodeId,
    accessMode: over.rwx === true ? 'MULTI_NODE_MULTI_WRITER' : 'SINGLE_NODE_WRITER',
    block: over.block ?? over.rwx === true,
    readonly: over.readonly ?? false,
    volume: {
      volumeId,
      nqn: `nqn.2000-02.com.mikrotik:${volumeId}`,
      sizeBytes: 1 << 30,
      migrationTimeoutSeconds: over.timeout ?? 300,
      hostFencing: over.fencing ?? false,
      pvc: { namespace: 'ns', name: `claim-${volumeId}` },
    },
    signal: new AbortController().signal,
  };
}

export const unreq = (volumeId: string, nodeId?: string) => ({
  volumeId,
  ...(nodeId === undefined ? {} : { nodeId }),
  signal: new AbortController().signal,
});
