/**
 * Pure conversions from API objects (typed list results, where timestamps are Dates, or
 * raw watch JSON, where they are strings) to the narrow port shapes.
 */
import {
  HOST_NQN_ANNOTATION,
  type NodeInfo,
  type PvInfo,
  type VolumeAttachmentInfo,
} from './ports';

type Time = Date | string | undefined | null;

export function toMillis(v: Time): number {
  if (v === undefined || v === null) return 0;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isFinite(ms) ? ms : 0;
}

interface MetaLike {
  name?: string;
  namespace?: string;
  uid?: string;
  annotations?: Record<string, string>;
  creationTimestamp?: Time;
  deletionTimestamp?: Time;
  resourceVersion?: string;
}

export interface NodeLike {
  metadata?: MetaLike;
  status?: { conditions?: Array<{ type?: string; status?: string }> };
}

export function toNodeInfo(n: NodeLike): NodeInfo {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const nqn = n.metadata?.annotations?.[HOST_NQN_ANNOTATION]?.trim();
  return {
    name: n.metadata?.name ?? '',
    ready,
    ...(nqn === undefined || nqn === '' ? {} : { hostNqn: nqn }),
  };
}

export interface VolumeAttachmentLike {
  metadata?: MetaLike;
  spec?: { attacher?: string; nodeName?: string; source?: { persistentVolumeName?: string } };
  status?: { attached?: boolean };
}

export function toVolumeAttachmentInfo(v: VolumeAttachmentLike): VolumeAttachmentInfo {
  const pv = v.spec?.source?.persistentVolumeName;
  return {
    name: v.metadata?.name ?? '',
    attacher: v.spec?.attacher ?? '',
    nodeName: v.spec?.nodeName ?? '',
    ...(pv === undefined || pv === '' ? {} : { pvName: pv }),
    attached: v.status?.attached === true,
    createdAt: toMillis(v.metadata?.creationTimestamp),
    deleting: v.metadata?.deletionTimestamp !== undefined && v.metadata.deletionTimestamp !== null,
  };
}

export interface PvLike {
  metadata?: MetaLike;
  spec?: {
    accessModes?: string[];
    volumeMode?: string;
    csi?: { driver?: string; volumeHandle?: string; volumeAttributes?: Record<string, string> };
    claimRef?: { namespace?: string; name?: string; uid?: string };
  };
}

export function toPvInfo(p: PvLike): PvInfo {
  const c = p.spec?.claimRef;
  const csi = p.spec?.csi;
  return {
    name: p.metadata?.name ?? '',
    ...(csi?.driver === undefined ? {} : { driver: csi.driver }),
    ...(csi?.volumeHandle === undefined ? {} : { volumeHandle: csi.volumeHandle }),
    accessModes: p.spec?.accessModes ?? [],
    volumeMode: p.spec?.volumeMode ?? 'Filesystem',
    volumeAttributes: csi?.volumeAttributes ?? {},
    ...(c?.name !== undefined && c.namespace !== undefined
      ? {
          claimRef: {
            namespace: c.namespace,
            name: c.name,
            ...(c.uid === undefined ? {} : { uid: c.uid }),
          },
        }
      : {}),
  };
}
