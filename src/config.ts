/**
 * Flags and environment → one frozen, validated Config. Every problem is collected and
 * reported together (ConfigError lists them all); nothing here reads process.env or argv
 * except through the arguments passed in.
 */
import { parseArgs } from 'node:util';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from './csi/endpoint';
import { parseEndpoint } from './csi/endpoint';
import type { LogLevel } from './observability/logger';
import { LOG_LEVELS } from './observability/logger';
import { SERVE_FLAGS, type FlagSpec, type Kind } from './config-flags';
import { managedPrefixFromGo } from './domain/compat/nqn-prefix';
import {
  COMPAT_MODES,
  GO_DEFAULT_VOLUME_PATH,
  GO_DRIVER_NAME,
  GO_TOPOLOGY_KEY,
  isCompatMode,
  type CompatMode,
} from './domain/compat/mode';
import { TOPOLOGY_KEY } from './domain/topology';

export { SERVE_FLAGS, serveHelp } from './config-flags';

export type Mode = 'controller' | 'node' | 'all';
const MODES: readonly Mode[] = ['controller', 'node', 'all'];

export interface RdsConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly keyFile: string;
  readonly hostKeyFingerprint: string | undefined;
  /** File with the pinned host key as a key line or blob (the fingerprint is computed from it). */
  readonly hostKeyFile: string | undefined;
  readonly insecureSkipHostKey: boolean;
  /** Directory on the RDS that holds the volumes' image files, without a leading slash. */
  readonly poolPath: string;
  /** Address the nodes use for NVMe/TCP (defaults to the SSH host). */
  readonly nvmeAddress: string;
  readonly nvmePort: number;
  readonly commandTimeoutMs: number;
}

export interface NodeConfig {
  readonly kubeletDir: string;
  readonly maxVolumesPerNode: number;
  readonly cleanupOrphans: boolean;
  /** Subsystems the node may disconnect; undefined = every RDS subsystem (MIKROTIK_NQN_BASE). */
  readonly managedNqnPrefix: string | undefined;
}

export interface KubeSettings {
  /** Where the API server is; undefined = no Kubernetes (development, --sim). */
  readonly source:
    { readonly kind: 'in-cluster' } | { readonly kind: 'file'; readonly path: string } | undefined;
  readonly graceMs: number;
  readonly nodeGoneGraceMs: number;
  readonly reconcileIntervalMs: number;
  /** Leader election among controller replicas; undefined = off. */
  readonly leaderElection: { readonly namespace: string; readonly identity: string } | undefined;
  /** This replica's name (POD_NAME, else the host name): events' reportingInstance. */
  readonly instance: string;
}

export interface Config {
  readonly mode: Mode;
  readonly endpoint: Endpoint;
  readonly nodeId: string;
  readonly driverName: string;
  /** `rds-csi-go`: take over a Go rds-csi installation (docs/migration-from-go-driver.md). */
  readonly compat: CompatMode;
  /** Key of the topology segment (`topology.rds.csi.srvlab.io/zone` in compat mode). */
  readonly topologyKey: string;
  readonly logLevel: LogLevel;
  /** undefined disables the metrics/health HTTP server. */
  readonly metricsAddress: { readonly host: string; readonly port: number } | undefined;
  readonly sim: boolean;
  /** Value of the topology segment; controller and nodes of one RDS must agree. */
  readonly topologyValue: string;
  readonly minVolumeBytes: number;
  /** Advertise the alpha GET_SNAPSHOT controller capability (opt-in; the RPC works regardless). */
  readonly advertiseGetSnapshot: boolean;
  /** State directory of the embedded simulator (disks, images, host and client keys). */
  readonly simStateDir: string;
  readonly rds: RdsConfig;
  readonly node: NodeConfig;
  readonly kube: KubeSettings;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, string | boolean | undefined>;

function collect(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): Raw {
  const options: Record<string, { type: Kind }> = {};
  for (const f of SERVE_FLAGS) options[f.name] = { type: f.kind };
  const parsed = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true });
  const values = parsed.values as Raw;
  for (const p of parsed.positionals) problems.push(`unexpected argument "${p}"`);
  for (const [name, v] of Object.entries(values)) {
    const spec = SERVE_FLAGS.find((f) => f.name === name);
    if (!spec) problems.push(`unknown flag --${name}`);
    else if (spec.kind === 'string' && typeof v !== 'string') {
      problems.push(`--${name} (${spec.env}): needs a value`);
      values[name] = undefined;
    } else if (spec.kind === 'boolean' && typeof v !== 'boolean') {
      problems.push(`--${name} (${spec.env}): takes no value`);
    }
  }
  const raw: Raw = {};
  for (const f of SERVE_FLAGS) {
    const fromEnv = env[f.env];
    let v =
      values[f.name] ??
      (fromEnv !== undefined
        ? f.kind === 'boolean'
          ? parseBool(fromEnv, f, problems)
          : fromEnv
        : undefined);
    v ??= f.default;
    raw[f.name] = v;
  }
  return raw;
}

