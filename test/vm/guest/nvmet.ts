// Guest-side helpers (run as root inside a test VM): a kernel NVMe target set up directly in
// configfs, and a host-side connect through /dev/nvme-fabrics. Scenario tests that do not
// go through rds-sim or the addon use these.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { notInGuestReason } from './env';

export const NVMET = '/sys/kernel/config/nvmet';

/**
 * Why a guest test that needs the kernel's NVMe/TCP host (and with `target`, the nvmet
 * target) cannot run here, or null. Loads the modules as a side effect, as a node would.
 */
export function nvmeSkipReason(opts: { target?: boolean } = {}): string | null {
  const notGuest = notInGuestReason();
  if (notGuest !== null) return notGuest;
  try {
    execFileSync('modprobe', ['-a', 'nvme-fabrics', 'nvme-tcp', 'nvmet', 'nvmet-tcp']);
  } catch (err) {
    return `cannot load NVMe modules: ${(err as Error).message}`;
  }
  if (!fs.existsSync('/dev/nvme-fabrics')) return '/dev/nvme-fabrics is absent';
  if (opts.target === true && !fs.existsSync(NVMET)) {
    return `${NVMET} is absent (configfs not mounted?)`;
  }
  return null;
}

export interface TargetOptions {
  nqn: string;
  /** Block device or file exported as namespace 1. */
  devicePath: string;
  /** Address the port listens on (127.0.0.1 inside one VM, the link address across VMs). */
  traddr: string;
  trsvcid?: number;
  /** configfs port id (numeric directory name). */
  portId?: number;
  /** Host NQNs allowed to connect; empty/absent allows any host. */
  allowedHosts?: string[];
}

function write(file: string, value: string): void {
  fs.writeFileSync(file, value);
}

/** Creates subsystem + namespace 1 + port and links them (idempotent for an existing port). */
export function createTarget(opts: TargetOptions): void {
  execFileSync('modprobe', ['-a', 'nvmet', 'nvmet-tcp']);
  const subsys = path.join(NVMET, 'subsystems', opts.nqn);
  fs.mkdirSync(subsys);
  const hosts = opts.allowedHosts ?? [];
  write(path.join(subsys, 'attr_allow_any_host'), hosts.length === 0 ? '1' : '0');
  for (const host of hosts) {
    const hostDir = path.join(NVMET, 'hosts', host);
    if (!fs.existsSync(hostDir)) fs.mkdirSync(hostDir);
    fs.symlinkSync(hostDir, path.join(subsys, 'allowed_hosts', host));
  }
  const ns = path.join(subsys, 'namespaces', '1');
  fs.mkdirSync(ns);
  write(path.join(ns, 'device_path'), opts.devicePath);
  if (fs.statSync(opts.devicePath).isFile()) write(path.join(ns, 'buffered_io'), '1');
  write(path.join(ns, 'enable'), '1');
  const port = path.join(NVMET, 'ports', String(opts.portId ?? 1));
  if (!fs.existsSync(port)) {
    fs.mkdirSync(port);
    write(path.join(port, 'addr_trtype'), 'tcp');
    write(path.join(port, 'addr_adrfam'), 'ipv4');
    write(path.join(port, 'addr_traddr'), opts.traddr);
    write(path.join(port, 'addr_trsvcid'), String(opts.trsvcid ?? 4420));
  }
  fs.symlinkSync(subsys, path.join(port, 'subsystems', opts.nqn));
}

/** Undoes createTarget for one subsystem (the port stays while other subsystems use it). */
export function removeTarget(nqn: string, portId = 1): void {
  const port = path.join(NVMET, 'ports', String(portId));
  fs.rmSync(path.join(port, 'subsystems', nqn), { force: true });
  const subsys = path.join(NVMET, 'subsystems', nqn);
  if (fs.existsSync(subsys)) {
    for (const host of fs.readdirSync(path.join(subsys, 'allowed_hosts'))) {
      fs.unlinkSync(path.join(subsys, 'allowed_hosts', host));
    }
    write(path.join(subsys, 'namespaces', '1', 'enable'), '0');
    fs.rmdirSync(path.join(subsys, 'namespaces', '1'));
    fs.rmdirSync(subsys);
  }
  if (fs.existsSync(port) && fs.readdirSync(path.join(port, 'subsystems')).length === 0) {
    fs.rmdirSync(port);
  }
}

