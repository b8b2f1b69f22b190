/** Shared test helpers: a temp store, a CLI runner, and an ssh2 client exec. */
import { generateSshKeyPair } from '../../../src/sim/keys';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'ssh2';
import { createFilesBackend } from '../../../src/sim/backend';
import { runLine, type CliReply } from '../../../src/sim/cli';
import { PoolFiles } from '../../../src/sim/pool';
import { DiskStore } from '../../../src/sim/store';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export function tempDir(t: Teardown, prefix = 'rds-sim-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliHarness {
  readonly dir: string;
  readonly store: DiskStore;
  run(line: string, width?: number): Promise<CliReply>;
  /** Run and return the reply text (lines joined with \n). */
  text(line: string, width?: number): Promise<string>;
}

export async function cliHarness(
  t: Teardown,
  opts: { quota?: number; version?: string } = {},
): Promise<CliHarness> {
  const dir = tempDir(t);
  const poolDir = path.join(dir, 'pool');
  const store = new DiskStore({
    stateFile: path.join(dir, 'disks.json'),
    pool: new PoolFiles(poolDir, 'storage-pool'),
    quotaBytes: opts.quota ?? 1024 ** 4,
    backend: createFilesBackend({ poolDir }),
  });
  await store.load();
  const run = (line: string, width = 80): Promise<CliReply> =>
    runLine(line, {
      store,
      width,
      version: opts.version ?? '7.16',
      identity: 'rds-sim',
      uptimeSeconds: 5,
    });
  return {
    dir,
    store,
    run,
    text: async (line, width) => (await run(line, width)).lines.join('\n'),
  };
}

export function generateKey(): { private: string; public: string } {
  return generateSshKeyPair();
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | undefined;
}

export function connect(
  port: number,
  privateKey: string,
  username = 'admin',
  extra: Record<string, unknown> = {},
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => {
      // Later errors (a dropped or restarted server) surface as 'close'; tests assert on that.
      c.on('error', () => undefined);
      resolve(c);
    });
    c.once('error', reject);
    c.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 20000, ...extra });
  });
}

export function exec(c: Client, command: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      let code: number | undefined;
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('exit', (c: number | null) => (code = c ?? undefined));
      const done = (): void => resolve({ stdout, stderr, code });
      stream.on('close', done);
      // A dropped connection does not always close its channels first.
      c.once('close', done);
    });
  });
}

/** One connection, one command, then close. */
export async function once(
  port: number,
  privateKey: string,
  command: string,
  username = 'admin',
): Promise<ExecResult> {
  const c = await connect(port, privateKey, username);
  try {
    return await exec(c, command);
  } finally {
    c.end();
  }
}
