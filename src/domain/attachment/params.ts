/**
 * StorageClass parameters that shape attachment rules. The controller copies them into the
 * volume context at CreateVolume, so they reach ControllerPublish and the PV's
 * `spec.csi.volumeAttributes` (read when state is rebuilt after a restart).
 */
import { InvalidArgumentError } from '../errors';
import { MIGRATION_TIMEOUT_RANGE, PARAM, PVC_NAME_KEY, PVC_NAMESPACE_KEY } from '../params';

export const DEFAULT_GRACE_PERIOD_MS = 30_000;
/**
 * How long a Node must stay deleted before its attachments are cleared. A Node object comes
 * back when kubelet re-registers (seconds after a `kubectl delete node` or an API server
 * hiccup); clearing at once would close the allow-list under a node that still runs the
 * workload. Kubernetes' own pod garbage collection waits 40 s before treating a deleted
 * node's pods as orphans.
 */
export const DEFAULT_NODE_GONE_GRACE_MS = 120_000;

export interface AttachmentParams {
  readonly migrationTimeoutMs: number;
  readonly fencing: boolean;
}

/**
 * Parse the attachment parameters (absent = defaults). InvalidArgumentError when the
 * timeout is not an integer in [30, 3600] seconds or the fencing flag is not a boolean.
 */
export function parseAttachmentParams(
  ctx: Readonly<Record<string, string>> | undefined,
): AttachmentParams {
  const r = MIGRATION_TIMEOUT_RANGE;
  const rawTimeout = ctx?.[PARAM.migrationTimeoutSeconds]?.trim();
  let seconds: number = r.dflt;
  if (rawTimeout !== undefined && rawTimeout !== '') {
    seconds = /^\d+$/.test(rawTimeout) ? Number(rawTimeout) : NaN;
    if (!Number.isInteger(seconds) || seconds < r.min || seconds > r.max) {
      throw new InvalidArgumentError(
        `${PARAM.migrationTimeoutSeconds} must be an integer from ${r.min} ` +
          `to ${r.max}, got ${JSON.stringify(rawTimeout)}`,
      );
    }
  }
  const rawFencing = ctx?.[PARAM.hostFencing]?.trim().toLowerCase();
  let fencing = false;
  if (rawFencing !== undefined && rawFencing !== '') {
    if (rawFencing !== 'true' && rawFencing !== 'false') {
      throw new InvalidArgumentError(
        `${PARAM.hostFencing} must be "true" or "false", got ${JSON.stringify(rawFencing)}`,
      );
    }
    fencing = rawFencing === 'true';
  }
  return { migrationTimeoutMs: seconds * 1000, fencing };
}

/** The PVC named by a volume context, when the provisioner put it there. */
export function pvcFromContext(
  ctx: Readonly<Record<string, string>> | undefined,
): { readonly namespace: string; readonly name: string } | undefined {
  const name = ctx?.[PVC_NAME_KEY];
  const namespace = ctx?.[PVC_NAMESPACE_KEY];
  if (name === undefined || name === '' || namespace === undefined || namespace === '') {
    return undefined;
  }
  return { namespace, name };
}
