/**
 * The embedded simulator behind `rds-csi serve --sim` and `npm start`: an in-process
 * rds-sim on loopback with a client key kept in its state dir (so a person can also ssh
 * into it), and the RouterOS settings that point the driver at it with the host key pinned.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger';
import type { RouterOsConfig } from '../routeros/config';
import { startSim, type RunningSim } from './index';
import { generateSshKeyPair } from './keys';

export interface EmbeddedSimOptions {
  readonly stateDir: string;
  /** Pool base path the driver uses, e.g. storage-pool/k8s; its first segment is the mount point. */
  readonly poolPath: string;
  readonly commandTimeoutMs: number;
  readonly logger: Logger;
}

export async function startEmbeddedSim(
  o: EmbeddedSimOptions,
): Promise<{ sim: RunningSim; routeros: RouterOsConfig }> {
  const dir = o.stateDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'client_ed25519_key');
  if (!existsSync(keyFile)) {
    const pair = generateSshKeyPair('ed25519', 'rds-csi embedded sim client');
    writeFileSync(keyFile, pair.private, { mode: 0o600 });
    writeFileSync(`${keyFile}.pub`, `${pair.public}\n`, { mode: 0o644 });
  }
  const privateKey = readFileSync(keyFile, 'utf8');
  const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const mountPoint = o.poolPath.split('/')[0]!;
  const sim = await startSim({
    stateDir: dir,
    authorizedKeys: [publicKey],
    poolMountPoint: mountPoint,
    logger: o.logger.child({ component: 'rds-sim' }),
  });
  o.logger.info('embedded rds-sim started', {
    address: `${sim.host}:${sim.port}`,
    hostKeyFingerprint: sim.hostKeyFingerprint,
    stateDir: dir,
    try: `ssh -i ${keyFile} -p ${sim.port} admin@${sim.host} '/disk print detail'`,
  });
  return {
    sim,
    routeros: {
      host: sim.host,
      port: sim.port,
      user: 'admin',
      privateKey,
      hostKeyFingerprint: sim.hostKeyFingerprint,
      poolBasePath: o.poolPath,
      poolMountPoint: mountPoint,
      commandTimeoutMs: o.commandTimeoutMs,
    },
  };
}
