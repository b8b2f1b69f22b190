/**
 * CSI Node service: thin. Each handler validates the request, calls one node use-case and
 * builds the response; the per-volume lock (by volume_id) serialises calls on a volume.
 */
import { InvalidArgumentError } from '../domain/errors';
import { parseNodeVolumeContext } from '../domain/compat/go-context';
import type { VolumeContext } from '../domain/volume-context';
import {
  bytesField,
  isReadOnlyMode,
  requireCapability,
  requireId,
  stageAccess,
} from '../node/access';
import { type NodeDeps, resolveNode } from '../node/deps';
import { expandVolume } from '../node/expand';
import { requirePathUnder, volumePathUnder } from '../node/paths';
import { publishVolume, unpublishVolume } from '../node/publish';
import { stageVolume } from '../node/stage';
import { volumeStats } from '../node/stats';
import { unstageVolume } from '../node/unstage';
import type { NodeHandlers } from './gen/csi/v1/Node';
import type { NodeGetCapabilitiesResponse } from './gen/csi/v1/NodeGetCapabilitiesResponse';
import type { VolumeUsage } from './gen/csi/v1/VolumeUsage';
import type { RpcOptions, RpcWrapper } from './handler';

export type { NodeDeps } from '../node/deps';

const CAPABILITIES: NodeGetCapabilitiesResponse = {
  capabilities: (
    [
      'STAGE_UNSTAGE_VOLUME',
      'EXPAND_VOLUME',
      'GET_VOLUME_STATS',
      'VOLUME_CONDITION',
      'SINGLE_NODE_MULTI_WRITER',
    ] as const
  ).map((type) => ({ rpc: { type } })),
};

/** Lock and log by volume id (generic so each RPC keeps its own request type). */
function byVolume<Req extends { volume_id: string }>(): RpcOptions<Req> {
  return { lockKey: (r) => r.volume_id, logFields: (r) => ({ volumeId: r.volume_id }) };
}

/**
 * NodePublish's volume_context serves only a volume staged without a record of ours (the Go
 * node plugin's); one that does not parse is left out rather than failing the publish.
 */
function optionalContext(raw: Record<string, string> | undefined): VolumeContext | undefined {
  try {
    return raw === undefined || Object.keys(raw).length === 0
      ? undefined
      : parseNodeVolumeContext(raw);
  } catch {
    return undefined;
  }
}

export function nodeHandlers(rpc: RpcWrapper, deps: NodeDeps): NodeHandlers {
  const ctx = resolveNode(deps);
  const under = (p: string | undefined, field: string): string =>
    requirePathUnder(p, ctx.kubeletDir, field);
  // Stats and expand name a path a volume was staged or published at: a path that cannot
  // be one is NOT_FOUND, not INVALID_ARGUMENT (only an empty path is).
  const volumePathOf = (p: string | undefined): string =>
    volumePathUnder(p, ctx.kubeletDir, 'volume_path');
  const optionalPath = (p: string | undefined, field: string): string | undefined =>
    p === undefined || p === '' ? undefined : under(p, field);

  return {
    NodeGetCapabilities: rpc.unary('NodeGetCapabilities', () => Promise.resolve(CAPABILITIES), {
      quiet: true,
    }),

    NodeGetInfo: rpc.unary(
      'NodeGetInfo',
      () =>
        Promise.resolve({
          node_id: ctx.nodeId,
          max_volumes_per_node: String(ctx.maxVolumesPerNode),
          accessible_topology: { segments: { [ctx.topologyKey]: ctx.topologyValue } },
        }),
      { quiet: true },
    ),

    NodeStageVolume: rpc.unary(
      'NodeStageVolume',
      async (req, call) => {
        const volumeId = requireId(req.volume_id, 'volume_id');
        const stagingPath = under(req.staging_target_path, 'staging_target_path');
        const cap = requireCapability(req.volume_capability);
        // Ours or the Go driver's (told apart by shape); publish_context is not read.
        const context = parseNodeVolumeContext(req.volume_context);
        const access = stageAccess(cap, context.fsType);
        await stageVolume(ctx, { volumeId, stagingPath, access, context }, call.signal);
        return {};
      },
      byVolume(),
    ),

    NodeUnstageVolume: rpc.unary(
      'NodeUnstageVolume',
      async (req, call) => {
        const volumeId = requireId(req.volume_id, 'volume_id');
        const stagingPath = under(req.staging_target_path, 'staging_target_path');
        await unstageVolume(ctx, { volumeId, stagingPath }, call.signal);
        return {};
      },
      byVolume(),
    ),

    NodePublishVolume: rpc.unary(
      'NodePublishVolume',
      async (req, call) => {
        const volumeId = requireId(req.volume_id, 'volume_id');
        const stagingPath = under(req.staging_target_path, 'staging_target_path');
        const targetPath = under(req.target_path, 'target_path');
        const cap = requireCapability(req.volume_capability);
        if (targetPath === stagingPath) {
          throw new InvalidArgumentError('target_path must differ from staging_target_path');
        }
        await publishVolume(
          ctx,
          {
            volumeId,
            stagingPath,
            targetPath,
            access: cap.access_type,
            readonly: req.readonly || isReadOnlyMode(cap),
            context: optionalContext(req.volume_context),
          },
          call.signal,
        );
        return {};
      },
      byVolume(),
    ),

    NodeUnpublishVolume: rpc.unary(
      'NodeUnpublishVolume',
      async (req, call) => {
        const volumeId = requireId(req.volume_id, 'volume_id');
        const targetPath = under(req.target_path, 'target_path');
        await unpublishVolume(ctx, { volumeId, targetPath }, call.signal);
        return {};
      },
      byVolume(),
    ),

    NodeExpandVolume: rpc.unary(
      'NodeExpandVolume',
      async (req, call) => {
        const volumeId = requireId(req.volume_id, 'volume_id');
        const volumePath = volumePathOf(req.volume_path);
        const requiredBytes = bytesField(
          req.capacity_range?.required_bytes,
          'capacity_range.required_bytes',
        );
        const block = req.volume_capability?.access_type === 'block';
        const stagingPath = optionalPath(req.staging_target_path, 'staging_target_path');
        const r = await expandVolume(
          ctx,
          { volumeId, volumePath, stagingPath, requiredBytes, block },
          call.signal,
        );
        return { capacity_bytes: String(r.capacityBytes) };
      },
      byVolume(),
    ),

    NodeGetVolumeStats: rpc.unary(
      'NodeGetVolumeStats',
      async (req) => {
        const volumeId = requireId(req.volume_id, 'volume_id');
        const volumePath = volumePathOf(req.volume_path);
        const stagingPath = optionalPath(req.staging_target_path, 'staging_target_path');
        const s = await volumeStats(ctx, { volumeId, volumePath, stagingPath });
        const usage: VolumeUsage[] = [];
        if (s.fs) {
          usage.push({
            unit: 'BYTES',
            total: String(s.fs.totalBytes),
            available: String(s.fs.availableBytes),
            used: String(s.fs.usedBytes),
          });
          usage.push({
            unit: 'INODES',
            total: String(s.fs.totalInodes),
            available: String(s.fs.freeInodes),
            used: String(s.fs.usedInodes),
          });
        }
        if (s.blockBytes !== undefined) usage.push({ unit: 'BYTES', total: String(s.blockBytes) });
        return {
          usage,
          volume_condition: { abnormal: s.condition.abnormal, message: s.condition.message },
        };
      },
      { logFields: (r) => ({ volumeId: r.volume_id }), quiet: true },
    ),
  };
}
