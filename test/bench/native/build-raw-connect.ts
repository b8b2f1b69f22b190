// Host side of the NVMe attach benchmark: compiles raw-connect.c with the host's cc into
// build/bench/raw-connect (static, so it runs in the test VM without extra libraries) when
// the binary is missing or older than its source. The VM sees it through the shared tree.
//   node dist/test/bench/native/build-raw-connect.js
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function packageRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Returns the binary's path, compiling it first when needed. */
export function buildRawConnect(root: string = packageRoot(__dirname)): string {
  const src = path.join(root, 'test', 'bench', 'native', 'raw-connect.c');
  const out = path.join(root, 'build', 'bench', 'raw-connect');
  const fresh = fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs;
  if (fresh) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const base = ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', out, src];
  try {
    execFileSync('cc', ['-static', ...base], { stdio: 'pipe' });
  } catch {
    // no static libc on this host: a dynamic binary still runs in the VM (it carries libc)
    execFileSync('cc', base, { stdio: 'pipe' });
  }
  return out;
}

if (require.main === module) console.log(buildRawConnect());
