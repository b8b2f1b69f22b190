/**
 * promtool from Debian's prometheus package, unpacked (not installed: the package would
 * start a server) into .cache/tools on first use. Returns {skip} with the reason when it
 * cannot be had (no apt, no network to the Debian mirror).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths';

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      { cwd, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`))
          : resolve(stdout),
    ),
  );
}

export async function findPromtool(): Promise<string | { skip: string }> {
  const onPath = await run('sh', ['-c', 'command -v promtool']).catch(() => '');
  if (onPath.trim()) return onPath.trim();
  const dir = join(packageRoot(), '.cache/tools');
  const bin = join(dir, 'promtool');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, 'prometheus-'));
  try {
    await run('apt-get', ['download', 'prometheus'], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) return { skip: 'apt-get download prometheus produced no package' };
    await run('dpkg-deb', ['-x', deb, 'x'], work);
    renameSync(join(work, 'x/usr/bin/promtool'), bin);
    return bin;
  } catch (err) {
    return { skip: `promtool unavailable (${(err as Error).message.split('\n')[0]})` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function promtoolCheck(
  bin: string,
  text: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}
