// Shared by the host-side VM test files: the skip decision, the image (built once per
// process with its build time reported) and running a checked shell step in a VM.
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { ensureImage, missingBuildTools, type VmImage } from './image';
import { projectRoot } from './host-tools';
import { shellQuote } from './protocol';
import { vmUnavailableReason, type Vm } from './runner';

/** Why the VM suite cannot run on this machine, or null. */
export function vmSuiteSkipReason(): string | null {
  const reason = vmUnavailableReason();
  if (reason !== null) return reason;
  const root = projectRoot();
  const cached = fs.existsSync(path.join(root, '.cache', 'vm'));
  const missing = missingBuildTools();
  // A machine that cannot build the image may still hold a cached one (built earlier).
  if (missing.length > 0 && !cached)
    return `cannot build the VM image: missing ${missing.join(', ')}`;
  return null;
}

let image: Promise<VmImage> | undefined;

export function suiteImage(log: (line: string) => void): Promise<VmImage> {
  image ??= ensureImage({ log });
  return image;
}

/** Indents text as TAP comment lines. */
export function asComment(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Runs a sh script in `vm`, asserting exit 0 (the output is shown when it fails). */
export async function sh(t: Test, vm: Vm, script: string, timeoutMs = 120_000): Promise<string> {
  const res = await vm.exec(script, { timeoutMs });
  if (!t.equal(res.exitCode, 0, `${vm.name}: ${script.split('\n')[0]}`)) {
    t.comment(asComment(res.output));
  }
  return res.output;
}

/**
 * Runs a guest command-line script (dist/test/vm/guest/<file>: cli.js, node-cli.js) with
 * `command '<json args>'`, asserting exit 0, and returns the JSON on its last output line.
 */
export async function guestCli(
  t: Test,
  vm: Vm,
  file: string,
  command: string,
  args: object,
  timeoutMs = 120_000,
): Promise<Record<string, string>> {
  const script = path.join(projectRoot(), 'dist', 'test', 'vm', 'guest', file);
  const res = await vm.runNode(script, [command, JSON.stringify(args)], { timeoutMs });
  if (!t.equal(res.exitCode, 0, `${vm.name}: ${file} ${command}`)) t.comment(asComment(res.output));
  const last = res.output.trim().split('\n').pop() ?? '';
  return res.exitCode === 0 ? (JSON.parse(last) as Record<string, string>) : {};
}

/**
 * Polls `f` every 250 ms until it returns a value other than undefined; errors count as "not
 * yet" and the last one is named when `timeoutMs` passes.
 */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The script that starts rds-sim (nvmet backend, state /tmp/rds-sim) and prints its key. */
function nvmetSimScript(nvmetAddr: string, clientKey: string, sshPort: number): string {
  const simArgv = [
    'node',
    path.join(projectRoot(), 'dist/src/sim/main.js'),
    `--listen=0.0.0.0:${sshPort}`,
    '--state=/tmp/rds-sim',
    '--authorized-keys=/tmp/rds-client.pub',
    '--backend=nvmet',
    `--nvmet-addr=${nvmetAddr}`,
  ];
  return `modprobe -a nvmet nvmet-tcp
printf '%s\\n' ${shellQuote(clientKey)} > /tmp/rds-client.pub
${simArgv.map(shellQuote).join(' ')} </dev/null >/tmp/rds-sim.log 2>&1 &
for i in $(seq 1 120); do grep -q 'host key fingerprint' /tmp/rds-sim.log && break; sleep 1; done
grep 'host key fingerprint' /tmp/rds-sim.log`;
}

function simFingerprint(output: string): string {
  const fingerprint = /host key fingerprint: (SHA256:\S+)/.exec(output)?.[1];
  if (fingerprint === undefined) throw new Error(`rds-sim did not start:\n${output}`);
  return fingerprint;
}

/**
 * Starts rds-sim in `vm` with the kernel NVMe target on `nvmetAddr`, accepting `clientKey`
 * over SSH; resolves to its host key fingerprint. Its log is /tmp/rds-sim.log.
 */
export async function startNvmetSim(
  t: Test,
  vm: Vm,
  nvmetAddr: string,
  clientKey: string,
  sshPort: number,
): Promise<string> {
  return simFingerprint(await sh(t, vm, nvmetSimScript(nvmetAddr, clientKey, sshPort)));
}

/** startNvmetSim outside a tap test: rejects when rds-sim does not come up. */
export async function launchNvmetSim(
  vm: Vm,
  nvmetAddr: string,
  clientKey: string,
  sshPort: number,
  timeoutMs = 180_000,
): Promise<string> {
  const res = await vm.exec(nvmetSimScript(nvmetAddr, clientKey, sshPort), { timeoutMs });
  if (res.exitCode !== 0) throw new Error(`rds-sim did not start:\n${res.output}`);
  return simFingerprint(res.output);
}
