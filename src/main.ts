#!/usr/bin/env node
/**
 * Entry point: `rds-csi serve|version|help`. Exit codes: 0 clean stop, 1 runtime failure
 * (logged), 2 bad usage or configuration (the message names the flag).
 */
import { resolveRdsTarget, startApp } from './app';
import { ConfigError, loadConfig, serveHelp, type Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { buildInfo } from './paths';

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

export const USAGE = `rds-csi: Kubernetes CSI driver for MikroTik ROSE Data Server (NVMe/TCP)

Usage:
  rds-csi serve [flags]     run the CSI plugin (controller, node or both)
  rds-csi doctor [flags]    check this node and/or the RDS for the given --mode; same flags
  rds-csi version           print the version
  rds-csi help              print this help

Try it without hardware: rds-csi serve --mode all --sim --endpoint unix:///tmp/csi.sock

serve flags (each can also be set by the environment variable shown):
`;

export function help(): string {
  return `${USAGE}${serveHelp()}\n`;
}

/** Waits for SIGTERM or SIGINT; a second signal during shutdown forces exit. */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.removeListener('SIGTERM', on);
      process.removeListener('SIGINT', on);
      const force = (): void => process.exit(1);
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(help());
    return command === undefined ? 2 : 0;
  }
  if (command === 'version' || command === '--version') {
    const b = buildInfo();
    io.out(`rds-csi ${b.version} (commit ${b.commit})\n`);
    return 0;
  }
  if (command !== 'serve' && command !== 'doctor') {
    io.err(`rds-csi: unknown command "${command}"; see rds-csi help\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(help());
    return 0;
  }
  let config;
  try {
    config = loadConfig(rest, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`rds-csi: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, bindings: { component: 'rds-csi' } });
  if (command === 'doctor') return doctor(config, env, io, logger);
  let app;
  try {
    app = await startApp(config, logger);
  } catch (err) {
    logger.error('startup failed', { err });
    return 1;
  }
  const signal = await waitForSignal();
  logger.info('shutting down', { signal });
  await app.stop();
  logger.info('stopped');
  return 0;
}

async function doctor(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
  logger: Logger,
): Promise<number> {
  const target = config.mode === 'node' ? undefined : await resolveRdsTarget(config, logger);
  try {
    const r = target?.routeros;
    const { runDoctor } = await import('./doctor');
    const { report, failed } = await runDoctor({
      config,
      ...(env.PATH ? { path: env.PATH } : {}),
      ...(r
        ? {
            rds: {
              host: r.host,
              port: r.port ?? 22,
              user: r.user,
              privateKey: r.privateKey,
              hostKeyFingerprint: r.hostKeyFingerprint,
              insecureSkipHostKey: r.insecureSkipHostKey === true,
            },
          }
        : {}),
    });
    io.out(report);
    return failed ? 1 : 0;
  } finally {
    await target?.sim?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `rds-csi: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
