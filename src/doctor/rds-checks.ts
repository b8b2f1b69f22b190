/**
 * RDS prerequisites, checked step by step on one short-lived SSH connection so each
 * failure names its layer: TCP, host key, login, RouterOS version, pool path, free space.
 * Read-only commands only.
 */
import * as net from 'node:net';
import { Client } from 'ssh2';
import { SYSTEM_RESOURCE, createBuilders } from '../routeros/commands';
import { formForVersion, parseDisks, parseFiles, parsePool, parseVersion } from '../routeros/parse';
import { fingerprintOf } from '../routeros/fingerprint';
import { goTakeoverChecks } from './compat-checks';
import type { CheckResult } from './report';
import { fail, pass, warn } from './report';

export interface RdsCheckOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string | Buffer;
  readonly hostKeyFingerprint: string | undefined;
  readonly insecureSkipHostKey: boolean;
  /** e.g. storage-pool/k8s; its first segment is the pool's mount point. */
  readonly poolPath: string;
  readonly timeoutMs?: number;
  /** Warn below this many free bytes (default 10 GiB). */
  readonly minFreeBytes?: number;
  /** Also run the Go driver takeover pre-checks (--compat=rds-csi-go). */
  readonly goCompat?: boolean;
}

type R = Omit<CheckResult, 'name'>;
const GiB = 1024 ** 3;

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}

function exec(conn: Client, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no reply to ${command} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    conn.exec(command, (err, stream) => {
      if (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString('utf8')));
      stream.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
      stream.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
  });
}

/** Runs the RDS checks in order; later layers are reported as skipped when an earlier one fails. */
export async function rdsChecks(o: RdsCheckOptions): Promise<CheckResult[]> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const results: CheckResult[] = [];
  const add = (name: string, r: R): void => {
    results.push({ name, ...r });
  };
  const skipRest = (names: string[], why: string): CheckResult[] => {
    for (const name of names) add(name, fail(`not checked: ${why}`, 'fix the first failure above'));
    return results;
  };
  const later = ['RDS host key', 'RDS login', 'RouterOS version', 'pool path', 'pool free space'];

  const tcp = await tcpProbe(o.host, o.port, timeoutMs);
  if (tcp) {
    add(
      'RDS reachable',
      fail(
        `${o.host}:${o.port}: ${tcp}`,
        'check --rds-address, the RDS SSH service (/ip service) and firewalls between the controller and the RDS',
      ),
    );
    return skipRest(later, 'RDS not reachable');
  }
  add('RDS reachable', pass(`${o.host}:${o.port} accepts TCP`));

  const conn = new Client();
  let seen: string | undefined;
  const connected = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(
      () => resolve(`SSH handshake did not finish within ${timeoutMs} ms`),
      timeoutMs,
    );
    conn.once('ready', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    // ssh2 may emit more than one error (e.g. a reset after a failed login): keep listening.
    conn.on('error', (err: Error & { level?: string }) => {
      clearTimeout(timer);
      resolve(err.level === 'client-authentication' ? 'authentication failed' : err.message);
    });
    conn.connect({
      host: o.host,
      port: o.port,
      username: `${o.user}+ct4096w`,
      privateKey: o.privateKey,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        return o.insecureSkipHostKey || seen === o.hostKeyFingerprint;
      },
    });
  });
  try {
    if (seen === undefined) {
      add(
        'RDS host key',
        fail(`no SSH host key received: ${connected ?? 'unknown'}`, 'is this port an SSH server?'),
      );
      return skipRest(later.slice(1), 'no SSH handshake');
    }
    if (o.hostKeyFingerprint === undefined) {
      add(
        'RDS host key',
        warn(
          `not pinned; the RDS presents ${seen}`,
          `pin it: --rds-host-key-fingerprint ${seen} (after checking it on the RDS console)`,
        ),
      );
    } else if (seen !== o.hostKeyFingerprint) {
      add(
        'RDS host key',
        fail(
          `the RDS presents ${seen}, pinned is ${o.hostKeyFingerprint}`,
          'if the RDS was reinstalled, verify the new key on its console and update the pin; otherwise something is intercepting the connection',
        ),
      );
      return skipRest(later.slice(1), 'host key mismatch');
    } else {
      add('RDS host key', pass(`matches the pin ${seen}`));
    }
    if (connected) {
      add(
        'RDS login',
        fail(
          `${o.user}: ${connected}`,
          `import the public key for user ${o.user} on the RDS (/user ssh-keys import) and check --rds-user/--rds-key-file`,
        ),
      );
      return skipRest(later.slice(2), 'login failed');
    }
    add('RDS login', pass(`logged in as ${o.user}`));

    const version = parseVersion(await exec(conn, SYSTEM_RESOURCE.text, timeoutMs));
    const form = formForVersion(version);
    const major = Number(/^(\d+)/.exec(version ?? '')?.[1] ?? NaN);
    if (!version || !(major >= 7)) {
      add(
        'RouterOS version',
        fail(
          `version ${version ?? 'unknown'}`,
          'RouterOS 7 with the ROSE storage package is required',
        ),
      );
    } else {
      add('RouterOS version', pass(`${version} (machine-readable output: ${form})`));
    }
    const b = createBuilders(o.poolPath);
    const mountPoint = b.basePath.split('/')[0]!;
    const pool = parsePool(await exec(conn, b.poolGet(mountPoint, form).text, timeoutMs), form);
    if (!pool) {
      add(
        'pool path',
        fail(
          `no disk is mounted at ${mountPoint}`,
          `check --rds-pool-path (its first segment must be the pool's mount-point; see /disk print)`,
        ),
      );
      return skipRest(['pool free space'], 'no pool');
    }
    const files = parseFiles(await exec(conn, b.fileList(b.basePath, form).text, timeoutMs), form);
    const images = files.filter((f) => f.path.endsWith('.img')).length;
    add(
      'pool path',
      pass(`${b.basePath} on the pool mounted at ${mountPoint} (${images} image files)`),
    );
    const min = o.minFreeBytes ?? 10 * GiB;
    const freeGiB = (pool.freeBytes / GiB).toFixed(1);
    add(
      'pool free space',
      pool.freeBytes >= min
        ? pass(`${freeGiB} GiB free of ${(pool.totalBytes / GiB).toFixed(1)} GiB`)
        : warn(
            `only ${freeGiB} GiB free`,
            'free space on the pool or grow it; new volumes will fail with RESOURCE_EXHAUSTED',
          ),
    );
    if (o.goCompat === true) {
      const disks = parseDisks(await exec(conn, b.diskList('', form).text, timeoutMs), form);
      results.push(...goTakeoverChecks(disks, files, b.basePath));
    }
    return results;
  } catch (err) {
    add(
      'RDS commands',
      fail(
        (err as Error).message,
        'check the RDS log (/log print) and the RouterOS user permissions',
      ),
    );
    return results;
  } finally {
    conn.end();
  }
}
