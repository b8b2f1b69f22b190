/**
 * CSI Controller service: thin. Each handler validates the request's shape, calls one
 * use-case in src/controller/, and builds the response. Volume RPCs lock on the volume id
 * (CreateVolume on the id derived from its name, so Create and Delete of one volume
 * serialize); snapshot RPCs lock on the snapshot id. Secrets are never logged: log fields
 * name ids only, and the wrapper redacts `secrets`.
 */
import type { Capability } from '../domain/capabilities';
import { parseCapabilities, parseCapability } from '../domain/capabilities';
import { InvalidArgumentError, UnimplementedError } from '../domain/errors';
import { snapshotIdFromName, volumeIdFromName } from '../domain/ids';
import { parseRange } from '../domain/sizes';
import { getCapacity } from '../controller/capacity';
import { createVolume } from '../controller/create-volume';
import { deleteVolume } from '../controller/delete-volume';
import type { ControllerDeps } from '../controller/deps';
import { publishVolume, unpublishVolume } from '../controller/publish';
import {
  checkSnapshotParams,
  createSnapshot,
  deleteSnapshot,
  getSnapshot,
  listSnapshots,
  type SnapshotView,
} from '../controller/snapshots';
import {
  expandVolume,
  getVolume,
  listVolumes,
  validateVolumeCapabilities,
  type VolumeStatus,
} from '../controller/volume-queries';
import type { VolumeView } from '../controller/volume-view';
import type { ControllerHandlers } from './gen/csi/v1/Controller';
import type { ControllerServiceCapability } from './gen/csi/v1/ControllerServiceCapability';
import type { CreateVolumeRequest__Output } from './gen/csi/v1/CreateVolumeRequest';
import type { Snapshot } from './gen/csi/v1/Snapshot';
import type { Volume } from './gen/csi/v1/Volume';
import type { CallContext, RpcOptions, RpcWrapper } from './handler';

export type { ControllerDeps, ControllerConfig } from '../controller/deps';

/**
 * What ControllerGetCapabilities advertises. GET_SNAPSHOT (value 15) is an alpha
 * capability of CSI 1.12 that released consumers do not know: csi-sanity v5.3.1/v5.4.0
 * fail on it, and sidecars built on csi-lib-utils v0.20.0 (csi-provisioner v5.2.0,
 * csi-attacher v4.8.0, csi-resizer v1.13.x, livenessprobe v2.15.0, node-driver-registrar
 * v2.13.0) dereference nil while logging a reply that names it. No sidecar calls
 * GetSnapshot yet, so it is advertised only when the operator opts in; the RPC answers
 * either way.
 */
const RPCS = [
  'CREATE_DELETE_VOLUME',
  'PUBLISH_UNPUBLISH_VOLUME',
  'LIST_VOLUMES',
  'LIST_VOLUMES_PUBLISHED_NODES',
  'GET_CAPACITY',
  'EXPAND_VOLUME',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'CLONE_VOLUME',
  'GET_VOLUME',
  'VOLUME_CONDITION',
  'SINGLE_NODE_MULTI_WRITER',
] as const;

export function controllerCapabilities(
  advertiseGetSnapshot: boolean,
): ControllerServiceCapability[] {
  const types: ((typeof RPCS)[number] | 'GET_SNAPSHOT')[] = [...RPCS];
  if (advertiseGetSnapshot) types.push('GET_SNAPSHOT');
  return types.map((type) => ({ rpc: { type } }));
}

function required(value: string, field: string): string {
  if (value === '') throw new InvalidArgumentError(`${field} is required`);
  return value;
}

/** Volume id derived from a CreateVolume name, or '' (no lock) when the name is unusable. */
function lockIdFromName(name: string): string {
  try {
    return volumeIdFromName(name);
  } catch {
    return '';
  }
}

function snapshotLockFromName(name: string): string {
  try {
    return snapshotIdFromName(name);
  } catch {
    return '';
  }
}

function volumeOf(v: VolumeView): Volume {
  return {
    volume_id: v.volumeId,
    capacity_bytes: String(v.sizeBytes),
    volume_context: { ...v.context },
    accessible_topology:
      Object.keys(v.topology).length === 0 ? [] : [{ segments: { ...v.topology } }],
    ...(v.contentSource === undefined
      ? {}
      : v.contentSource.type === 'snapshot'
        ? { content_source: { snapshot: { snapshot_id: v.contentSource.id } } }
        : { content_source: { volume: { volume_id: v.contentSource.id } } }),
  };
}

