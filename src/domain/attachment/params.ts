/**
 * StorageClass parameters that shape attachment rules. The controller copies them into the
 * volume context at CreateVolume, so they reach ControllerPublish and the PV's
 * `spec.csi.volumeAttributes` (read when state is rebuilt after a restart).
 */
import { InvalidArgumentError } from '../errors';

export const PARAM_MIGRATION_TIMEOUT = 'migrationTimeoutSeconds';
export const PARAM_HOST_FENCING = 'hostFencing';
export const DEFAULT_MIGRATION_TIMEOUT_SECONDS = 300;
export const MIN_MIGRATION_TIMEOUT_SECONDS = 30;
export const MAX_MIGRATION_TIMEOUT_SECONDS = 3600;
export const DEFAULT_GRACE_PERIOD_MS = 30_000;

/** Volume context keys external-provisioner adds with --extra-create-metadata. */
export const CTX_PVC_NAME = 'csi.storage.k8s.io/pvc/name';
export const CTX_PVC_NAMESPACE = 'csi.storage.k8s.io/pvc/namespace';

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
  const rawTimeout = ctx?.[PARAM_MIGRATION_TIMEOUT]?.trim();
  let seconds = DEFAULT_MIGRATION_TIMEOUT_SECONDS;
  if (rawTimeout !== undefined && rawTimeout !== '') {
    seconds = /^\d+$/.test(rawTimeout) ? Number(rawTimeout) : NaN;
    if (
      !Number.isInteger(seconds) ||
      seconds < MIN_MIGRATION_TIMEOUT_SECONDS ||
      seconds > MAX_MIGRATION_TIMEOUT_SECONDS
    ) {
      throw new InvalidArgumentError(
        `${PARAM_MIGRATION_TIMEOUT} must be an integer from ${MIN_MIGRATION_TIMEOUT_SECONDS} ` +
          `to ${MAX_MIGRATION_TIMEOUT_SECONDS}, got ${JSON.stringify(rawTimeout)}`,
      );
    }
  }
  const rawFencing = ctx?.[PARAM_HOST_FENCING]?.trim().toLowerCase();
  let fencing = false;
  if (rawFencing !== undefined && rawFencing !== '') {
    if (rawFencing !== 'true' && rawFencing !== 'false') {
      throw new InvalidArgumentError(
        `${PARAM_HOST_FENCING} must be "true" or "false", got ${JSON.stringify(rawFencing)}`,
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
  const name = ctx?.[CTX_PVC_NAME];
  const namespace = ctx?.[CTX_PVC_NAMESPACE];
  if (name === undefined || name === '' || namespace === undefined || namespace === '') {
    return undefined;
  }
  return { namespace, name };
}
