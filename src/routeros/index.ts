/**
 * The composition entry of the RouterOS adapter: validate a RouterOsConfig (all errors at
 * once), build the session, runner and port implementations. Only the composition root
 * (and tests) should call createRouterOsPorts; everything else sees the ports.
 */
import { InvalidArgumentError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import { SshCapacity, SshExports, SshFiles, SshVolumes } from './adapters';
import { SYSTEM_IDENTITY, SYSTEM_RESOURCE, createBuilders } from './commands';
import type { RouterOsConfig } from './config';
import { normalizeBasePath } from './grammar';
import { noMetrics, type RouterOsMetrics } from './metrics';
import { parseIdentity, parseVersion } from './parse';
import type { CallOptions, DeviceInfo, HealthPort, RouterOsPorts } from './ports';
import { createRunner, type CommandRunner } from './runner';
import { SshSession, type SessionOptions } from './session';

export type * from './ports';
export type { RouterOsConfig, OutputForm } from './config';
export { routerOsMetrics, noMetrics, type RouterOsMetrics } from './metrics';
export { fingerprintOf } from './fingerprint';

export interface RouterOsDeps {
  readonly logger: Logger;
  readonly metrics?: RouterOsMetrics;
  /** Jitter source for reconnect backoff, in [0, 1). */
  readonly random?: () => number;
}

/** The ports plus the session underneath (for diagnostics and tests). */
export interface RouterOsAdapter extends RouterOsPorts {
  readonly session: SshSession;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Validate a config; returns the session options and normalised paths, or throws all errors. */
export function resolveConfig(c: RouterOsConfig): {
  session: SessionOptions;
  basePath: string;
  mountPoint: string;
} {
  const errors: string[] = [];
  const check = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  };
  const positive = (name: string, v: number | undefined, dflt: number, min = 1): number => {
    const n = v ?? dflt;
    if (!Number.isInteger(n) || n < min) errors.push(`${name} must be an integer >= ${min}`);
    return n;
  };
  if (typeof c.host !== 'string' || c.host.trim() === '') errors.push('host is required');
  if (typeof c.user !== 'string' || !/^[A-Za-z0-9._@-]{1,64}$/.test(c.user)) {
    errors.push('user must be 1-64 characters of [A-Za-z0-9._@-]');
  }
  if (c.privateKey === undefined || c.privateKey.length === 0)
    errors.push('privateKey is required');
  const fp = c.hostKeyFingerprint;
  if (fp !== undefined && !FINGERPRINT.test(fp)) {
    errors.push('hostKeyFingerprint must look like SHA256:<43 base64 characters>');
  }
  if (fp === undefined && c.insecureSkipHostKey !== true) {
    errors.push('hostKeyFingerprint is required (or set insecureSkipHostKey explicitly)');
  }
  const basePath = check(() => normalizeBasePath(c.poolBasePath)) ?? '';
  const mountPoint =
    check(() => normalizeBasePath(c.poolMountPoint ?? basePath.split('/')[0] ?? '')) ?? '';
  const port = positive('port', c.port, 22);
  if (port > 65535) errors.push('port must be at most 65535');
  const session: SessionOptions = {
    host: c.host,
    port,
    username: c.consoleOptions === false ? c.user : `${c.user}+ct4096w`,
    privateKey: c.privateKey,
    ...(c.passphrase === undefined ? {} : { passphrase: c.passphrase }),
    ...(fp === undefined ? {} : { hostKeyFingerprint: fp }),
    insecureSkipHostKey: c.insecureSkipHostKey === true,
    commandTimeoutMs: positive('commandTimeoutMs', c.commandTimeoutMs, 30_000),
    connectTimeoutMs: positive('connectTimeoutMs', c.connectTimeoutMs, 15_000),
    maxChannels: positive('maxChannels', c.maxChannels, 4),
    livenessIntervalMs: positive('livenessIntervalMs', c.livenessIntervalMs, 30_000, 0),
    reconnectBaseMs: positive('reconnectBaseMs', c.reconnectBaseMs, 500),
    reconnectMaxMs: positive('reconnectMaxMs', c.reconnectMaxMs, 30_000),
    ...(c.outputForm === undefined ? {} : { outputForm: c.outputForm }),
  };
  if (errors.length > 0) {
    throw new InvalidArgumentError(`invalid RouterOS configuration: ${errors.join('; ')}`);
  }
  return { session, basePath, mountPoint };
}

class SshHealth implements HealthPort {
  constructor(
    private readonly run: CommandRunner,
    private readonly session: SshSession,
  ) {}
  get connected(): boolean {
    return this.session.connected;
  }
  async info(o?: CallOptions): Promise<DeviceInfo> {
    const version = parseVersion(await this.run.run(SYSTEM_RESOURCE, o)) ?? 'unknown';
    const identity = parseIdentity(await this.run.run(SYSTEM_IDENTITY, o)) ?? '';
    return { version, identity };
  }
  async ping(o?: CallOptions): Promise<void> {
    await this.run.run(SYSTEM_IDENTITY, o);
  }
  onReconnect(cb: () => void): () => void {
    return this.session.onReconnect(cb);
  }
}

/**
 * Build the SSH-backed ports. Throws InvalidArgumentError listing every config problem.
 * The connection starts at once in the background; calls wait for it (up to their timeout).
 */
export function createRouterOsPorts(config: RouterOsConfig, deps: RouterOsDeps): RouterOsAdapter {
  const { session: opts, basePath, mountPoint } = resolveConfig(config);
  const logger = deps.logger.child({ component: 'routeros' });
  const metrics = deps.metrics ?? noMetrics;
  const session = new SshSession(opts, {
    logger,
    metrics,
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  const run = createRunner(session, logger, metrics);
  const b = createBuilders(basePath);
  const volumes = new SshVolumes(run, b, logger);
  session.start();
  return {
    session,
    volumes,
    files: new SshFiles(run, b),
    capacity: new SshCapacity(run, b, mountPoint),
    exports: new SshExports(run, b, volumes),
    health: new SshHealth(run, session),
    close: () => session.close(),
  };
}
