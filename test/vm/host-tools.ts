// Small process and file helpers shared by the VM image builder and the QEMU runner.
// Host-side only: they shell out to Debian tools (apt-get, dpkg-deb, ldd, depmod, cpio).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: Buffer;
  /** Exit codes that are not an error (default: only 0). */
  okCodes?: number[];
  maxBuffer?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** Runs a program without a shell; rejects with its stderr when it exits outside okCodes. */
export function runTool(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        encoding: 'buffer',
        maxBuffer: opts.maxBuffer ?? 512 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        const result = { stdout, stderr: stderr.toString('utf8'), code };
        if ((opts.okCodes ?? [0]).includes(code)) resolve(result);
        else
          reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${result.stderr.trim()}`));
      },
    );
    // A tool may stop reading early (xz --single-stream exits after the first stream while
    // the rest of the bzImage is still being written): EPIPE on stdin is not a failure,
    // the exit status decides.
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Like runTool but returns stdout as text. */
export async function runText(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return (await runTool(cmd, args, opts)).stdout.toString('utf8');
}

/** Finds an executable on PATH plus the sbin directories (which a non-root PATH may lack). */
export function which(name: string, envPath = process.env.PATH ?? ''): string | null {
  const dirs = [...envPath.split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** The repository root: the nearest ancestor of `from` holding package.json. */
export function projectRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

/**
 * Parses `ldd` output into the absolute paths of the libraries a binary needs (the dynamic
 * loader included). Throws on a "not found" line: an image with a missing library would fail
 * only at run time, inside the guest, which is much harder to diagnose.
 */
export function parseLdd(output: string, binary: string): string[] {
  const libs: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('linux-vdso') || line.includes('statically linked')) {
      continue;
    }
    if (line.includes('=> not found')) throw new Error(`${binary}: ${line}`);
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const direct = /^(\/\S+)/.exec(line);
    const lib = arrow?.[1] ?? direct?.[1];
    if (lib !== undefined) libs.push(lib);
  }
  return libs;
}

/**
 * Maps a host path into the image's merged-/usr layout: /bin, /sbin, /lib and /lib64 are
 * symlinks to their /usr counterparts in the image, as on Debian 12.
 */
export function imagePath(hostPath: string): string {
  const rel = hostPath.replace(/^\/+/, '');
  return /^(bin|sbin|lib|lib64)(\/|$)/.test(rel) ? `usr/${rel}` : rel;
}

/** Removes a directory tree, ignoring a missing one. */
export function rmTree(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
