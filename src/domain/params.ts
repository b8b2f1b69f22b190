/**
 * StorageClass parameters (CreateVolume / GetCapacity `parameters`). Every key is known:
 * an unknown key is INVALID_ARGUMENT naming it (a typo must not silently fall back to a
 * default). Keys under `csi.storage.k8s.io/` are added by the external-provisioner
 * (`--extra-create-metadata`: pvc/name, pvc/namespace, pv/name) and are accepted; the PVC
 * name and namespace are recorded in the volume context for events. All problems are
 * reported at once. Pure. The table in src/controller/README.md documents each parameter.
 */
import { InvalidArgumentError } from './errors';
import { isFsType, SUPPORTED_FS_TYPES, type FsType } from './volume-context';

export const PARAM = Object.freeze({
  poolPath: 'poolPath',
  nvmePort: 'nvmePort',
  fsType: 'fsType',
  migrationTimeoutSeconds: 'migrationTimeoutSeconds',
  hostFencing: 'hostFencing',
});

export const PROVISIONER_PREFIX = 'csi.storage.k8s.io/';
export const PVC_NAME_KEY = 'csi.storage.k8s.io/pvc/name';
export const PVC_NAMESPACE_KEY = 'csi.storage.k8s.io/pvc/namespace';
export const PV_NAME_KEY = 'csi.storage.k8s.io/pv/name';
/** The provisioner's fstype key (normally stripped by it; honoured when it arrives). */
const PROVISIONER_FSTYPE_KEY = 'csi.storage.k8s.io/fstype';

export const MIGRATION_TIMEOUT_RANGE = Object.freeze({ min: 30, max: 3600, dflt: 300 });

export interface ParamDefaults {
  /** Configured pool base path (normalised: no leading or trailing `/`). */
  readonly poolBasePath: string;
  readonly nvmePort: number;
}

export interface VolumeParams {
  /** Directory of the backing files: the base path or a directory under it. */
  readonly poolPath: string;
  readonly nvmePort: number;
  /** Named by the StorageClass; undefined = the capability's fs_type or the node default. */
  readonly fsType: FsType | undefined;
  readonly migrationTimeoutSeconds: number;
  readonly hostFencing: boolean;
  readonly pvc?: { readonly namespace: string; readonly name: string };
  readonly pvName?: string;
}

const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/;

function poolPathOf(raw: string, base: string, problems: string[]): string {
  const p = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  const segments = p.split('/');
  const ok =
    p.length > 0 &&
    p.length <= 400 &&
    segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
  if (!ok || (p !== base && !p.startsWith(base + '/'))) {
    problems.push(
      `${PARAM.poolPath} must be ${base} or a directory under it (segments of [A-Za-z0-9._-])`,
    );
    return base;
  }
  if (segments.includes('snapshots')) {
    problems.push(`${PARAM.poolPath} must not contain a "snapshots" directory (reserved)`);
  }
  return p;
}

function intParam(
  raw: string,
  name: string,
  min: number,
  max: number,
  problems: string[],
): number | undefined {
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return Number(raw);
}

export function parseVolumeParams(
  raw: Readonly<Record<string, string>> | undefined,
  d: ParamDefaults,
): VolumeParams {
  const params = raw ?? {};
  const problems: string[] = [];
  let poolPath = d.poolBasePath;
  let nvmePort = d.nvmePort;
  let fsType: FsType | undefined;
  let migrationTimeoutSeconds: number = MIGRATION_TIMEOUT_RANGE.dflt;
  let hostFencing = false;
  for (const [key, value] of Object.entries(params).sort(([a], [b]) => a.localeCompare(b))) {
    switch (key) {
      case PARAM.poolPath:
        poolPath = poolPathOf(value, d.poolBasePath, problems);
        break;
      case PARAM.nvmePort:
        nvmePort = intParam(value, key, 1, 65535, problems) ?? nvmePort;
        break;
      case PARAM.fsType:
      case PROVISIONER_FSTYPE_KEY:
        if (value === '') break;
        if (isFsType(value)) fsType = value;
        else problems.push(`${key} must be one of ${SUPPORTED_FS_TYPES.join(', ')}`);
        break;
      case PARAM.migrationTimeoutSeconds: {
        const r = MIGRATION_TIMEOUT_RANGE;
        migrationTimeoutSeconds = intParam(value, key, r.min, r.max, problems) ?? r.dflt;
        break;
      }
      case PARAM.hostFencing:
        if (value === 'true' || value === 'false') hostFencing = value === 'true';
        else problems.push(`${PARAM.hostFencing} must be "true" or "false"`);
        break;
      default:
        if (!key.startsWith(PROVISIONER_PREFIX)) {
          problems.push(`unknown parameter "${printable(key)}"`);
        }
    }
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(`invalid StorageClass parameters: ${problems.join('; ')}`);
  }
  const pvcName = params[PVC_NAME_KEY];
  const pvcNamespace = params[PVC_NAMESPACE_KEY];
  const pvName = params[PV_NAME_KEY];
  return {
    poolPath,
    nvmePort,
    fsType,
    migrationTimeoutSeconds,
    hostFencing,
    ...(pvcName && pvcNamespace ? { pvc: { namespace: pvcNamespace, name: pvcName } } : {}),
    ...(pvName ? { pvName } : {}),
  };
}

/** A key as it may appear in an error message: printable ASCII, at most 64 characters. */
function printable(key: string): string {
  const clean = key.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 64 ? clean.slice(0, 64) + '...' : clean;
}
