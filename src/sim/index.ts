/**
 * rds-sim in-process API: start a RouterOS (RDS) simulator that speaks SSH on loopback.
 * Tests, `npm start` and the `rds-sim` bin all go through startSim.
 */
import { generateSshKeyPair } from './keys';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { utils, type ParsedKey } from 'ssh2';
import { nullLogger, type Logger } from '../observability/logger';
import { fingerprintOf } from '../routeros/fingerprint';
import { createFilesBackend, type SimBackend } from './backend';
import { runLine, type CliReply } from './cli';
import { FaultEngine, type SimFaults } from './faults';
import { PoolFiles } from './pool';
import { SshFront, type SimCommandLogEntry } from './ssh';
import { DiskStore } from './store';

export type { SimBackend } from './backend';
export { createFilesBackend } from './backend';
export { createNvmetBackend, type NvmetOptions } from './nvmet';
export type { SimFaultRule, SimFaults } from './faults';
export type { SimCommandLogEntry } from './ssh';

export interface SimOptions {
  /** Persistence + host key; a fresh temp dir (removed on stop) when absent. */
  stateDir?: string;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** OpenSSH public key lines (`ssh-ed25519 AAAA... comment`). */
  authorizedKeys: string[];
  /** Accepted base user names, default ['admin']. */
  users?: string[];
  /** Simulated RouterOS version, default '7.16'. */
  version?: string;
  /** Default 'rds-sim'. */
  identity?: string;
  /** The pool disk's mount-point, default 'storage-pool'. */
  poolMountPoint?: string;
  /** Default 1 TiB logical; `not enough space` beyond. */
  poolQuotaBytes?: number;
  /** Concurrent SSH sessions (exec channels) and logins, default 10. */
  maxSessions?: number;
  /** Default: files backend in <stateDir>/pool. */
  backend?: SimBackend;
  logger?: Logger;
  /** Where `failure:`/syntax-error text goes (default 'stdout', like ordinary output). */
  errorStream?: 'stdout' | 'stderr';
  /** Exit status of a failed command (default 0: classify on the text, not the status). */
  failureExitStatus?: number;
  /** How long a restart keeps refusing connections, like a device rebooting (default 0). */
  rebootMs?: number;
}

export interface RunningSim {
  readonly host: string;
  readonly port: number;
  /** `SHA256:<base64 without padding>` like OpenSSH. */
  readonly hostKeyFingerprint: string;
  readonly faults: SimFaults;
  readonly commandLog: readonly SimCommandLogEntry[];
  /** Where state, host key and the faults control file (`faults.json`) live. */
  readonly stateDir: string;
  /** Drops all connections and reloads state from disk (an RDS reboot). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const HOST_KEY_FILE = 'ssh_host_ed25519_key';
export const STATE_FILE = 'disks.json';
export const FAULTS_FILE = 'faults.json';

/** Load the ed25519 host key from the state dir, generating it on first start. */
export async function loadOrCreateHostKey(
  stateDir: string,
): Promise<{ pem: string; parsed: ParsedKey }> {
  const file = path.join(stateDir, HOST_KEY_FILE);
  let pem: string;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const pair = generateSshKeyPair('ed25519');
    pem = pair.private;
    await fs.writeFile(file, pem, { mode: 0o600, flag: 'wx' });
    await fs.writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  }
  const parsed = utils.parseKey(pem);
  if (parsed instanceof Error) throw new Error(`bad host key in ${file}: ${parsed.message}`);
  return { pem, parsed };
}

/** Parse authorized-keys lines; blank lines and `#` comments are skipped, bad lines throw. */
export function parseAuthorizedKeys(lines: readonly string[]): ParsedKey[] {
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const k = utils.parseKey(l);
      if (k instanceof Error) throw new Error(`bad authorized key: ${k.message}`);
      return k;
    });
}

/** A mutex: the device runs one command at a time against its disk table. */
function serial(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

export async function startSim(opts: SimOptions): Promise<RunningSim> {
  const ownDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'rds-sim-')));
  await fs.mkdir(stateDir, { recursive: true });
  const logger = opts.logger ?? nullLogger();
  const version = opts.version ?? '7.16';
  const identity = opts.identity ?? 'rds-sim';
  const backend = opts.backend ?? createFilesBackend({ poolDir: path.join(stateDir, 'pool') });
  const pool = new PoolFiles(backend.poolDir, opts.poolMountPoint ?? 'storage-pool');
  const store = new DiskStore({
    stateFile: path.join(stateDir, STATE_FILE),
    pool,
    quotaBytes: opts.poolQuotaBytes ?? 1024 ** 4,
    backend,
  });
  await store.load();
  const hostKey = await loadOrCreateHostKey(stateDir);
  const faults = new FaultEngine(path.join(stateDir, FAULTS_FILE));
  const commandLog: SimCommandLogEntry[] = [];
  const locked = serial();
  let bootTime = Date.now();
  let restarting: Promise<void> | undefined;

  const restart = (): Promise<void> => {
    restarting ??= (async () => {
      front.down = true;
      front.dropAll();
      await locked(() => store.load());
      if (opts.rebootMs) await new Promise((r) => setTimeout(r, opts.rebootMs));
      front.down = false;
      bootTime = Date.now();
      logger.info('simulator restarted');
    })().finally(() => {
      restarting = undefined;
    });
    return restarting;
  };

  const front: SshFront = new SshFront({
    hostKey: hostKey.pem,
    authorizedKeys: parseAuthorizedKeys(opts.authorizedKeys),
    users: opts.users ?? ['admin'],
    maxSessions: opts.maxSessions ?? 10,
    faults,
    logger,
    errorStream: opts.errorStream ?? 'stdout',
    failureExitStatus: opts.failureExitStatus ?? 0,
    run: (command, width): Promise<CliReply> =>
      locked(() =>
        runLine(command, {
          store,
          width,
          version,
          identity,
          uptimeSeconds: (Date.now() - bootTime) / 1000,
        }),
      ),
    log: (entry) => {
      commandLog.push(entry);
      logger.debug('command', { user: entry.user, command: entry.command, result: entry.result });
    },
    restart: () => {
      restart().catch((err: unknown) => logger.error('simulator restart failed', { err }));
    },
  });
  const addr = await front.listen(opts.host ?? '127.0.0.1', opts.port ?? 0);
  const hostKeyFingerprint = fingerprintOf(hostKey.parsed.getPublicSSH());
  logger.info('simulator listening', {
    host: addr.address,
    port: addr.port,
    hostKeyFingerprint,
    backend: backend.kind,
    stateDir,
  });

  let stopped = false;
  return {
    host: addr.address,
    port: addr.port,
    hostKeyFingerprint,
    faults,
    commandLog,
    stateDir,
    restart,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await front.close();
      await backend.close();
      if (ownDir) await fs.rm(stateDir, { recursive: true, force: true });
    },
  };
}
