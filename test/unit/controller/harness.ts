/**
 * Starts the Controller service on a real CsiServer (unix socket in a temp dir) over the
 * given ports, and returns a real grpc-js client. Used by the unit tests (with the fake
 * RDS) and the integration tests (with the SSH adapters and rds-sim).
 */
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsiServer } from '../../../src/csi/server';
import { RpcWrapper } from '../../../src/csi/handler';
import { KeyedLocks } from '../../../src/csi/locks';
import { controllerHandlers } from '../../../src/csi/controller';
import { loadCsi } from '../../../src/csi/proto/load';
import { nullLogger } from '../../../src/observability/logger';
import type { AttachmentManager } from '../../../src/controller/attachments-port';
import type { ControllerConfig, ControllerDeps } from '../../../src/controller/deps';
import { SimpleAttachments } from '../../fakes/simple-attachments';
import { GiB } from '../../../src/domain/sizes';
import type { CapacityPort, FilesPort, VolumesPort } from '../../../src/routeros/ports';
import { csiClient, type Call } from '../../helpers/csi';

export const BASE = 'storage-pool/k8s';

export const CONFIG: ControllerConfig = {
  driverName: 'rds.csi.test',
  poolBasePath: BASE,
  nvmeAddress: '10.0.0.5',
  nvmePort: 4420,
  topologyValue: 'rds-a',
  minVolumeBytes: GiB,
};

export interface Harness {
  readonly c: Call;
  readonly deps: ControllerDeps;
  readonly attachments: AttachmentManager;
}

export async function startController(
  t: Test,
  ports: { volumes: VolumesPort; files: FilesPort; capacity: CapacityPort },
  opts: {
    config?: Partial<ControllerConfig>;
    attachments?: AttachmentManager;
    knownNodes?: ReadonlySet<string>;
    now?: () => number;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'rds-csi-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = new CsiServer({
    endpoint: { kind: 'unix', path: join(dir, 'csi.sock') },
    logger: nullLogger(),
    gracePeriodMs: 500,
  });
  const attachments = opts.attachments ?? new SimpleAttachments();
  const deps: ControllerDeps = {
    volumes: ports.volumes,
    files: ports.files,
    capacity: ports.capacity,
    attachments,
    ...(opts.knownNodes ? { knownNodes: opts.knownNodes } : {}),
    config: { ...CONFIG, ...opts.config },
    now: opts.now ?? (() => Date.now()),
    logger: nullLogger(),
  };
  const rpc = new RpcWrapper({ logger: nullLogger(), locks: new KeyedLocks() });
  server.addService(loadCsi().grpcType.csi.v1.Controller.service, controllerHandlers(rpc, deps));
  const address = await server.start();
  const client = csiClient(address);
  t.teardown(async () => {
    client.close();
    await server.stop();
  });
  return { c: client.controller, deps, attachments };
}

export const MOUNT_RWO = {
  access_mode: { mode: 'SINGLE_NODE_WRITER' },
  mount: { fs_type: '', mount_flags: [] },
};
export const BLOCK_RWO = { access_mode: { mode: 'SINGLE_NODE_WRITER' }, block: {} };
export const BLOCK_RWX = { access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, block: {} };

export const PVC = 'pvc-0f0e0d0c-0b0a-4908-8706-050403020100';
export const PVC2 = 'pvc-11111111-2222-4333-8444-555555555555';

export function pvcName(i: number): string {
  return `pvc-${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
}

export interface VolumeRes {
  volume: {
    volume_id: string;
    capacity_bytes: string;
    volume_context: Record<string, string>;
    accessible_topology: { segments: Record<string, string> }[];
    content_source: {
      type?: string;
      snapshot?: { snapshot_id: string };
      volume?: { volume_id: string };
    } | null;
  };
}

export interface SnapshotRes {
  snapshot: {
    snapshot_id: string;
    source_volume_id: string;
    size_bytes: string;
    creation_time: { seconds: string; nanos: number };
    ready_to_use: boolean;
  };
}

export function createReq(
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, volume_capabilities: [MOUNT_RWO], ...extra };
}