/** A sparse file of `sizeMiB` attached to a free loop device; returns the device path. */
export function loopDevice(file: string, sizeMiB: number): string {
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB * 2 ** 20);
  return execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
}

export interface ConnectOptions {
  traddr: string;
  trsvcid?: number;
  nqn: string;
  hostnqn?: string;
  /** Extra fabrics options, e.g. "ctrl_loss_tmo=-1". */
  extra?: string[];
}

/**
 * Connects over NVMe/TCP with one write to /dev/nvme-fabrics and returns the controller
 * instance (the kernel answers `instance=N,cntlid=M` on a read of the same descriptor).
 */
export function connect(opts: ConnectOptions): number {
  const parts = [
    'transport=tcp',
    `traddr=${opts.traddr}`,
    `trsvcid=${opts.trsvcid ?? 4420}`,
    `nqn=${opts.nqn}`,
    ...(opts.hostnqn === undefined ? [] : [`hostnqn=${opts.hostnqn}`]),
    ...(opts.extra ?? []),
  ];
  // /dev/nvme-fabrics exists only while nvme-fabrics is loaded (nothing loads it on open).
  if (!fs.existsSync('/dev/nvme-fabrics')) execFileSync('modprobe', ['nvme-fabrics']);
  const fd = fs.openSync('/dev/nvme-fabrics', 'r+');
  try {
    fs.writeSync(fd, parts.join(','));
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    const m = /instance=(\d+)/.exec(buf.subarray(0, n).toString('utf8'));
    if (m?.[1] === undefined)
      throw new Error(`unexpected fabrics reply: ${buf.toString('utf8', 0, n)}`);
    return Number(m[1]);
  } finally {
    fs.closeSync(fd);
  }
}

/** Controller instances (nvmeN) connected to subsystem `nqn`. */
export function controllersOf(nqn: string): number[] {
  const out: number[] = [];
  const dir = '/sys/class/nvme';
  if (!fs.existsSync(dir)) return out;
  for (const ctrl of fs.readdirSync(dir)) {
    try {
      if (fs.readFileSync(path.join(dir, ctrl, 'subsysnqn'), 'utf8').trim() === nqn) {
        out.push(Number(ctrl.replace('nvme', '')));
      }
    } catch {
      // controller going away
    }
  }
  return out;
}

/** The namespace head block device (/dev/nvmeXnY) of subsystem `nqn`, or null. */
export function deviceOf(nqn: string): string | null {
  const dir = '/sys/class/nvme-subsystem';
  if (!fs.existsSync(dir)) return null;
  for (const subsys of fs.readdirSync(dir)) {
    const base = path.join(dir, subsys);
    if (fs.readFileSync(path.join(base, 'subsysnqn'), 'utf8').trim() !== nqn) continue;
    const head = fs.readdirSync(base).find((e) => /^nvme\d+n\d+$/.test(e));
    if (head !== undefined) return `/dev/${head}`;
  }
  return null;
}

/** Polls `probe` every 20 ms until it returns non-null or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  probe: () => T | null,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Connects and waits for the block device to be usable. */
export async function connectDevice(opts: ConnectOptions): Promise<string> {
  connect(opts);
  const dev = await waitFor(`device of ${opts.nqn}`, () => {
    const d = deviceOf(opts.nqn);
    return d !== null && fs.existsSync(d) ? d : null;
  });
  return dev;
}

/** Deletes every controller of `nqn` and waits until they are gone. */
export async function disconnect(nqn: string): Promise<void> {
  for (const n of controllersOf(nqn)) {
    try {
      write(`/sys/class/nvme/nvme${n}/delete_controller`, '1');
    } catch {
      // already being deleted
    }
  }
  await waitFor(`controllers of ${nqn} to go`, () =>
    controllersOf(nqn).length === 0 ? true : null,
  );
}
