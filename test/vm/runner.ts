// Boots test VMs with QEMU and runs commands in them as root. Every QEMU process started here
// is tracked and killed on stop(), on timeouts, on abort, and when this process exits or is
// signalled; QEMU is also started with a parent-death signal so it cannot outlive us.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureImage, type VmImage } from './image';
import { projectRoot, which } from './host-tools';
import { runCommand, scriptWithEnv, SerialDemux, shellQuote, type SerialEvent } from './protocol';
import {
  qemuArgs,
  type Accel,
  type Forward,
  type HostService,
  type LinkEnd,
  type Share,
} from './qemu';
import { detectAccel, freeTcpPort } from './accel';

export interface VmOptions {
  /** Guest host name (also in log lines). Default "vm". */
  name?: string;
  image?: VmImage;
  /** Default: detected (KVM only when a boot probe proved it works here). */
  accel?: Accel;
  memoryMiB?: number;
  cpus?: number;
  /** Default: the project tree, read-only, at the same path as on the host. */
  shares?: Share[];
  /** Guest TCP ports to forward from ephemeral host ports on 127.0.0.1 (see hostPort()). */
  forwards?: number[];
  link?: LinkEnd;
  /** Host services the guest reaches through QEMU (see HostService). */
  hostServices?: HostService[];
  /** Exported to every command run in this VM. */
  env?: Record<string, string>;
  bootTimeoutMs?: number;
  /** Aborting kills the VM. */
  signal?: AbortSignal;
  /** Receives the guest's command output as it arrives. */
  onOutput?: (text: string) => void;
}

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  onOutput?: (text: string) => void;
}

export interface ExecResult {
  exitCode: number;
  output: string;
  durationMs: number;
}

const live = new Map<number, ChildProcess>();
/** Temp dirs of VMs not yet stopped; removed on process exit too. */
const liveTmp = new Set<string>();
const OWNER_TAG = `rdsvm-${process.pid}-`;
let hooksInstalled = false;

/** Kills every QEMU process this process started and has not seen exit. */
function killAllVms(): void {
  for (const child of live.values()) child.kill('SIGKILL');
}

/** PIDs of QEMU processes started by this process that are still running (from /proc). */
export function leftoverVmPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(OWNER_TAG)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const cleanup = (): void => {
    killAllVms();
    for (const dir of liveTmp) fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      cleanup();
      // Keep the default outcome (death by the signal) unless someone else handles it.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

/** Why VMs cannot run here, or null when they can. */
export function vmUnavailableReason(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'VMs need Linux on x86-64';
  if (which('qemu-system-x86_64') === null) {
    return 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)';
  }
  return null;
}

let vmCounter = 0;

