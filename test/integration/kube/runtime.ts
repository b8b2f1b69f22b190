/** Start the kube runtime + attachment manager against the stand-in API server. */
import type { Test } from 'tap';
import {
  createAttachmentManager,
  type AttachmentRuntime,
} from '../../../src/controller/attachments';
import { createKube, type KubeRuntime } from '../../../src/kube';
import { nullLogger } from '../../../src/observability/logger';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import type { ExportsPort, VolumesPort } from '../../../src/routeros/ports';
import { FakeKubeApiServer } from '../../fakes/kube-apiserver';
import type { FakeClock } from '../../fakes/kube-clock';
import { FakeExports } from '../../fakes/kube-exports';
import { DRIVER } from './helpers';

export interface Running {
  readonly kube: KubeRuntime;
  readonly att: AttachmentRuntime;
  readonly metrics: Metrics;
}

export async function apiServer(t: Test, clock?: FakeClock): Promise<FakeKubeApiServer> {
  const server = new FakeKubeApiServer(clock?.now);
  await server.start();
  t.teardown(() => server.stop());
  return server;
}

export async function startController(
  t: Test,
  server: FakeKubeApiServer,
  clock: FakeClock,
  rds: { exports: ExportsPort; volumes?: Pick<VolumesPort, 'get'> } = {
    exports: new FakeExports(),
  },
  identity = 'ctrl-0',
  driverName: string = DRIVER,
): Promise<Running> {
  const metrics = createMetrics({ version: 't', commit: 't', processMetrics: false });
  const kube = createKube({
    source: { kind: 'inline', text: server.kubeconfig() },
    userAgent: 'rds-csi/test (controller)',
    logger: nullLogger(),
    metrics,
    backoffInitialMs: 10,
    backoffMaxMs: 100,
    leaderElection: { namespace: 'kube-system', identity, retryPeriodMs: 50 },
  });
  const att = createAttachmentManager({
    driverName,
    exports: rds.exports,
    ...(rds.volumes === undefined ? {} : { volumes: rds.volumes }),
    kube,
    metrics,
    logger: nullLogger(),
    now: clock.now,
    timers: clock.timerApi,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await att.stop();
  };
  t.teardown(stop);
  await att.start();
  return { kube, att, metrics };
}
