/**
 * The volume_context and publish_context keys the Go driver wrote, so that a volume this
 * driver creates in compatibility mode carries them too (the Go node plugin, or anything
 * reading PVs, finds what it expects during a mixed rollout or after a rollback). The node
 * side reads these formats independently; the strings here are the contract. Pure.
 */
import type { GoConnectParams } from './params';

export const GO_CONTEXT_KEYS = Object.freeze({
  rdsAddress: 'rdsAddress',
  nvmeAddress: 'nvmeAddress',
  nvmePort: 'nvmePort',
  nqn: 'nqn',
  volumePath: 'volumePath',
  ctrlLossTmo: 'ctrlLossTmo',
  reconnectDelay: 'reconnectDelay',
  keepAliveTmo: 'keepAliveTmo',
  migrationTimeoutSeconds: 'migrationTimeoutSeconds',
});

/** The Go driver's defaults for the tuning keys (a PV older than them, a class without them). */
export const GO_DEFAULTS = Object.freeze({ ctrlLossTmo: -1, reconnectDelay: 5, keepAliveTmo: 0 });

export interface GoContextInput {
  readonly connect: GoConnectParams;
  readonly nvmePort: number;
  readonly nqn: string;
  /** Backing file as the device shows it (with or without a leading `/`). */
  readonly filePath: string;
  readonly migrationTimeoutSeconds: number;
}

/** The 9 keys, all decimal strings; `volumePath` is the full `.img` path with a leading `/`. */
export function goVolumeContext(i: GoContextInput): Record<string, string> {
  const k = GO_CONTEXT_KEYS;
  return {
    [k.rdsAddress]: i.connect.rdsAddress,
    [k.nvmeAddress]: i.connect.nvmeAddress,
    [k.nvmePort]: String(i.nvmePort),
    [k.nqn]: i.nqn,
    [k.volumePath]: '/' + i.filePath.replace(/^\/+/, ''),
    [k.ctrlLossTmo]: String(i.connect.ctrlLossTmo),
    [k.reconnectDelay]: String(i.connect.reconnectDelay),
    [k.keepAliveTmo]: String(i.connect.keepAliveTmo),
    [k.migrationTimeoutSeconds]: String(Math.round(i.migrationTimeoutSeconds)),
  };
}

export const GO_PUBLISH_KEYS = Object.freeze({
  nvmeAddress: 'nvme_address',
  nvmePort: 'nvme_port',
  nvmeNqn: 'nvme_nqn',
  fsType: 'fs_type',
});

export interface GoPublishInput {
  readonly nvmeAddress: string;
  /** The disk's export port and NQN as the RDS reports them. */
  readonly port: number;
  readonly nqn: string;
  /** The volume's filesystem; the Go driver always wrote `ext4` here. */
  readonly fsType: string | undefined;
}

export function goPublishContext(i: GoPublishInput): Record<string, string> {
  return {
    [GO_PUBLISH_KEYS.nvmeAddress]: i.nvmeAddress,
    [GO_PUBLISH_KEYS.nvmePort]: String(i.port),
    [GO_PUBLISH_KEYS.nvmeNqn]: i.nqn,
    [GO_PUBLISH_KEYS.fsType]: i.fsType ?? 'ext4',
  };
}
