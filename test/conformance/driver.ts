/**
 * Starts the driver for the conformance suite: the real Controller service over the real
 * SSH adapters against an in-process rds-sim, and the Node service with fake kernel
 * interfaces (this host has no NVMe; the real-kernel node cases run in the VM suite).
 * `mutate` swaps handlers to prove that cases catch wrong behaviour.
 */
import { generateSshKeyPair } from '../../src/sim/keys';
import type * as grpc from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAttachmentManager } from '../../src/controller/attachments';
import { controllerHandlers } from '../../src/csi/controller';
import { RpcWrapper } from '../../src/csi/handler';
import { identityHandlers } from '../../src/csi/identity';
import { KeyedLocks } from '../../src/csi/locks';
import { nodeHandlers } from '../../src/csi/node';
import { loadCsi } from '../../src/csi/proto/load';
import { CsiServer } from '../../src/csi/server';
import { nullLogger } from '../../src/observability/logger';
import { createRouterOsPorts, routerOsMetrics } from '../../src/routeros';
import type { Metrics } from '../../src/observability/metrics';
import { startSim, type SimBackend } from '../../src/sim';
import type { Mounter } from '../../src/mount/ports';
import type { Fabrics } from '../../src/nvme/ports';
import { FakeFabrics } from '../fakes/fabrics';
import { FakeMounter } from '../fakes/mounter';
import type { SuiteParams } from './framework';

export type Mutation = (
  service: 'Identity' | 'Controller' | 'Node',
  method: string,
  impl: grpc.UntypedHandleCall,
) => grpc.UntypedHandleCall;

export interface ConformanceDriver {
  readonly address: string;
  readonly params: SuiteParams;
  /** What is left on the simulated RDS: disk slots and files under the pool. */
  remaining(): Promise<{ disks: string[]; files: string[] }>;
  stop(): Promise<void>;
}

/** The node this driver's Node service is, and a second node the controller knows. */
const NODE_ID = 'conformance-node';
const OTHER_NODE_ID = 'conformance-node-2';
const POOL = 'storage-pool/k8s';

/** The real node side (used by the VM guest suite); absent: fake kernel interfaces. */
export interface RealKernelNode {
  readonly fabrics: Fabrics;
  readonly mounter: Mounter;
  readonly host: { hostnqn: string; hostid: string };
}

