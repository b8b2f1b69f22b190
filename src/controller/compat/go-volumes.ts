/**
 * Volumes in compatibility mode with the Go driver: its StorageClass keys, the extra
 * volume_context and publish_context keys it wrote, and how an existing Go disk is adopted
 * by an idempotent CreateVolume. Outside compatibility mode every function here is the
 * identity of this driver's own behaviour.
 */
import { GO_TOPOLOGY_KEY } from '../../domain/compat/mode';
import { goPublishContext, goVolumeContext } from '../../domain/compat/context';
import { parseGoVolumeParams, type GoConnectParams } from '../../domain/compat/params';
import { volumeNqn } from '../../domain/ids';
import { parseVolumeParams, type VolumeParams } from '../../domain/params';
import { TOPOLOGY_KEY } from '../../domain/topology';
import { VOLUME_CONTEXT_KEYS } from '../../domain/volume-context';
import type { Logger } from '../../observability/logger';
import type { Disk } from '../../routeros/ports';
import type { Call, ControllerDeps } from '../deps';
import { isAdoptedGoVolume } from './ownership';

export interface ParsedParams {
  readonly params: VolumeParams;
  /** Present in compatibility mode: what the Go keys asked for. */
  readonly go?: GoConnectParams;
}

/** StorageClass parameters by the rules of the mode (src/domain/compat/params.ts). */
export function parseParamsFor(
  deps: ControllerDeps,
  raw: Readonly<Record<string, string>> | undefined,
  log?: Logger,
): ParsedParams {
  const defaults = { poolBasePath: deps.config.poolBasePath, nvmePort: deps.config.nvmePort };
  const compat = deps.config.compat;
  if (compat === undefined) return { params: parseVolumeParams(raw, defaults) };
  const p = parseGoVolumeParams(raw, { ...defaults, rdsAddress: compat.rdsAddress });
  if (p.ignoredKeys.length > 0) {
    log?.info('StorageClass keys ignored, as the Go driver did', { keys: p.ignoredKeys });
  }
  return { params: p, go: p.go };
}

/** The topology key GetCapacity answers for. */
export function topologyKeyOf(deps: ControllerDeps): string {
  return deps.config.compat === undefined ? TOPOLOGY_KEY : GO_TOPOLOGY_KEY;
}

/**
 * Context keys added to this driver's own: the Go driver's 9 keys, and `traddr` from the
 * StorageClass `nvmeAddress` (the Go driver let a class name the data address).
 */
export function goContextOf(
  go: GoConnectParams,
  disk: Disk,
  params: VolumeParams,
): Record<string, string> {
  return {
    ...goVolumeContext({
      connect: go,
      nvmePort: disk.port ?? params.nvmePort,
      nqn: disk.nqn ?? volumeNqn(disk.slot),
      filePath: disk.filePath,
      migrationTimeoutSeconds: params.migrationTimeoutSeconds,
    }),
    [VOLUME_CONTEXT_KEYS.traddr]: go.nvmeAddress,
  };
}

/** publish_context keys the Go driver wrote (its node ignored them; tools may not). */
export function goPublishContextOf(
  deps: ControllerDeps,
  disk: Disk,
  volumeContext: Readonly<Record<string, string>>,
): Record<string, string> {
  if (deps.config.compat === undefined) return {};
  return goPublishContext({
    nvmeAddress: volumeContext[VOLUME_CONTEXT_KEYS.traddr] ?? deps.config.nvmeAddress,
    port: disk.port ?? deps.config.nvmePort,
    nqn: disk.nqn ?? volumeNqn(disk.slot),
    fsType: volumeContext[VOLUME_CONTEXT_KEYS.fsType],
  });
}

/**
 * An adopted Go disk found by CreateVolume: the Go driver sent sizes rounded DOWN to whole
 * units (1.5 GiB became `1G`), so its disk may be smaller than the capacity it reported.
 * Grow it to the size this request chooses (never shrink) before it is compared with the
 * request. Returns the disk as it is now, and whether it is an adopted Go volume.
 */
export async function adoptGoDisk(
  deps: ControllerDeps,
  disk: Disk,
  sizeBytes: number,
  call: Call,
): Promise<{ disk: Disk; adopted: boolean }> {
  if (!isAdoptedGoVolume(deps, disk)) return { disk, adopted: false };
  if (disk.sizeBytes >= sizeBytes) return { disk, adopted: true };
  call.log.info('growing an adopted Go volume to the size it was promised', {
    volumeId: disk.slot,
    sizeBytes: disk.sizeBytes,
    wantBytes: sizeBytes,
  });
  return {
    disk: await deps.volumes.resize(disk.slot, sizeBytes, { signal: call.signal }),
    adopted: true,
  };
}