function statusOf(s: VolumeStatus): {
  published_node_ids: string[];
  volume_condition: { abnormal: boolean; message: string };
} {
  return {
    published_node_ids: [...s.publishedNodes],
    volume_condition: { abnormal: s.abnormal, message: s.message },
  };
}

function snapshotOf(s: SnapshotView): Snapshot {
  return {
    snapshot_id: s.snapshotId,
    source_volume_id: s.sourceVolumeId,
    size_bytes: String(s.sizeBytes),
    creation_time: {
      seconds: String(Math.floor(s.createdMs / 1000)),
      nanos: (s.createdMs % 1000) * 1_000_000,
    },
    ready_to_use: s.readyToUse,
  };
}

function createInput(req: CreateVolumeRequest__Output) {
  const src = req.volume_content_source;
  const contentSource =
    src?.type === 'snapshot'
      ? { type: 'snapshot' as const, id: required(src.snapshot?.snapshot_id ?? '', 'snapshot_id') }
      : src?.type === 'volume'
        ? { type: 'volume' as const, id: required(src.volume?.volume_id ?? '', 'volume_id') }
        : undefined;
  const requisite = req.accessibility_requirements?.requisite.map((t) => t.segments);
  return {
    volumeId: volumeIdFromName(required(req.name, 'name')),
    capabilities: parseCapabilities(req.volume_capabilities),
    range: parseRange(req.capacity_range),
    parameters: req.parameters,
    ...(contentSource ? { contentSource } : {}),
    ...(requisite && requisite.length > 0 ? { requisite } : {}),
  };
}

interface VolumeRequest {
  readonly volume_id: string;
  readonly node_id?: string;
}

const volumeFields = (r: VolumeRequest): Record<string, string> =>
  r.node_id ? { volumeId: r.volume_id, nodeId: r.node_id } : { volumeId: r.volume_id };

/** Options of an RPC on one volume: lock on its id (an empty id takes no lock). */
function lockedOnVolume<R extends VolumeRequest>(): RpcOptions<R> {
  return { lockKey: (r) => r.volume_id, logFields: volumeFields };
}

function call(ctx: CallContext): { signal: AbortSignal; log: CallContext['log'] } {
  return { signal: ctx.signal, log: ctx.log };
}

