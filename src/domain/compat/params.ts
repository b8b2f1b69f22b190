/**
 * StorageClass parameters as the Go driver reads them, for compatibility mode: a
 * StorageClass of the Go driver (its parameters are immutable) must keep provisioning with
 * the same defaults and the same validation. Pure.
 *
 * | key                       | default                | rule (as the Go driver)                       |
 * | `volumePath`              | the pool base path     | absolute-style path under the base path       |
 * | `nvmePort`                | 4420                   | leading integer, else 4420; must be a port    |
 * | `nvmeAddress`             | `rdsAddress`           | an address (the Go node needs an IP literal)  |
 * | `rdsAddress`              | the controller's RDS   | an address; only echoed into volume_context   |
 * | `ctrlLossTmo`             | -1                     | integer >= -1                                 |
 * | `reconnectDelay`          | 5                      | integer >= 1                                  |
 * | `keepAliveTmo`            | 0                      | integer >= 0                                  |
 * | `migrationTimeoutSeconds` | 300                    | non-number or <= 0 → 300; clamped to 30..3600 |
 *
 * `sshPort`, `nqnPrefix`, `fsType` (never read by the Go driver), `btrfsFSLabel` and
 * unknown keys are ignored, as there. Keys of this driver (`poolPath`, `hostFencing`, ...)
 * and `csi.storage.k8s.io/*` keep their own meaning. Problems are reported at once.
 */
import { InvalidArgumentError } from '../errors';
import { GO_DEFAULTS } from './context';
import {
  MIGRATION_TIMEOUT_RANGE,
  parseVolumeParams,
  PARAM,
  type ParamDefaults,
  type VolumeParams,
} from '../params';

export const GO_PARAM = Object.freeze({
  volumePath: 'volumePath',
  nvmeAddress: 'nvmeAddress',
  rdsAddress: 'rdsAddress',
  ctrlLossTmo: 'ctrlLossTmo',
  reconnectDelay: 'reconnectDelay',
  keepAliveTmo: 'keepAliveTmo',
});

/** Keys the Go driver declared or tolerated without reading them. */
const IGNORED = new Set(['sshPort', 'nqnPrefix', 'fsType', 'btrfsFSLabel']);

export const GO_DEFAULT_NVME_PORT = 4420;

/** NVMe connection tuning the Go node plugin reads from the volume_context. */
export interface GoConnectParams {
  readonly rdsAddress: string;
  readonly nvmeAddress: string;
  readonly ctrlLossTmo: number;
  readonly reconnectDelay: number;
  readonly keepAliveTmo: number;
}

export interface GoVolumeParams extends VolumeParams {
  readonly go: GoConnectParams;
  /** Keys that were ignored (for a log line; a typo must not vanish silently). */
  readonly ignoredKeys: readonly string[];
}

export interface GoParamDefaults extends ParamDefaults {
  /** The controller's RDS address (the Go `-rds-address`), echoed as `rdsAddress`. */
  readonly rdsAddress: string;
}

const ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;

function goInt(raw: string, name: string, min: number, problems: string[]): number | undefined {
  if (!/^-?\d{1,9}$/.test(raw.trim()) || Number(raw) < min) {
    problems.push(`${name} must be an integer >= ${min}`);
    return undefined;
  }
  return Number(raw);
}

/** `fmt.Sscanf("%d")`: the leading integer, or the default when there is none. */
function goPort(raw: string, problems: string[]): number {
  const m = /^\s*([+-]?\d+)/.exec(raw);
  const port = m ? Number(m[1]) : GO_DEFAULT_NVME_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`nvmePort must be a port number (1-65535)`);
    return GO_DEFAULT_NVME_PORT;
  }
  return port;
}

/** Non-numbers and values <= 0 fall back to 300; others are clamped to 30..3600. */
export function goMigrationTimeout(raw: string | undefined): number {
  const r = MIGRATION_TIMEOUT_RANGE;
  const n = raw === undefined ? NaN : Number(raw.trim());
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n <= 0) return r.dflt;
  return Math.round(Math.min(r.max, Math.max(r.min, n)));
}

function address(raw: string, name: string, problems: string[]): string | undefined {
  if (!ADDRESS.test(raw)) {
    problems.push(`${name} must be an IP address or host name`);
    return undefined;
  }
  return raw;
}

export function parseGoVolumeParams(
  raw: Readonly<Record<string, string>> | undefined,
  d: GoParamDefaults,
): GoVolumeParams {
  const own: Record<string, string> = {};
  const ignoredKeys: string[] = [];
  const problems: string[] = [];
  const p = raw ?? {};
  let rdsAddress = d.rdsAddress;
  let nvmeAddress: string | undefined;
  let nvmePort: number | undefined;
  const tuning: Record<keyof typeof GO_DEFAULTS, number> = { ...GO_DEFAULTS };
  for (const [key, value] of Object.entries(p)) {
    switch (key) {
      case GO_PARAM.volumePath:
        own[PARAM.poolPath] = value;
        break;
      case PARAM.nvmePort:
        nvmePort = goPort(value, problems);
        break;
      case GO_PARAM.nvmeAddress:
        nvmeAddress = address(value, key, problems);
        break;
      case GO_PARAM.rdsAddress:
        rdsAddress = address(value, key, problems) ?? rdsAddress;
        break;
      case GO_PARAM.ctrlLossTmo:
        tuning.ctrlLossTmo = goInt(value, key, -1, problems) ?? tuning.ctrlLossTmo;
        break;
      case GO_PARAM.reconnectDelay:
        tuning.reconnectDelay = goInt(value, key, 1, problems) ?? tuning.reconnectDelay;
        break;
      case GO_PARAM.keepAliveTmo:
        tuning.keepAliveTmo = goInt(value, key, 0, problems) ?? tuning.keepAliveTmo;
        break;
      case PARAM.migrationTimeoutSeconds:
        own[key] = String(goMigrationTimeout(value));
        break;
      case PARAM.poolPath:
      case PARAM.hostFencing:
        own[key] = value;
        break;
      default:
        if (key.startsWith('csi.storage.k8s.io/')) own[key] = value;
        else ignoredKeys.push(IGNORED.has(key) ? key : key.slice(0, 64));
    }
  }
  let base: VolumeParams | undefined;
  try {
    base = parseVolumeParams(own, d);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  if (problems.length > 0 || base === undefined) {
    throw new InvalidArgumentError(`invalid StorageClass parameters: ${problems.join('; ')}`);
  }
  return {
    ...base,
    nvmePort: nvmePort ?? base.nvmePort,
    go: { rdsAddress, nvmeAddress: nvmeAddress ?? rdsAddress, ...tuning },
    ignoredKeys: ignoredKeys.sort(),
  };
}
