// Choosing the accelerator and allocating host ports for VMs.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { VmImage } from './image';
import type { Accel, LinkEnd } from './qemu';

interface ProbeVm {
  bootMs: number;
  exec(script: string, opts: { timeoutMs: number }): Promise<{ exitCode: number }>;
  stop(): Promise<void>;
}
type StartVm = (opts: {
  image: VmImage;
  accel: Accel;
  bootTimeoutMs: number;
  shares: [];
}) => Promise<ProbeVm>;

/** Boot-to-ready bound for the KVM probe: TCG boots in 5-25 s here, working KVM in ~1-2 s. */
const PROBE_TIMEOUT_MS = 20_000;
/** KVM that boots slower than this is the "runs but crawls" failure mode: use TCG. */
const PROBE_MAX_BOOT_MS = 8_000;

/**
 * KVM when RDS_VM_ACCEL says so or when a short boot probe with KVM reached the guest's init
 * (on some hosts /dev/kvm exists but guests hang silently); TCG otherwise. The probe result is
 * cached next to the image, per guest kernel, host kernel release and QEMU binary.
 */
export async function detectAccel(
  image: VmImage,
  start: StartVm,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Accel> {
  const forced = env.RDS_VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return 'tcg';
  }
  const cacheFile = path.join(path.dirname(image.dir), 'accel.json');
  const key = `${image.kernelVersion} ${os.release()} ${qemuStamp()}`;
  try {
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { key: string; accel: Accel };
    if (cached.key === key) return cached.accel;
  } catch {
    // no cached probe yet
  }
  let accel: Accel = 'tcg';
  try {
    const vm = await start({ image, accel: 'kvm', bootTimeoutMs: PROBE_TIMEOUT_MS, shares: [] });
    try {
      const res = await vm.exec('true', { timeoutMs: 10_000 });
      if (res.exitCode === 0 && vm.bootMs < PROBE_MAX_BOOT_MS) accel = 'kvm';
    } finally {
      await vm.stop();
    }
  } catch {
    // boot or command failed under KVM: TCG it is
  }
  fs.writeFileSync(cacheFile, JSON.stringify({ key, accel }));
  return accel;
}

function qemuStamp(): string {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(':')) {
    try {
      const st = fs.statSync(path.join(dir, 'qemu-system-x86_64'));
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      // not in this directory
    }
  }
  return 'none';
}

/** An unused TCP port on 127.0.0.1 (free when checked; QEMU binds it right after). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const port = sock.address().port;
      sock.close(() => resolve(port));
    });
  });
}

/** Subnet of the inter-VM link; the first VM is .1, the second .2. */
export const LINK_SUBNET = '10.77.0';

/** The two ends of a fresh point-to-point link between two VMs. */
export async function createLink(): Promise<[LinkEnd, LinkEnd]> {
  const a = await freeUdpPort();
  let b = await freeUdpPort();
  while (b === a) b = await freeUdpPort();
  return [
    { localPort: a, remotePort: b, address: `${LINK_SUBNET}.1/24`, mac: '52:54:00:77:00:01' },
    { localPort: b, remotePort: a, address: `${LINK_SUBNET}.2/24`, mac: '52:54:00:77:00:02' },
  ];
}