export function controllerHandlers(rpc: RpcWrapper, deps: ControllerDeps): ControllerHandlers {
  const capabilities = controllerCapabilities(deps.config.advertiseGetSnapshot === true);
  return {
    ControllerGetCapabilities: rpc.unary(
      'ControllerGetCapabilities',
      () => Promise.resolve({ capabilities }),
      { quiet: true },
    ),

    CreateVolume: rpc.unary(
      'CreateVolume',
      async (req, ctx) => ({
        volume: volumeOf(await createVolume(deps, createInput(req), call(ctx))),
      }),
      {
        lockKey: (r) => lockIdFromName(r.name),
        logFields: (r) => ({ name: r.name, volumeId: lockIdFromName(r.name) }),
      },
    ),

    DeleteVolume: rpc.unary(
      'DeleteVolume',
      async (req, ctx) => {
        await deleteVolume(deps, required(req.volume_id, 'volume_id'), call(ctx));
        return {};
      },
      lockedOnVolume(),
    ),

    ControllerExpandVolume: rpc.unary(
      'ControllerExpandVolume',
      async (req, ctx) => {
        const id = required(req.volume_id, 'volume_id');
        if (!req.capacity_range) throw new InvalidArgumentError('capacity_range is required');
        const capability: Capability | undefined = req.volume_capability
          ? parseCapability(req.volume_capability, 'volume_capability')
          : undefined;
        const r = await expandVolume(
          deps,
          id,
          parseRange(req.capacity_range),
          capability,
          call(ctx),
        );
        return {
          capacity_bytes: String(r.sizeBytes),
          node_expansion_required: r.nodeExpansionRequired,
        };
      },
      lockedOnVolume(),
    ),

    ControllerGetVolume: rpc.unary(
      'ControllerGetVolume',
      async (req, ctx) => {
        const s = await getVolume(deps, required(req.volume_id, 'volume_id'), call(ctx));
        return { volume: volumeOf(s.view), status: statusOf(s) };
      },
      { logFields: (r) => volumeFields(r), quiet: true },
    ),

    ListVolumes: rpc.unary(
      'ListVolumes',
      async (req, ctx) => {
        const r = await listVolumes(deps, req.max_entries, req.starting_token, call(ctx));
        return {
          entries: r.entries.map((s) => ({ volume: volumeOf(s.view), status: statusOf(s) })),
          next_token: r.nextToken,
        };
      },
      { quiet: true },
    ),

    ValidateVolumeCapabilities: rpc.unary(
      'ValidateVolumeCapabilities',
      async (req, ctx) => {
        const id = required(req.volume_id, 'volume_id');
        const caps = parseCapabilities(req.volume_capabilities);
        const problem = await validateVolumeCapabilities(deps, id, caps, req.parameters, call(ctx));
        if (problem !== undefined) return { message: problem };
        return {
          confirmed: {
            volume_context: req.volume_context,
            volume_capabilities: req.volume_capabilities,
            parameters: req.parameters,
          },
        };
      },
      { logFields: (r) => volumeFields(r), quiet: true },
    ),

    GetCapacity: rpc.unary(
      'GetCapacity',
      async (req, ctx) => {
        const c = await getCapacity(
          deps,
          req.parameters,
          req.accessible_topology?.segments,
          call(ctx),
        );
        return {
          available_capacity: String(c.availableBytes),
          maximum_volume_size: { value: String(c.maximumVolumeBytes) },
          minimum_volume_size: { value: String(c.minimumVolumeBytes) },
        };
      },
      { quiet: true },
    ),

    ControllerPublishVolume: rpc.unary(
      'ControllerPublishVolume',
      async (req, ctx) => {
        const volumeId = required(req.volume_id, 'volume_id');
        const nodeId = required(req.node_id, 'node_id');
        const capability = parseCapability(req.volume_capability, 'volume_capability');
        const publish_context = await publishVolume(
          deps,
          {
            volumeId,
            nodeId,
            capability,
            readonly: req.readonly,
            volumeContext: req.volume_context,
          },
          call(ctx),
        );
        return { publish_context: { ...publish_context } };
      },
      lockedOnVolume(),
    ),

    ControllerUnpublishVolume: rpc.unary(
      'ControllerUnpublishVolume',
      async (req, ctx) => {
        await unpublishVolume(deps, required(req.volume_id, 'volume_id'), req.node_id, call(ctx));
        return {};
      },
      lockedOnVolume(),
    ),

    CreateSnapshot: rpc.unary(
      'CreateSnapshot',
      async (req, ctx) => {
        const id = snapshotIdFromName(required(req.name, 'name'));
        const source = required(req.source_volume_id, 'source_volume_id');
        checkSnapshotParams(deps, req.parameters);
        return { snapshot: snapshotOf(await createSnapshot(deps, id, source, call(ctx))) };
      },
      {
        lockKey: (r) => snapshotLockFromName(r.name),
        logFields: (r) => ({ name: r.name, sourceVolumeId: r.source_volume_id }),
      },
    ),

    DeleteSnapshot: rpc.unary(
      'DeleteSnapshot',
      async (req, ctx) => {
        await deleteSnapshot(deps, required(req.snapshot_id, 'snapshot_id'), call(ctx));
        return {};
      },
      {
        lockKey: (r) => r.snapshot_id,
        logFields: (r) => ({ snapshotId: r.snapshot_id }),
      },
    ),

    GetSnapshot: rpc.unary(
      'GetSnapshot',
      async (req, ctx) => ({
        snapshot: snapshotOf(
          await getSnapshot(deps, required(req.snapshot_id, 'snapshot_id'), call(ctx)),
        ),
      }),
      { logFields: (r) => ({ snapshotId: r.snapshot_id }), quiet: true },
    ),

    ListSnapshots: rpc.unary(
      'ListSnapshots',
      async (req, ctx) => {
        const r = await listSnapshots(
          deps,
          { snapshotId: req.snapshot_id, sourceVolumeId: req.source_volume_id },
          req.max_entries,
          req.starting_token,
          call(ctx),
        );
        return {
          entries: r.entries.map((s) => ({ snapshot: snapshotOf(s) })),
          next_token: r.nextToken,
        };
      },
      { quiet: true },
    ),

    ControllerModifyVolume: rpc.unary('ControllerModifyVolume', () =>
      Promise.reject(new UnimplementedError('ControllerModifyVolume is not supported')),
    ),
  };
}
