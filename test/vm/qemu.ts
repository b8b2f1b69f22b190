// QEMU command line of a test VM (pure; unit-tested on the host).
import type { VmImage } from './image';

export type Accel = 'kvm' | 'tcg';

/** A host directory shared into the guest over virtio-9p, mounted at `guestPath`. */
export interface Share {
  hostPath: string;
  guestPath: string;
  readOnly: boolean;
}

/** A guest TCP port reachable from the host at 127.0.0.1:hostPort (user networking). */
export interface Forward {
  hostPort: number;
  guestPort: number;
}

/**
 * A host TCP service the guest reaches at `guestAddress:guestPort` (a QEMU user-network
 * guestfwd). QEMU runs `relay` once per guest connection with the connection on its stdin and
 * stdout; the relay joins it to 127.0.0.1:hostPort (e.g. `busybox nc`).
 */
export interface HostService {
  guestAddress: string;
  guestPort: number;
  hostPort: number;
  /** Relay command and arguments before the host address and port. */
  relay: string[];
}

/**
 * One end of the point-to-point Ethernet link between two VMs: QEMU sends the frames as UDP
 * datagrams between two ports on 127.0.0.1, so neither VM must start first.
 */
export interface LinkEnd {
  localPort: number;
  remotePort: number;
  /** Guest address with prefix, e.g. 10.77.0.1/24. */
  address: string;
  mac: string;
}

export interface QemuSpec {
  image: VmImage;
  accel: Accel;
  name: string;
  memoryMiB: number;
  cpus: number;
  /** Kernel console (ttyS0) goes to this file. */
  consoleLog: string;
  shares: Share[];
  forwards: Forward[];
  hostServices?: HostService[];
  link?: LinkEnd;
}

/** Guest side of QEMU's user-mode network (fixed by QEMU). */
export const USER_NET = { address: '10.0.2.15/24', gateway: '10.0.2.2', mac: '52:54:00:12:00:01' };

const SAFE = /^[A-Za-z0-9_./:@+-]+$/;

function checkSafe(what: string, value: string): string {
  // Values travel on the kernel command line and through QEMU's comma-separated options.
  if (!SAFE.test(value)) throw new Error(`${what} has characters the VM cannot carry: ${value}`);
  return value;
}

export function kernelCmdline(spec: QemuSpec): string {
  const params = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    'mitigations=off',
    // Under TCG on a loaded host the timer check can misfire and panic the boot with
    // "IO-APIC + timer doesn't work"; the emulated timer is known good.
    'no_timer_check',
    `rdsvm.name=${checkSafe('VM name', spec.name)}`,
    `rdsvm.nic0=${USER_NET.mac},${USER_NET.address},${USER_NET.gateway}`,
  ];
  if (spec.link !== undefined) {
    params.push(
      `rdsvm.nic1=${checkSafe('MAC', spec.link.mac)},${checkSafe('address', spec.link.address)}`,
    );
  }
  spec.shares.forEach((s, i) => {
    params.push(
      `rdsvm.share${i}=share${i},${checkSafe('share path', s.guestPath)},${s.readOnly ? 'ro' : 'rw'}`,
    );
  });
  return params.join(' ');
}

export function qemuArgs(spec: QemuSpec): string[] {
  const hostfwd = spec.forwards
    .map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`)
    .join('');
  const guestfwd = (spec.hostServices ?? [])
    .map((h) => {
      const relay = [...h.relay, '127.0.0.1', String(h.hostPort)]
        .map((a) => checkSafe('relay argument', a))
        .join(' ');
      return `,guestfwd=tcp:${checkSafe('guest address', h.guestAddress)}:${h.guestPort}-cmd:${relay}`;
    })
    .join('');
  const args = [
    '-accel',
    spec.accel,
    '-m',
    String(spec.memoryMiB),
    '-smp',
    String(spec.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    spec.image.kernel,
    '-initrd',
    spec.image.initrd,
    '-append',
    kernelCmdline(spec),
    '-serial',
    `file:${checkSafe('console log path', spec.consoleLog)}`,
    '-serial',
    'stdio',
    '-device',
    'virtio-rng-pci',
    '-netdev',
    `user,id=n0,restrict=on${hostfwd}${guestfwd}`,
    '-device',
    `virtio-net-pci,netdev=n0,mac=${USER_NET.mac}`,
  ];
  if (spec.link !== undefined) {
    const { localPort, remotePort, mac } = spec.link;
    args.push(
      '-netdev',
      `socket,id=n1,udp=127.0.0.1:${remotePort},localaddr=127.0.0.1:${localPort}`,
      '-device',
      `virtio-net-pci,netdev=n1,mac=${mac}`,
    );
  }
  spec.shares.forEach((s, i) => {
    const ro = s.readOnly ? ',readonly=on' : '';
    args.push(
      '-virtfs',
      `local,path=${checkSafe('share path', s.hostPath)},mount_tag=share${i},security_model=none${ro}`,
    );
  });
  return args;
}
