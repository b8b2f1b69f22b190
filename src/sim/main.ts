#!/usr/bin/env node
/**
 * `rds-sim`: run the RouterOS (RDS) simulator as a process. Exit 0 on SIGTERM/SIGINT after
 * a clean stop, 1 on a startup error, 2 on bad flags.
 */
import { generateSshKeyPair } from './keys';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS, type LogLevel } from '../observability/logger';
import { createFilesBackend, createNvmetBackend, startSim, type SimOptions } from './index';
import { parseFileSize } from './values';

const HELP = `Usage: rds-sim [options]

A RouterOS (MikroTik ROSE Data Server) simulator speaking SSH.

  --listen HOST:PORT        address to listen on (default 127.0.0.1:2222)
  --state DIR               state dir: disks, images, host key, faults.json (default ./rds-sim-state)
  --authorized-keys FILE    OpenSSH public keys allowed to log in; when absent, a client
                            key pair is generated once in the state dir (client_ed25519_key)
  --users LIST              accepted user names, comma separated (default admin)
  --version V               simulated RouterOS version (default 7.16)
  --identity NAME           /system identity name (default rds-sim)
  --pool-mount-point NAME   the pool disk's mount-point (default storage-pool)
  --pool-quota SIZE         logical pool size, bytes or with K/M/G/T (default 1T)
  --max-sessions N          concurrent SSH sessions (default 10)
  --backend files|nvmet     files only (default) or Linux kernel NVMe target via configfs
  --nvmet-addr ADDR         traddr the nvmet ports listen on (default 127.0.0.1)
  --nvmet-configfs DIR      configfs mount (default /sys/kernel/config)
  --nvmet-buffered-io auto|yes|no   (default auto: yes when the pool is on tmpfs)
  --log-level LEVEL         trace|debug|info|warn|error (default info)
  --help                    this text
`;

function fail(msg: string): never {
  process.stderr.write(`rds-sim: ${msg}\n\n${HELP}`);
  process.exit(2);
}

async function clientKeys(stateDir: string): Promise<{ keys: string[]; generated?: string }> {
  const file = path.join(stateDir, 'client_ed25519_key');
  try {
    return { keys: [await fs.readFile(`${file}.pub`, 'utf8')], generated: file };
  } catch {
    const pair = generateSshKeyPair('ed25519', 'rds-sim client');
    await fs.writeFile(file, pair.private, { mode: 0o600 });
    await fs.writeFile(`${file}.pub`, `${pair.public}\n`);
    return { keys: [pair.public], generated: file };
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        listen: { type: 'string', default: '127.0.0.1:2222' },
        state: { type: 'string', default: 'rds-sim-state' },
        'authorized-keys': { type: 'string' },
        users: { type: 'string', default: 'admin' },
        version: { type: 'string', default: '7.16' },
        identity: { type: 'string', default: 'rds-sim' },
        'pool-mount-point': { type: 'string', default: 'storage-pool' },
        'pool-quota': { type: 'string', default: '1T' },
        'max-sessions': { type: 'string', default: '10' },
        backend: { type: 'string', default: 'files' },
        'nvmet-addr': { type: 'string', default: '127.0.0.1' },
        'nvmet-configfs': { type: 'string', default: '/sys/kernel/config' },
        'nvmet-buffered-io': { type: 'string', default: 'auto' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const m = /^(.*):(\d+)$/.exec(values.listen);
  if (!m) fail(`--listen must be HOST:PORT, got ${values.listen}`);
  const quota = parseFileSize(values['pool-quota']);
  if (quota === undefined) fail(`--pool-quota: not a size: ${values['pool-quota']}`);
  const maxSessions = Number(values['max-sessions']);
  if (!Number.isInteger(maxSessions) || maxSessions < 1)
    fail('--max-sessions must be a positive integer');
  const level = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) fail(`--log-level must be one of ${LOG_LEVELS.join('|')}`);
  if (values.backend !== 'files' && values.backend !== 'nvmet')
    fail('--backend must be files or nvmet');
  const bio = values['nvmet-buffered-io'];
  if (!['auto', 'yes', 'no'].includes(bio)) fail('--nvmet-buffered-io must be auto, yes or no');

  const logger = createLogger({ level, bindings: { component: 'rds-sim' } });
  const stateDir = path.resolve(values.state);
  await fs.mkdir(stateDir, { recursive: true });
  const poolDir = path.join(stateDir, 'pool');
  await fs.mkdir(poolDir, { recursive: true });
  const auth = values['authorized-keys']
    ? { keys: (await fs.readFile(values['authorized-keys'], 'utf8')).split('\n') }
    : await clientKeys(stateDir);
  const backend =
    values.backend === 'nvmet'
      ? createNvmetBackend({
          poolDir,
          configfsRoot: values['nvmet-configfs'],
          traddr: values['nvmet-addr'],
          bufferedIo: bio === 'auto' ? 'auto' : bio === 'yes',
        })
      : createFilesBackend({ poolDir });
  const opts: SimOptions = {
    stateDir,
    host: m[1],
    port: Number(m[2]),
    authorizedKeys: auth.keys,
    users: values.users.split(',').filter((u) => u !== ''),
    version: values.version,
    identity: values.identity,
    poolMountPoint: values['pool-mount-point'],
    poolQuotaBytes: quota,
    maxSessions,
    backend,
    logger,
  };
  const sim = await startSim(opts);
  const keyHint = auth.generated ? ` -i ${auth.generated}` : '';
  process.stdout.write(
    `rds-sim listening on ${sim.host}:${sim.port}\n` +
      `host key fingerprint: ${sim.hostKeyFingerprint}\n` +
      `try: ssh${keyHint} -p ${sim.port} admin@${sim.host} '/disk print detail'\n`,
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    sim.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`rds-sim: ${(err as Error).message}\n`);
  process.exit(1);
});
