/** Shapes and helpers the cases share: capabilities, volumes and node paths with cleanup. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseContext } from './framework';

export type Cap = Record<string, unknown>;

export function mountCap(mode = 'SINGLE_NODE_WRITER', fsType = ''): Cap {
  return { mount: { fs_type: fsType, mount_flags: [] }, access_mode: { mode } };
}

export function blockCap(mode = 'SINGLE_NODE_WRITER'): Cap {
  return { block: {}, access_mode: { mode } };
}

export function capFor(ctx: CaseContext, mode = 'SINGLE_NODE_WRITER'): Cap {
  return ctx.params.accessType === 'block' ? blockCap(mode) : mountCap(mode);
}

export interface CreatedVolume {
  volume_id: string;
  capacity_bytes: string;
  volume_context: Record<string, string>;
  content_source?: Record<string, unknown> | null;
  accessible_topology: { segments: Record<string, string> }[];
}

export async function createVolume(
  ctx: CaseContext,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<CreatedVolume> {
  const res = await ctx.client.controller<{ volume: CreatedVolume }>('CreateVolume', {
    name,
    capacity_range: { required_bytes: String(ctx.params.sizeBytes) },
    volume_capabilities: [capFor(ctx)],
    parameters: ctx.params.parameters,
    ...extra,
  });
  ctx.defer(() => ctx.client.controller('DeleteVolume', { volume_id: res.volume.volume_id }));
  return res.volume;
}

export interface CreatedSnapshot {
  snapshot_id: string;
  source_volume_id: string;
  size_bytes: string;
  ready_to_use: boolean;
  creation_time: { seconds: string; nanos: number } | null;
}

export async function createSnapshot(
  ctx: CaseContext,
  name: string,
  source: string,
): Promise<CreatedSnapshot> {
  const res = await ctx.client.controller<{ snapshot: CreatedSnapshot }>('CreateSnapshot', {
    name,
    source_volume_id: source,
  });
  ctx.defer(() =>
    ctx.client.controller('DeleteSnapshot', { snapshot_id: res.snapshot.snapshot_id }),
  );
  return res.snapshot;
}

export async function nodeId(ctx: CaseContext): Promise<string> {
  return (await ctx.client.node<{ node_id: string }>('NodeGetInfo')).node_id;
}

/** The longest name a CO sends (Kubernetes object names are shorter still). */
export const MAX_NAME_LENGTH = 128;

/** A unique name of exactly MAX_NAME_LENGTH characters. */
export function maxLengthName(ctx: CaseContext, prefix: string): string {
  return `${ctx.unique(prefix)}-${'x'.repeat(MAX_NAME_LENGTH)}`.slice(0, MAX_NAME_LENGTH);
}

/** A fresh staging directory and a target path whose parent exists, under the suite's roots. */
export function paths(ctx: CaseContext, tag: string): { staging: string; target: string } {
  const id = ctx.unique(tag);
  const staging = join(ctx.params.stagingRoot, id);
  mkdirSync(staging, { recursive: true });
  // The target's parent exists; the target itself is created by the plugin (CO convention).
  mkdirSync(join(ctx.params.targetRoot, id), { recursive: true });
  return { staging, target: join(ctx.params.targetRoot, id, 'mount') };
}

/** A volume created and published to this node, ready to stage. */
export async function publishedVolume(ctx: CaseContext, tag: string) {
  const node = await nodeId(ctx);
  const v = await createVolume(ctx, ctx.unique(tag));
  const pub = await ctx.client.controller<{ publish_context: Record<string, string> }>(
    'ControllerPublishVolume',
    {
      volume_id: v.volume_id,
      node_id: node,
      volume_capability: capFor(ctx),
      volume_context: v.volume_context,
    },
  );
  ctx.defer(() =>
    ctx.client.controller('ControllerUnpublishVolume', { volume_id: v.volume_id, node_id: node }),
  );
  return { v, publishContext: pub.publish_context };
}