export class Vm {
  readonly name: string;
  /** Wall time from spawning QEMU to the guest's ready line. */
  bootMs = 0;
  /** Guest uptime when it became ready (kernel + init time as the guest saw it). */
  guestBootSec = 0;
  readonly accel: Accel;
  private readonly child: ChildProcess;
  private readonly forwards: Map<number, number>;
  private readonly demux: SerialDemux;
  private readonly tmp: string;
  private readonly env: Record<string, string>;
  private readonly onOutput: ((text: string) => void) | undefined;
  private stderr = '';
  private exited: Promise<void>;
  private alive = true;
  private listener: ((e: SerialEvent | { kind: 'died'; reason: string }) => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: VmOptions, accel: Accel, args: string[], tmp: string, fwd: Forward[]) {
    this.name = opts.name ?? 'vm';
    this.accel = accel;
    this.tmp = tmp;
    liveTmp.add(tmp);
    this.env = opts.env ?? {};
    this.onOutput = opts.onOutput;
    this.forwards = new Map(fwd.map((f) => [f.guestPort, f.hostPort]));
    installExitHooks();
    const setpriv = which('setpriv');
    const [cmd, argv] =
      setpriv === null
        ? ['qemu-system-x86_64', args]
        : [setpriv, ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...args]];
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid !== undefined) live.set(pid, this.child);
    this.demux = new SerialDemux((e) => this.listener?.(e));
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.demux.push(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8192);
    });
    this.child.stdin?.on('error', () => undefined); // EPIPE when QEMU died; seen via 'exit'
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.alive = false;
        if (pid !== undefined) live.delete(pid);
        this.demux.flush();
        this.listener?.({ kind: 'died', reason: `QEMU exited (${signal ?? code ?? '?'})` });
        resolve();
      });
    });
    opts.signal?.addEventListener('abort', () => this.kill(), { once: true });
  }

  /** Boots a VM and waits until its init accepts commands. */
  static async start(opts: VmOptions = {}): Promise<Vm> {
    const image = opts.image ?? (await ensureImage());
    const accel = opts.accel ?? (await detectAccel(image, Vm.start));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rdsvm-'));
    const forwards: Forward[] = [];
    for (const guestPort of opts.forwards ?? []) {
      forwards.push({ guestPort, hostPort: await freeTcpPort() });
    }
    const root = projectRoot();
    const name = opts.name ?? 'vm';
    const args = qemuArgs({
      image,
      accel,
      name,
      memoryMiB: opts.memoryMiB ?? 1024,
      cpus: opts.cpus ?? 1,
      consoleLog: path.join(tmp, 'console.log'),
      shares: opts.shares ?? [{ hostPath: root, guestPath: root, readOnly: true }],
      forwards,
      ...(opts.link === undefined ? {} : { link: opts.link }),
      ...(opts.hostServices === undefined ? {} : { hostServices: opts.hostServices }),
    });
    args.push('-name', `${OWNER_TAG}${++vmCounter}-${name}`);
    const vm = new Vm(opts, accel, args, tmp, forwards);
    const started = Date.now();
    try {
      vm.guestBootSec = await vm.waitReady(opts.bootTimeoutMs ?? 180_000);
    } catch (err) {
      await vm.stop();
      throw err;
    }
    vm.bootMs = Date.now() - started;
    return vm;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.alive;
  }

  /** Host port on 127.0.0.1 forwarded to `guestPort` (which must be in opts.forwards). */
  hostPort(guestPort: number): number {
    const port = this.forwards.get(guestPort);
    if (port === undefined) throw new Error(`guest port ${guestPort} is not forwarded`);
    return port;
  }

  /** The guest kernel's console so far (ttyS0); useful when a test fails. */
  console(): string {
    try {
      return fs.readFileSync(path.join(this.tmp, 'console.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private waitReady(timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listener = null;
        reject(
          new Error(`${this.name}: no ready line within ${timeoutMs} ms\n${this.diagnostics()}`),
        );
      }, timeoutMs);
      this.listener = (e) => {
        if (e.kind === 'ready') {
          clearTimeout(timer);
          this.listener = null;
          resolve(e.uptimeSec);
        } else if (e.kind === 'died') {
          clearTimeout(timer);
          this.listener = null;
          reject(new Error(`${this.name}: ${e.reason} during boot\n${this.diagnostics()}`));
        }
      };
    });
  }

  private diagnostics(): string {
    const console = this.console().split('\n').slice(-40).join('\n');
    return `QEMU stderr: ${this.stderr.trim() || '(none)'}\nguest console (tail):\n${console}`;
  }

  /**
   * Runs a sh script as root in the guest (cwd /, stdin /dev/null, VM env then `opts.env`
   * exported). Commands run one at a time. On timeout the VM is killed and the promise
   * rejects with the output so far: a hung guest cannot be trusted for further commands.
   */
  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const run = this.queue.then(() => this.execNow(script, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `node <file> [args]` in the project tree (the guest's cwd is the project root). */
  runNode(
    file: string,
    args: string[] = [],
    opts: ExecOptions = {},
    nodeFlags: readonly string[] = [],
  ): Promise<ExecResult> {
    const root = projectRoot();
    const cmd = ['node', ...nodeFlags, path.resolve(root, file), ...args].map(shellQuote).join(' ');
    return this.exec(`cd ${shellQuote(root)} && exec ${cmd}`, opts);
  }

  private execNow(script: string, opts: ExecOptions): Promise<ExecResult> {
    if (!this.alive) return Promise.reject(new Error(`${this.name}: VM is not running`));
    const id = crypto.randomBytes(6).toString('hex');
    const started = Date.now();
    let output = '';
    const timeoutMs = opts.timeoutMs ?? 600_000;
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listener = null;
        this.kill();
        reject(
          new Error(`${this.name}: command timed out after ${timeoutMs} ms; output:\n${output}`),
        );
      }, timeoutMs);
      this.listener = (e) => {
        if (e.kind === 'text') {
          output += e.text;
          this.onOutput?.(e.text);
          opts.onOutput?.(e.text);
        } else if (e.kind === 'exit' && e.id === id) {
          clearTimeout(timer);
          this.listener = null;
          resolve({ exitCode: e.code, output, durationMs: Date.now() - started });
        } else if (e.kind === 'died') {
          clearTimeout(timer);
          this.listener = null;
          const msg = `${this.name}: ${e.reason} while running a command; output:\n${output}`;
          reject(new Error(`${msg}\n${this.diagnostics()}`));
        }
      };
      this.child.stdin?.write(runCommand(id, scriptWithEnv({ ...this.env, ...opts.env }, script)));
    });
  }

  /** Kills QEMU at once (no guest shutdown). */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Powers the guest off (killing it if it does not stop in time) and removes temp files. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.alive) {
      this.child.stdin?.write('@@POWEROFF\n');
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
    liveTmp.delete(this.tmp);
  }
}

export interface RunVmOptions extends VmOptions {
  /** A sh script to run, or use `file` for a node script. */
  command?: string;
  /** A JavaScript file (relative to the project root or absolute) run with node. */
  file?: string;
  timeoutMs?: number;
}

export interface RunVmResult {
  /** null when the command did not finish (timeout, VM died, boot failed). */
  exitCode: number | null;
  output: string;
  error?: string;
  bootMs: number;
  runMs: number;
  accel?: Accel;
}

/** Boots a fresh VM, runs one command or node file, and always tears the VM down. */
export async function runVm(opts: RunVmOptions): Promise<RunVmResult> {
  let vm: Vm | undefined;
  const started = Date.now();
  try {
    vm = await Vm.start(opts);
    const execOpts = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs };
    const res =
      opts.file !== undefined
        ? await vm.runNode(opts.file, [], execOpts)
        : await vm.exec(opts.command ?? 'true', execOpts);
    return {
      exitCode: res.exitCode,
      output: res.output,
      bootMs: vm.bootMs,
      runMs: res.durationMs,
      accel: vm.accel,
    };
  } catch (err) {
    return {
      exitCode: null,
      output: '',
      error: err instanceof Error ? err.message : String(err),
      bootMs: vm?.bootMs ?? 0,
      runMs: Date.now() - started,
      ...(vm === undefined ? {} : { accel: vm.accel }),
    };
  } finally {
    await vm?.stop();
  }
}
