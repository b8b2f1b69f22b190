/**
 * Composition root: the only place that constructs real adapters and wires them into the
 * CSI services. Startup order is the reverse of shutdown order; stop() runs the closers
 * in the order STYLE.md fixes: gRPC first, then background loops, then the RDS session,
 * then the HTTP server and the embedded simulator.
 */
import type { Config } from './config';
import { RpcWrapper } from './csi/handler';
import { identityHandlers, type Readiness } from './csi/identity';
import { KeyedLocks } from './csi/locks';
import { loadCsi } from './csi/proto/load';
import { CsiServer } from './csi/server';
import { startHealthServer } from './observability/http';
import type { Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { buildInfo } from './paths';
import type { RouterOsAdapter, RouterOsConfig } from './routeros';
import { nodeHandlers } from './csi/node';
import type { ControllerHandlers } from './csi/gen/csi/v1/Controller';
import type { NodeHandlers } from './csi/gen/csi/v1/Node';
import type { AttachmentManager } from './controller/attachments-port';
import type { KubeRuntime } from './kube';
import type { ObjectRef } from './kube/ports';
import { noopNodeEvents, type NodeEvents } from './node/deps';
import { createNativeFabrics } from './nvme/fabrics';
import { loadNvmeAddon } from './nvme/native';
import { loadHostIdentity } from './nvme/hostid';
import { cleanupOrphans } from './nvme/orphans';
import { stagedNqnsOnNode } from './node/compat/go-staged';
import type { Fabrics } from './nvme/ports';
import { createAddonMounter } from './mount/linux';
import { RECORD_MAX_BYTES, createFileRecordStore, type RecordStore } from './node/records';
import { access } from 'node:fs/promises';
import { constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSim } from './sim';

export interface RunningApp {
  readonly endpoint: string;
  readonly metricsUrl: string | undefined;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

type Closer = { readonly name: string; close(): Promise<void> };
type ReadinessCheck = { readonly name: string; check(): Promise<Readiness> };

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const build = buildInfo();
  const metrics = createMetrics({ version: build.version, commit: build.commit });
  const closers: Closer[] = [];
  const checks: ReadinessCheck[] = [];
  const readiness = async (): Promise<Readiness> => {
    for (const c of checks) {
      const r = await c.check();
      if (!r.ready) return { ready: false, reason: `${c.name}: ${r.reason ?? 'not ready'}` };
    }
    return { ready: true };
  };

  try {
    const rpc = new RpcWrapper({
      logger,
      locks: new KeyedLocks(),
      rpcDuration: metrics.rpcDuration,
    });
    const { grpcType } = loadCsi();
    const server = new CsiServer({ endpoint: config.endpoint, logger });
    if (config.mode !== 'node') {
      const controller = await wireController(config, logger, metrics, rpc, closers, checks);
      server.addService(grpcType.csi.v1.Controller.service, controller);
    }
    if (config.mode !== 'controller') {
      const node = await wireNode(config, logger, metrics, rpc, closers, checks);
      server.addService(grpcType.csi.v1.Node.service, node);
    }
    server.addService(
      grpcType.csi.v1.Identity.service,
      identityHandlers(rpc, {
        driverName: config.driverName,
        version: build.version,
        commit: build.commit,
        controller: config.mode !== 'node',
        readiness,
      }),
    );
    const endpoint = await server.start();
    closers.unshift({ name: 'csi server', close: () => server.stop() });

    let metricsUrl: string | undefined;
    if (config.metricsAddress) {
      const health = await startHealthServer({
        ...config.metricsAddress,
        registry: metrics.registry,
        readiness,
        logger,
      });
      metricsUrl = health.url;
      closers.push({ name: 'health server', close: () => health.stop() });
    }
    logger.info('rds-csi started', {
      mode: config.mode,
      driver: config.driverName,
      version: build.version,
      endpoint,
      metrics: metricsUrl,
    });
    return { endpoint, metricsUrl, metrics, stop: () => closeAll(closers, logger) };
  } catch (err) {
    await closeAll(closers, logger);
    throw err;
  }
}

/** The Controller service over the RDS (real or embedded simulator). */
async function wireController(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  rpc: RpcWrapper,
  closers: Closer[],
  checks: ReadinessCheck[],
): Promise<ControllerHandlers> {
  const target = await resolveRdsTarget(config, logger);
  // RouterOS (ssh2) and the controller use-cases only where the Controller runs: a node
  // plugin never loads them (start-up time and idle memory; see test/bench/startup.ts).
  const { createRouterOsPorts, routerOsMetrics } = await import('./routeros');
  const { controllerHandlers } = await import('./csi/controller');
  if (target.sim) {
    const sim = target.sim;
    closers.push({ name: 'embedded rds-sim', close: () => sim.stop() });
  }
  const rds = createRouterOsPorts(target.routeros, { logger, metrics: routerOsMetrics(metrics) });
  closers.unshift({ name: 'RDS session', close: () => rds.close() });
  checks.push({
    name: 'rds',
    check: () =>
      Promise.resolve(
        rds.health.connected
          ? { ready: true }
          : { ready: false, reason: `no SSH connection to ${target.routeros.host}` },
      ),
  });
  const attachments = await startAttachments(config, logger, metrics, rds, closers);
  // All-in-one without Kubernetes: the node beside this controller is the only node.
  const soleNode = config.mode === 'all' && config.kube.source === undefined;
  return controllerHandlers(rpc, {
    volumes: rds.volumes,
    files: rds.files,
    capacity: rds.capacity,
    attachments,
    ...(soleNode ? { knownNodes: new Set([config.nodeId]) } : {}),
    config: {
      driverName: config.driverName,
      poolBasePath: config.rds.poolPath,
      nvmeAddress: config.sim ? target.routeros.host : config.rds.nvmeAddress,
      nvmePort: config.rds.nvmePort,
      topologyValue: config.topologyValue,
      minVolumeBytes: config.minVolumeBytes,
      advertiseGetSnapshot: config.advertiseGetSnapshot,
      ...(config.compat === 'rds-csi-go' ? { compat: { rdsAddress: config.rds.host } } : {}),
    },
    now: () => Date.now(),
    logger: logger.child({ component: 'controller' }),
    metrics: { orphansCleaned: metrics.orphansCleaned },
  });
}

/**
 * The attachment manager: the rules of single-writer volumes and two-node migrations, with
 * state rebuilt from VolumeAttachments when Kubernetes is there. Its start (informers,
 * rebuild) runs in the background; publishes wait for the first rebuild. Stopped after
 * gRPC and before the SSH session.
 */
async function startAttachments(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  rds: RouterOsAdapter,
  closers: Closer[],
): Promise<AttachmentManager> {
  const log = logger.child({ component: 'attachments' });
  const source = config.kube.source;
  // The Kubernetes client is large (seconds and ~60 MB to load): only when it is used.
  const kube: KubeRuntime | undefined =
    source === undefined
      ? undefined
      : (await import('./kube')).createKube({
          source,
          userAgent: (await import('./kube/client')).userAgent(buildInfo().version, config.mode),
          instance: config.kube.instance,
          logger: logger.child({ component: 'kube' }),
          metrics,
          component: 'rds-csi-controller',
          ...(config.kube.leaderElection ? { leaderElection: config.kube.leaderElection } : {}),
        });
  if (!kube)
    log.warn(
      'no Kubernetes API configured: attachments live in memory only and are lost on restart',
    );
  const { createAttachmentManager } = await import('./controller/attachments');
  const runtime = createAttachmentManager({
    driverName: config.driverName,
    exports: rds.exports,
    volumes: rds.volumes,
    health: rds.health,
    ...(kube ? { kube } : {}),
    metrics,
    logger,
    graceMs: config.kube.graceMs,
    nodeGoneGraceMs: config.kube.nodeGoneGraceMs,
    reconcileIntervalMs: config.kube.reconcileIntervalMs,
  });
  runtime.start().catch((err: unknown) => log.error('attachment manager failed to start', { err }));
  // Runs after the CSI server stops (it is put first later) and before the RDS session.
  closers.unshift({ name: 'attachments and Kubernetes watches', close: () => runtime.stop() });
  return runtime.manager;
}

/** Node-side Kubernetes: events on the Node object and the host NQN annotation. */
async function nodeKube(
  config: Config,
  hostnqn: string,
  metrics: Metrics,
  log: Logger,
  closers: Closer[],
): Promise<NodeEvents> {
  const source = config.kube.source;
  if (source === undefined) return noopNodeEvents;
  const { createKubeClients, loadKubeConfig, userAgent } = await import('./kube/client');
  const { EventRecorder } = await import('./kube/events');
  const agent = userAgent(buildInfo().version, config.mode);
  const clients = createKubeClients(loadKubeConfig(source, agent), {
    component: 'rds-csi-node',
    instance: config.nodeId,
  });
  const recorder = new EventRecorder({
    api: clients.events,
    logger: log,
    metrics,
    defaultNamespace: 'default',
  });
  closers.push({ name: 'node events', close: () => recorder.stop() });
  // Events name the Node with its uid; the keeper reports it (and a new one when the Node
  // object is replaced), the recorder's worker reads it once otherwise.
  let nodeRef: ObjectRef | undefined;
  const { HostNqnKeeper } = await import('./kube/host-nqn');
  const keeper = new HostNqnKeeper({
    node: config.nodeId,
    hostnqn,
    listWatch: clients.ownNode(config.nodeId),
    annotate: (name, nqn) => clients.annotateNode(name, nqn),
    logger: log.child({ component: 'node-annotation' }),
    onUid: (uid) => {
      nodeRef = { kind: 'Node', name: config.nodeId, uid };
    },
  });
  keeper.start();
  closers.push({ name: 'node annotation', close: () => keeper.stop() });
  const node = async (): Promise<ObjectRef> => {
    if (nodeRef !== undefined) return nodeRef;
    const uid = await clients.nodeUid(config.nodeId);
    const ref: ObjectRef = { kind: 'Node', name: config.nodeId, ...(uid ? { uid } : {}) };
    if (uid !== undefined) nodeRef = ref;
    return ref;
  };
  return {
    staleMountDetected: (e) =>
      recorder.postTo(node, {
        type: 'Warning',
        reason: 'StaleMountDetected',
        message: `volume ${e.volumeId}: ${e.path}: ${e.reason}; it is remounted on the next stage or publish`,
      }),
    mountFailure: (e) =>
      recorder.postTo(node, {
        type: 'Warning',
        reason: 'MountFailure',
        message: `volume ${e.volumeId}: ${e.reason}`,
      }),
    connectionRecovered: (e) =>
      recorder.postTo(node, {
        type: 'Normal',
        reason: 'ConnectionRecovered',
        message: `volume ${e.volumeId}: ${e.nqn} attached again as ${e.device}`,
      }),
  };
}

/** The Node service over the kernel (addon, sysfs, mount tools). */
async function wireNode(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  rpc: RpcWrapper,
  closers: Closer[],
  checks: ReadinessCheck[],
): Promise<NodeHandlers> {
  const log = logger.child({ component: 'node' });
  const addon = loadNvmeAddon();
  const fabrics = createNativeFabrics({
    addon,
    metrics,
    logger: log,
    ...(config.node.managedNqnPrefix ? { managedNqnPrefix: config.node.managedNqnPrefix } : {}),
  });
  const host = await loadHostIdentity({ nodeId: config.nodeId });
  const stateDir = join(config.node.kubeletDir, 'plugins', config.driverName, 'node');
  const records = createFileRecordStore(stateDir, {
    readFile: (file) => addon.readFile(file, { maxBytes: RECORD_MAX_BYTES }),
  });
  log.info('node identity', { nodeId: config.nodeId, hostnqn: host.hostnqn, source: host.source });
  checks.push({
    name: 'node',
    check: async () =>
      (await access('/dev/nvme-fabrics', constants.R_OK | constants.W_OK).then(
        () => true,
        () => false,
      ))
        ? { ready: true }
        : { ready: false, reason: '/dev/nvme-fabrics is not usable (is nvme-tcp loaded?)' },
  });
  await sweepOrphans(fabrics, records, config.node, metrics, log);
  const events = await nodeKube(config, host.hostnqn, metrics, log, closers);
  return nodeHandlers(rpc, {
    nodeId: config.nodeId,
    kubeletDir: config.node.kubeletDir,
    stateDir,
    maxVolumesPerNode: config.node.maxVolumesPerNode,
    topologyKey: config.topologyKey,
    topologyValue: config.topologyValue,
    fabrics,
    mounter: createAddonMounter(addon),
    host,
    records,
    metrics,
    events,
    logger: log,
  });
}

/**
 * Start-up sweep of managed controllers with no staged volume; never fails startup. Staged
 * are the volumes of our records and the raw block volumes kubelet holds (the Go plugin's
 * leave no other trace); its filesystem volumes are mounted, which the detach refuses.
 */
async function sweepOrphans(
  fabrics: Fabrics,
  records: RecordStore,
  node: Config['node'],
  metrics: Metrics,
  log: Logger,
): Promise<void> {
  try {
    const report = await cleanupOrphans(fabrics, {
      stagedNqns: await stagedNqnsOnNode(records, node.kubeletDir),
      disconnect: node.cleanupOrphans,
      logger: log,
      onCleaned: () => metrics.orphansCleaned.inc(),
    });
    if (report.orphans.length > 0) {
      log.warn('orphan sweep', {
        orphans: report.orphans.length,
        disconnected: report.disconnected,
        failed: report.failed,
      });
    }
  } catch (err) {
    log.warn('orphan sweep skipped', { error: (err as Error).message });
  }
}

export type RdsTarget = { routeros: RouterOsConfig; sim?: RunningSim };

/**
 * The RDS to talk to: the configured one, or a freshly started embedded simulator (loaded
 * only then: it brings the whole simulator and an SSH server).
 */
export async function resolveRdsTarget(config: Config, logger: Logger): Promise<RdsTarget> {
  if (!config.sim)
    return realRds(config, (await import('./routeros/hostkey')).hostKeyFingerprintOf);
  const { startEmbeddedSim } = await import('./sim/embedded');
  return startEmbeddedSim({
    stateDir: config.simStateDir,
    poolPath: config.rds.poolPath,
    commandTimeoutMs: config.rds.commandTimeoutMs,
    logger,
  });
}

function realRds(config: Config, hostKeyFingerprintOf: (key: Buffer) => string): RdsTarget {
  return {
    routeros: {
      host: config.rds.host,
      port: config.rds.port,
      user: config.rds.user,
      privateKey: readFileSync(config.rds.keyFile),
      ...(config.rds.hostKeyFingerprint
        ? { hostKeyFingerprint: config.rds.hostKeyFingerprint }
        : config.rds.hostKeyFile
          ? { hostKeyFingerprint: hostKeyFingerprintOf(readFileSync(config.rds.hostKeyFile)) }
          : {}),
      insecureSkipHostKey: config.rds.insecureSkipHostKey,
      poolBasePath: config.rds.poolPath,
      commandTimeoutMs: config.rds.commandTimeoutMs,
    },
  };
}

async function closeAll(closers: readonly Closer[], logger: Logger): Promise<void> {
  for (const c of closers) {
    try {
      await c.close();
    } catch (err) {
      logger.error('shutdown step failed', { step: c.name, err });
    }
  }
}