export async function startConformanceDriver(
  opts: {
    mutate?: Mutation;
    accessType?: 'mount' | 'block';
    metrics?: Metrics;
    realKernel?: RealKernelNode;
    /** The sim's disk backend (e.g. nvmet on a real kernel); default: files. */
    simBackend?: SimBackend;
    /** Advertise the alpha GET_SNAPSHOT capability (the operator's opt-in). */
    advertiseGetSnapshot?: boolean;
  } = {},
): Promise<ConformanceDriver> {
  const root = mkdtempSync(join(tmpdir(), 'rds-conformance-'));
  const kubelet = join(root, 'kubelet');
  const stagingRoot = join(kubelet, 'plugins/kubernetes.io/csi/staging');
  const targetRoot = join(kubelet, 'pods');
  mkdirSync(stagingRoot, { recursive: true });
  mkdirSync(targetRoot, { recursive: true });
  const key = generateSshKeyPair();
  const sim = await startSim({
    authorizedKeys: [key.public],
    stateDir: join(root, 'sim'),
    ...(opts.simBackend ? { backend: opts.simBackend } : {}),
  });
  const rds = createRouterOsPorts(
    {
      host: sim.host,
      port: sim.port,
      user: 'admin',
      privateKey: key.private,
      hostKeyFingerprint: sim.hostKeyFingerprint,
      poolBasePath: POOL,
    },
    { logger: nullLogger(), ...(opts.metrics ? { metrics: routerOsMetrics(opts.metrics) } : {}) },
  );
  // The production attachment rules, without Kubernetes (state in memory).
  const attachments = createAttachmentManager({
    driverName: 'conformance.rds-csi.dev',
    exports: rds.exports,
    volumes: rds.volumes,
    health: rds.health,
    logger: nullLogger(),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  await attachments.start();
  const fake = new FakeFabrics();
  // The fake kernel sees what the simulated target exports: a rescan picks up the disk's
  // current size, as the kernel does after the target grew the namespace.
  const rescan = fake.rescan.bind(fake);
  fake.rescan = async (nqn) => {
    const disk = (await rds.volumes.list('')).find((d) => d.nqn === nqn);
    if (disk) fake.pendingSize.set(nqn, disk.sizeBytes);
    return rescan(nqn);
  };
  const fabrics = opts.realKernel?.fabrics ?? fake;
  const mounter =
    opts.realKernel?.mounter ??
    new FakeMounter(
      (d) => fake.devices().includes(d),
      (d) => [...fake.conns.values()].find((c) => c.device === d)?.sizeBytes ?? 0,
    );
  const rpc = new RpcWrapper({
    logger: nullLogger(),
    locks: new KeyedLocks(),
    ...(opts.metrics ? { rpcDuration: opts.metrics.rpcDuration } : {}),
  });
  const mutate = opts.mutate ?? ((_s, _m, impl) => impl);
  const apply = (
    service: 'Identity' | 'Controller' | 'Node',
    impl: object,
  ): grpc.UntypedServiceImplementation =>
    Object.fromEntries(
      Object.entries(impl).map(([m, h]) => [m, mutate(service, m, h as grpc.UntypedHandleCall)]),
    );

  const server = new CsiServer({
    endpoint: { kind: 'unix', path: join(root, 'csi.sock') },
    logger: nullLogger(),
    gracePeriodMs: 500,
  });
  const v1 = loadCsi().grpcType.csi.v1;
  server.addService(
    v1.Identity.service,
    apply(
      'Identity',
      identityHandlers(rpc, {
        driverName: 'conformance.rds-csi.dev',
        version: '0.0.0-conformance',
        commit: 'none',
        controller: true,
        readiness: () =>
          Promise.resolve(
            rds.health.connected ? { ready: true } : { ready: false, reason: 'no SSH connection' },
          ),
      }),
    ),
  );
  server.addService(
    v1.Controller.service,
    apply(
      'Controller',
      controllerHandlers(rpc, {
        volumes: rds.volumes,
        files: rds.files,
        capacity: rds.capacity,
        attachments: attachments.manager,
        // Like Kubernetes with two Nodes: any other node id does not exist.
        knownNodes: new Set([NODE_ID, OTHER_NODE_ID]),
        config: {
          driverName: 'conformance.rds-csi.dev',
          poolBasePath: POOL,
          nvmeAddress: '127.0.0.1',
          nvmePort: 4420,
          topologyValue: 'default',
          minVolumeBytes: 1024 ** 3,
          advertiseGetSnapshot: opts.advertiseGetSnapshot === true,
        },
        now: () => Date.now(),
        logger: nullLogger(),
      }),
    ),
  );
  server.addService(
    v1.Node.service,
    apply(
      'Node',
      nodeHandlers(rpc, {
        nodeId: NODE_ID,
        kubeletDir: kubelet,
        stateDir: join(root, 'node-state'),
        maxVolumesPerNode: 0,
        fabrics,
        mounter,
        host: opts.realKernel?.host ?? {
          hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000001',
          hostid: '00000000-0000-4000-8000-000000000001',
        },
        // The kernel needs real waits; the fakes answer at once.
        timing: opts.realKernel
          ? { probeDelayMs: 50 }
          : { probeDelayMs: 1, unmountDelayMs: 1, pollMs: 1 },
        ...(opts.metrics ? { metrics: opts.metrics } : {}),
      }),
    ),
  );
  const address = await server.start();
  // Wait until the SSH session is up so the first case does not race the connection.
  for (let i = 0; i < 200 && !rds.health.connected; i++)
    await new Promise((r) => setTimeout(r, 25));
  return {
    address,
    params: {
      sizeBytes: 1024 ** 3,
      accessType: opts.accessType ?? 'mount',
      stagingRoot,
      targetRoot,
      parameters: {},
      realKernel: opts.realKernel !== undefined,
      otherNodeId: OTHER_NODE_ID,
      getSnapshotAdvertised: opts.advertiseGetSnapshot === true,
    },
    async remaining() {
      const disks = (await rds.volumes.list('')).map((d) => d.slot);
      const files = (await rds.files.list(POOL)).map((f) => f.path);
      return { disks, files };
    },
    async stop() {
      await server.stop();
      await attachments.stop();
      await rds.close();
      await sim.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
