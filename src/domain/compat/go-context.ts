/**
 * The volume_context of PVs provisioned by the Go rds-csi driver (rds.csi.srvlab.io), read
 * by the node so those PVs keep working after the switch. Pure.
 *
 * Its keys: rdsAddress, nvmeAddress, nvmePort, nqn, volumePath (the full `.img` path),
 * ctrlLossTmo, reconnectDelay, keepAliveTmo (since its v0.2.0) and migrationTimeoutSeconds
 * (since v0.5.0). Older PVs lack the later keys and get that driver's defaults (-1 / 5 / 0).
 * The context is recognised by its shape: it has no `traddr`/`trsvcid` (ours) but names an
 * NVMe address or port, so the node needs no switch to serve both kinds of PV.
 *
 * Validation is that driver's node validation: `nqn` required and matching its NQN grammar,
 * `nvmeAddress` (falling back to `rdsAddress`) an IP literal, `nvmePort` 1-65535; the tuning
 * keys are integers (ctrlLossTmo >= -1, the others >= 0; a 0 there meant "kernel default").
 */
import net from 'node:net';
import { InvalidArgumentError } from '../errors';
import { NQN_PREFIX } from '../ids';
import type { GoConnectTuning, VolumeContext } from '../volume-context';
import { VOLUME_CONTEXT_KEYS, parseVolumeContext } from '../volume-context';
import { GO_CONTEXT_KEYS, GO_DEFAULTS } from './context';

/**
 * What the kernel uses when nvme-cli leaves an option out (the Go node passes `-l` only when
 * ctrlLossTmo ≠ 0, `-c` only when reconnectDelay > 0, `-k` only when keepAliveTmo > 0).
 */
export const KERNEL_CONNECT_DEFAULTS = Object.freeze({
  ctrlLossTmoSec: 600,
  reconnectDelaySec: 10,
});

/** The Go driver's NQN grammar (lower case only) and the NVMe limit. */
const GO_NQN = /^nqn\.[0-9]{4}-[0-9]{2}\.[a-z0-9.-]+:[a-z0-9._-]+$/;
const NQN_MAX_BYTES = 223;

export function isGoNqn(nqn: string): boolean {
  return Buffer.byteLength(nqn) <= NQN_MAX_BYTES && GO_NQN.test(nqn);
}

/**
 * The subsystem NQN the Go driver derives from a volume id when a request carries no
 * context (NodePublish, NodeUnstage, NodeExpand there): the MikroTik prefix + the id in
 * lower case. Undefined when that is not a valid NQN.
 */
export function goNqnOfVolume(volumeId: string): string | undefined {
  const nqn = NQN_PREFIX + volumeId.toLowerCase();
  return isGoNqn(nqn) ? nqn : undefined;
}

/** A Go-driver context: none of our address keys, and one of its own. */
export function isGoVolumeContext(raw: Readonly<Record<string, string>> | undefined): boolean {
  if (raw === undefined) return false;
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(raw, k);
  if (has(VOLUME_CONTEXT_KEYS.traddr) || has(VOLUME_CONTEXT_KEYS.trsvcid)) return false;
  return (
    has(GO_CONTEXT_KEYS.nvmeAddress) ||
    has(GO_CONTEXT_KEYS.rdsAddress) ||
    has(GO_CONTEXT_KEYS.nvmePort)
  );
}

/** Either kind of volume_context, told apart by shape; InvalidArgumentError when invalid. */
export function parseNodeVolumeContext(
  raw: Readonly<Record<string, string>> | undefined,
): VolumeContext {
  return isGoVolumeContext(raw) ? parseGoVolumeContext(raw!) : parseVolumeContext(raw);
}

/** An integer key at least `min`; absent or empty → `dflt`. */
function intKey(
  raw: Readonly<Record<string, string>>,
  key: string,
  min: number,
  dflt: number,
  problems: string[],
): number {
  const text = raw[key]?.trim() ?? '';
  if (text === '') return dflt;
  const n = /^-?\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min) {
    problems.push(`"${key}" must be an integer >= ${min}, got ${JSON.stringify(text)}`);
    return dflt;
  }
  return n;
}

/**
 * The tuning `nvme connect` got from the Go node: a 0 ctrlLossTmo and a reconnectDelay ≤ 0
 * were left out of its command line, so the kernel's defaults applied.
 */
export function goConnectTuning(v: {
  ctrlLossTmo: number;
  reconnectDelay: number;
  keepAliveTmo: number;
}): GoConnectTuning {
  return {
    ctrlLossTmoSec: v.ctrlLossTmo === 0 ? KERNEL_CONNECT_DEFAULTS.ctrlLossTmoSec : v.ctrlLossTmo,
    reconnectDelaySec:
      v.reconnectDelay > 0 ? v.reconnectDelay : KERNEL_CONNECT_DEFAULTS.reconnectDelaySec,
    keepAliveTmoSec: v.keepAliveTmo > 0 ? v.keepAliveTmo : undefined,
  };
}

/** Validates a Go-driver context; every problem is reported at once. Unknown keys are ignored. */
export function parseGoVolumeContext(raw: Readonly<Record<string, string>>): VolumeContext {
  const problems: string[] = [];
  const nqn = raw[GO_CONTEXT_KEYS.nqn] ?? '';
  if (!isGoNqn(nqn)) problems.push(`"${GO_CONTEXT_KEYS.nqn}" is missing or not a valid NQN`);
  const nvmeAddress = raw[GO_CONTEXT_KEYS.nvmeAddress] ?? '';
  const traddr = nvmeAddress !== '' ? nvmeAddress : (raw[GO_CONTEXT_KEYS.rdsAddress] ?? '');
  if (traddr === '') {
    problems.push(
      `"${GO_CONTEXT_KEYS.nvmeAddress}" (or "${GO_CONTEXT_KEYS.rdsAddress}") is missing`,
    );
  } else if (net.isIP(traddr) === 0) {
    problems.push(`the NVMe address ${JSON.stringify(traddr)} is not an IP address`);
  }
  const portText = raw[GO_CONTEXT_KEYS.nvmePort] ?? '';
  const trsvcid = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(trsvcid >= 1 && trsvcid <= 65535)) {
    problems.push(`"${GO_CONTEXT_KEYS.nvmePort}" is missing or not a port number (1-65535)`);
  }
  const ctrlLossTmo = intKey(
    raw,
    GO_CONTEXT_KEYS.ctrlLossTmo,
    -1,
    GO_DEFAULTS.ctrlLossTmo,
    problems,
  );
  const reconnectDelay = intKey(
    raw,
    GO_CONTEXT_KEYS.reconnectDelay,
    0,
    GO_DEFAULTS.reconnectDelay,
    problems,
  );
  const keepAliveTmo = intKey(
    raw,
    GO_CONTEXT_KEYS.keepAliveTmo,
    0,
    GO_DEFAULTS.keepAliveTmo,
    problems,
  );
  if (problems.length > 0) {
    throw new InvalidArgumentError(`invalid volume_context: ${problems.join('; ')}`);
  }
  return {
    nqn,
    traddr,
    trsvcid,
    fsType: undefined,
    goDriver: goConnectTuning({ ctrlLossTmo, reconnectDelay, keepAliveTmo }),
  };
}
