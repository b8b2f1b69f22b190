/**
 * The volume_context the controller returns from CreateVolume and the node reads in
 * NodeStageVolume: where to attach the volume and how to format it. One module for both
 * sides so the keys cannot drift.
 */
import { InvalidArgumentError } from './errors';

export const VOLUME_CONTEXT_KEYS = Object.freeze({
  nqn: 'nqn',
  traddr: 'traddr',
  trsvcid: 'trsvcid',
  fsType: 'fsType',
});

export const SUPPORTED_FS_TYPES = ['ext4', 'xfs'] as const;
export type FsType = (typeof SUPPORTED_FS_TYPES)[number];
export const DEFAULT_FS_TYPE: FsType = 'ext4';

export interface VolumeContext {
  readonly nqn: string;
  readonly traddr: string;
  readonly trsvcid: number;
  /** Absent when the StorageClass did not name one (the capability's fs_type then wins). */
  readonly fsType: FsType | undefined;
  /**
   * Set only for volumes provisioned by the Go rds-csi driver (src/domain/compat/go-context.ts):
   * the reconnect tuning its node plugin passed to `nvme connect`, kept so a takeover connects
   * the same way, and the rule that an existing controller for the NQN is adopted as it is.
   */
  readonly goDriver?: GoConnectTuning;
}

/** Kernel connect tuning from a Go-driver volume_context, with nvme-cli's defaults applied. */
export interface GoConnectTuning {
  /** -1 reconnects for ever. */
  readonly ctrlLossTmoSec: number;
  readonly reconnectDelaySec: number;
  /** Undefined: the kernel's default keep-alive. */
  readonly keepAliveTmoSec: number | undefined;
}

const NQN = /^nqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+:[\x21-\x7e]{1,200}$/;
const ADDR = /^[A-Za-z0-9.:-]{1,253}$/;

export function isFsType(v: string): v is FsType {
  return (SUPPORTED_FS_TYPES as readonly string[]).includes(v);
}

/** The context as the controller writes it. */
export function formatVolumeContext(ctx: VolumeContext): Record<string, string> {
  const out: Record<string, string> = {
    [VOLUME_CONTEXT_KEYS.nqn]: ctx.nqn,
    [VOLUME_CONTEXT_KEYS.traddr]: ctx.traddr,
    [VOLUME_CONTEXT_KEYS.trsvcid]: String(ctx.trsvcid),
  };
  if (ctx.fsType !== undefined) out[VOLUME_CONTEXT_KEYS.fsType] = ctx.fsType;
  return out;
}

/**
 * Validates the context a node receives. Every problem is reported at once as
 * InvalidArgumentError; unknown keys (e.g. csi.storage.k8s.io/* from
 * --extra-create-metadata) are ignored.
 */
export function parseVolumeContext(
  raw: Readonly<Record<string, string>> | undefined,
): VolumeContext {
  const ctx = raw ?? {};
  const problems: string[] = [];
  const nqn = ctx[VOLUME_CONTEXT_KEYS.nqn] ?? '';
  if (!NQN.test(nqn)) problems.push(`"${VOLUME_CONTEXT_KEYS.nqn}" is missing or not an NQN`);
  const traddr = ctx[VOLUME_CONTEXT_KEYS.traddr] ?? '';
  if (!ADDR.test(traddr)) problems.push(`"${VOLUME_CONTEXT_KEYS.traddr}" is missing or invalid`);
  const portText = ctx[VOLUME_CONTEXT_KEYS.trsvcid] ?? '';
  const trsvcid = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || trsvcid < 1 || trsvcid > 65535) {
    problems.push(`"${VOLUME_CONTEXT_KEYS.trsvcid}" is missing or not a port number`);
  }
  const fsText = ctx[VOLUME_CONTEXT_KEYS.fsType];
  let fsType: FsType | undefined;
  if (fsText !== undefined && fsText !== '') {
    if (isFsType(fsText)) fsType = fsText;
    else
      problems.push(
        `"${VOLUME_CONTEXT_KEYS.fsType}" must be one of ${SUPPORTED_FS_TYPES.join(', ')}`,
      );
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(`invalid volume_context: ${problems.join('; ')}`);
  }
  return { nqn, traddr, trsvcid, fsType };
}