function parseBool(v: string, f: FlagSpec, problems: string[]): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off|)$/i.test(v)) return false;
  problems.push(`--${f.name} (${f.env}): expected true or false, got "${v}"`);
  return false;
}

/** Parses `30s`, `500ms`, `2m` or a bare number of seconds into milliseconds. */
export function parseDuration(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(
    n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'],
  );
}

function parseHostPort(v: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

const DRIVER_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const POOL_PATH = /^\/?[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/;

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const problems: string[] = [];
  const raw = collect(argv, env, problems);
  const str = (name: string): string => (typeof raw[name] === 'string' ? raw[name] : '');
  const bool = (name: string): boolean => raw[name] === true;
  const bad = (name: string, why: string): void => {
    const f = SERVE_FLAGS.find((x) => x.name === name)!;
    problems.push(`--${name} (${f.env}): ${why}`);
  };

  const sim = bool('sim');
  const mode = str('mode') as Mode;
  if (!MODES.includes(mode))
    bad('mode', `must be one of ${MODES.join(', ')}, got "${str('mode')}"`);
  const controllerSide = mode !== 'node';

  const endpointText =
    sim && argvOrEnvMissing('endpoint', argv, env)
      ? `unix://${join(tmpdir(), 'rds-csi', 'csi.sock')}`
      : str('endpoint');
  const parsedEndpoint = parseEndpoint(endpointText);
  if ('error' in parsedEndpoint) bad('endpoint', parsedEndpoint.error);

  const nodeId = str('node-id') || hostname();
  if (!/^[A-Za-z0-9]([-A-Za-z0-9._]{0,251}[A-Za-z0-9])?$/.test(nodeId))
    bad('node-id', `not a valid node name: "${nodeId}"`);

  const compat = str('compat');
  if (!isCompatMode(compat)) bad('compat', `must be one of ${COMPAT_MODES.join(', ')}`);
  const goCompat = compat === 'rds-csi-go';
  // Compatibility mode changes defaults only; an explicit flag still wins.
  const driverName =
    goCompat && argvOrEnvMissing('driver-name', argv, env) ? GO_DRIVER_NAME : str('driver-name');
  if (!DRIVER_NAME.test(driverName))
    bad('driver-name', `must be a DNS-style name of at most 63 characters, got "${driverName}"`);

  const logLevel = str('log-level') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) bad('log-level', `must be one of ${LOG_LEVELS.join(', ')}`);

  let metricsAddress: Config['metricsAddress'];
  if (str('metrics-address') !== '') {
    metricsAddress = parseHostPort(str('metrics-address'), 9809);
    if (!metricsAddress)
      bad('metrics-address', `expected [host]:port, got "${str('metrics-address')}"`);
    else if (!metricsAddress.host) metricsAddress = { host: '0.0.0.0', port: metricsAddress.port };
  }

  const rdsAddr = str('rds-address') ? parseHostPort(str('rds-address'), 22) : undefined;
  if (str('rds-address') && !rdsAddr?.host)
    bad('rds-address', `expected host[:port], got "${str('rds-address')}"`);
  if (controllerSide && !sim) {
    if (!str('rds-address')) bad('rds-address', 'required in controller mode (or use --sim)');
    if (!str('rds-key-file')) bad('rds-key-file', 'required in controller mode (or use --sim)');
    const pinned = str('rds-host-key-fingerprint') || str('rds-host-key-file');
    if (!pinned && !bool('rds-insecure-skip-host-key')) {
      bad(
        'rds-host-key-fingerprint',
        'required to pin the RDS host key (or --rds-host-key-file, or --rds-insecure-skip-host-key)',
      );
    }
  }
  const fp = str('rds-host-key-fingerprint');
  if (fp && !FINGERPRINT.test(fp))
    bad('rds-host-key-fingerprint', `expected SHA256:<43 base64 characters>, got "${fp}"`);
  if (fp && str('rds-host-key-file'))
    bad('rds-host-key-file', 'give either --rds-host-key-fingerprint or --rds-host-key-file');
  const poolPath =
    goCompat && argvOrEnvMissing('rds-pool-path', argv, env)
      ? GO_DEFAULT_VOLUME_PATH
      : str('rds-pool-path');
  if (!POOL_PATH.test(poolPath) || poolPath.split('/').some((p) => p === '..' || p === '.')) {
    bad('rds-pool-path', `must be a plain relative path like storage-pool/k8s, got "${poolPath}"`);
  }
  const nvmePort = Number(str('rds-nvme-port'));
  if (!Number.isInteger(nvmePort) || nvmePort < 1 || nvmePort > 65535)
    bad('rds-nvme-port', 'must be a port number');
  const commandTimeoutMs = parseDuration(str('rds-command-timeout'));
  if (commandTimeoutMs === undefined || commandTimeoutMs < 100)
    bad('rds-command-timeout', 'expected a duration like 30s (at least 100ms)');
  const maxVolumes = Number(str('max-volumes-per-node'));
  if (!Number.isInteger(maxVolumes) || maxVolumes < 0)
    bad('max-volumes-per-node', 'must be a whole number >= 0');
  const topologyValue = str('topology-value');
  if (!/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(topologyValue) || !topologyValue) {
    bad('topology-value', 'must be a Kubernetes label value (1-63 characters)');
  }
  const minVolumeBytes = Number(str('min-volume-size'));
  if (!Number.isSafeInteger(minVolumeBytes) || minVolumeBytes < 1024 * 1024) {
    bad('min-volume-size', 'must be a byte count of at least 1048576');
  }
  const graceMs = parseDuration(str('attach-grace-period'));
  if (graceMs === undefined) bad('attach-grace-period', 'expected a duration like 30s');
  const nodeGoneGraceMs = parseDuration(str('node-gone-grace'));
  if (nodeGoneGraceMs === undefined) bad('node-gone-grace', 'expected a duration like 2m');
  const reconcileIntervalMs = parseDuration(str('reconcile-interval'));
  if (reconcileIntervalMs === undefined || reconcileIntervalMs < 1000) {
    bad('reconcile-interval', 'expected a duration like 5m (at least 1s)');
  }
  const kubeSource: KubeSettings['source'] = str('kubeconfig')
    ? { kind: 'file', path: str('kubeconfig') }
    : env.KUBERNETES_SERVICE_HOST
      ? { kind: 'in-cluster' }
      : undefined;
  const leaderElection = bool('leader-election');
  if (leaderElection && !str('leader-election-namespace')) {
    bad(
      'leader-election-namespace',
      'required with --leader-election (set POD_NAMESPACE from the downward API)',
    );
  }
  if (leaderElection && !kubeSource)
    bad('leader-election', 'needs Kubernetes (in-cluster or --kubeconfig)');
  let managedNqnPrefix: string | undefined;
  if (str('managed-nqn-prefix') !== '') {
    const m = managedPrefixFromGo(str('managed-nqn-prefix'));
    if ('error' in m) bad('managed-nqn-prefix', m.error);
    else managedNqnPrefix = m.prefix;
  }
  const kubeletDir = str('kubelet-dir');
  if (!kubeletDir.startsWith('/')) bad('kubelet-dir', 'must be an absolute path');

  if (problems.length) throw new ConfigError(problems);
  const host = rdsAddr?.host ?? '127.0.0.1';
  return deepFreeze({
    mode,
    endpoint: parsedEndpoint as Endpoint,
    nodeId,
    driverName,
    compat: compat as CompatMode,
    topologyKey: goCompat ? GO_TOPOLOGY_KEY : TOPOLOGY_KEY,
    logLevel,
    metricsAddress,
    sim,
    simStateDir: str('sim-state') || join(tmpdir(), 'rds-csi', 'sim'),
    rds: {
      host,
      port: rdsAddr?.port ?? 22,
      user: str('rds-user'),
      keyFile: str('rds-key-file'),
      hostKeyFingerprint: fp || undefined,
      hostKeyFile: str('rds-host-key-file') || undefined,
      insecureSkipHostKey: bool('rds-insecure-skip-host-key'),
      poolPath: poolPath.replace(/^\/|\/$/g, ''),
      nvmeAddress: str('rds-nvme-address') || host,
      nvmePort,
      commandTimeoutMs: commandTimeoutMs!,
    },
    topologyValue,
    minVolumeBytes,
    advertiseGetSnapshot: bool('advertise-get-snapshot'),
    node: {
      kubeletDir,
      maxVolumesPerNode: maxVolumes,
      cleanupOrphans: bool('cleanup-orphans'),
      managedNqnPrefix,
    },
    kube: {
      source: kubeSource,
      graceMs: graceMs!,
      nodeGoneGraceMs: nodeGoneGraceMs!,
      reconcileIntervalMs: reconcileIntervalMs!,
      leaderElection: leaderElection
        ? { namespace: str('leader-election-namespace'), identity: env.POD_NAME || hostname() }
        : undefined,
      instance: env.POD_NAME || hostname(),
    },
  });
}

function argvOrEnvMissing(
  name: string,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const f = SERVE_FLAGS.find((x) => x.name === name)!;
  return (
    env[f.env] === undefined && !argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  );
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
