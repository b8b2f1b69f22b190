/**
 * GetCapacity: free bytes of the pool. Volumes are sparse files, so free space is what a
 * new volume can safely be given; it is also reported as maximum_volume_size. A topology
 * naming another RDS has no capacity here. Parameters are validated like CreateVolume's.
 */
import { parseParamsFor, topologyKeyOf } from './compat/go-volumes';
import type { Call, ControllerDeps } from './deps';

export interface CapacityView {
  readonly availableBytes: number;
  readonly maximumVolumeBytes: number;
  readonly minimumVolumeBytes: number;
}

export async function getCapacity(
  deps: ControllerDeps,
  parameters: Readonly<Record<string, string>>,
  topology: Readonly<Record<string, string>> | undefined,
  call: Call,
): Promise<CapacityView> {
  parseParamsFor(deps, parameters);
  const minimumVolumeBytes = deps.config.minVolumeBytes;
  const segment = topology?.[topologyKeyOf(deps)];
  if (segment !== undefined && segment !== deps.config.topologyValue) {
    return { availableBytes: 0, maximumVolumeBytes: 0, minimumVolumeBytes };
  }
  const pool = await deps.capacity.pool({ signal: call.signal });
  const free = Math.max(0, pool.freeBytes);
  return { availableBytes: free, maximumVolumeBytes: free, minimumVolumeBytes };
}
