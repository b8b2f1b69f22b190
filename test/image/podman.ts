/**
 * Runs the built image (scripts/image.sh; RDS_CSI_IMAGE, default rds-csi:ci) with podman.
 * Tests skip with the reason from `imageSkipReason()` when podman or the image is missing.
 *
 * runc is used when installed: crun rejects some hosts' cgroup layouts, runc runs on all of
 * them. The ulimits are set explicitly because podman otherwise asks for limits above what
 * an unprivileged or nested host may grant.
 */
import { spawn, spawnSync } from 'node:child_process';

export const IMAGE = process.env['RDS_CSI_IMAGE'] ?? 'rds-csi:ci';

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Why the image tests cannot run here, or undefined when they can. */
export function imageSkipReason(): string | undefined {
  if (!onPath('podman')) return 'podman is not installed (apt-get install podman)';
  if (spawnSync('podman', ['image', 'exists', IMAGE]).status !== 0)
    return `image ${IMAGE} is not built here (scripts/image.sh builds it)`;
  return undefined;
}

/** Options every `podman run` here gets, before the caller's. */
export function runOptions(): string[] {
  return [
    ...(onPath('runc') ? ['--runtime', 'runc'] : []),
    '--ulimit',
    'nofile=20000:20000',
    '--ulimit',
    'nproc=32768:32768',
  ];
}

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `podman <args>` to completion, with a deadline. */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `podman run --rm <options> <runArgs> IMAGE <command>`. */
export function runImage(runArgs: readonly string[], command: readonly string[] = []) {
  return podman(['run', '--rm', ...runOptions(), ...runArgs, IMAGE, ...command]);
}

/** A shell command run in the image as `sh -c`. */
export function shInImage(script: string, runArgs: readonly string[] = []) {
  return runImage(['--entrypoint', '/bin/sh', ...runArgs], ['-c', script]);
}

/** One field of `podman image inspect` (a Go template). */
export async function inspectImage(format: string): Promise<string> {
  const r = await podman(['image', 'inspect', '--format', format, IMAGE]);
  if (r.status !== 0) throw new Error(`podman image inspect: ${r.stderr}`);
  return r.stdout.trim();
}
