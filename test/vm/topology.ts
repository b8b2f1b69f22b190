// Test topologies: one VM with every role, or two VMs joined by a point-to-point link (the
// rds role in the first one). Each VM's commands see its roles in RDSVM_* variables
// (test/vm/guest/env.ts reads them).
import crypto from 'node:crypto';
import { createLink } from './accel';
import { ENV, type Role } from './guest/env';
import type { VmImage } from './image';
import { shellQuote } from './protocol';
import type { HostService } from './qemu';
import { Vm, type VmOptions } from './runner';

/** Guest TCP ports by convention; the host reaches them through Vm.hostPort(). */
export const GUEST_PORTS = {
  /** nvmet port of the rds role. */
  nvme: 4420,
  /** rds-sim's SSH server (the controller's RouterOS connection). */
  rdsSsh: 2222,
  /** The node plugin's CSI endpoint when served over TCP for host-side tests. */
  csi: 10000,
} as const;

export interface VmSpec {
  name: string;
  roles: Role[];
  /** Extra guest ports to forward to the host (the role defaults are always forwarded). */
  forwards?: number[];
  memoryMiB?: number;
}

export interface TopologyVm {
  name: string;
  roles: Role[];
  vm: Vm;
  hostNqn?: string;
  linkAddress?: string;
}

export interface Topology {
  vms: TopologyVm[];
  get(name: string): TopologyVm;
  /** The VM holding the rds role. */
  rds: TopologyVm;
  /** Powers every VM off (kills the ones that do not stop). Safe to call twice. */
  stop(): Promise<void>;
}

export interface TopologyOptions {
  image?: VmImage;
  signal?: AbortSignal;
  onOutput?: (vm: string, text: string) => void;
  /** Extra environment for every command in every VM. */
  env?: Record<string, string>;
  /** Host services every VM reaches (e.g. a stand-in Kubernetes API server). */
  hostServices?: HostService[];
}

/** One VM with the rds role and a node role. */
export const SINGLE: VmSpec[] = [{ name: 'vm', roles: ['rds', 'node'] }];
/** Two kernels for the migration hand-off: node A (with rds) and node B. */
export const TWO_NODES: VmSpec[] = [
  { name: 'a', roles: ['rds', 'node'] },
  { name: 'b', roles: ['node'] },
];

/** Stable host NQN per VM name, in the uuid form Linux hosts use. */
export function hostNqnFor(name: string): string {
  const h = crypto.createHash('sha256').update(`rdsvm:${name}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `nqn.2014-08.org.nvmexpress:uuid:${uuid}`;
}

function defaultForwards(roles: Role[]): number[] {
  const ports: number[] = [];
  if (roles.includes('rds')) ports.push(GUEST_PORTS.rdsSsh);
  if (roles.includes('node')) ports.push(GUEST_PORTS.csi);
  return ports;
}

/** Boots the VMs of `specs` in parallel (at most two; exactly one may hold the rds role). */
export async function startTopology(
  specs: VmSpec[],
  opts: TopologyOptions = {},
): Promise<Topology> {
  if (specs.length < 1 || specs.length > 2) throw new Error('a topology has one or two VMs');
  const rdsSpecs = specs.filter((s) => s.roles.includes('rds'));
  if (rdsSpecs.length !== 1) throw new Error('exactly one VM must hold the rds role');
  const links = specs.length === 2 ? await createLink() : undefined;
  const rdsIndex = specs.findIndex((s) => s.roles.includes('rds'));
  const rdsLinkAddress = links?.[rdsIndex]?.address.split('/')[0];

  const started: TopologyVm[] = [];
  const boot = async (spec: VmSpec, i: number): Promise<TopologyVm> => {
    const link = links?.[i];
    const linkAddress = link?.address.split('/')[0];
    const hostNqn = spec.roles.includes('node') ? hostNqnFor(spec.name) : undefined;
    const env: Record<string, string> = {
      TAP_TIMEOUT: '600',
      ...opts.env,
      [ENV.name]: spec.name,
      [ENV.roles]: spec.roles.join(','),
      [ENV.rdsAddress]:
        i === rdsIndex || rdsLinkAddress === undefined ? '127.0.0.1' : rdsLinkAddress,
      ...(hostNqn === undefined ? {} : { [ENV.hostNqn]: hostNqn }),
      ...(linkAddress === undefined ? {} : { [ENV.linkAddress]: linkAddress }),
    };
    const vmOpts: VmOptions = {
      name: spec.name,
      env,
      forwards: [...defaultForwards(spec.roles), ...(spec.forwards ?? [])],
      ...(spec.memoryMiB === undefined ? {} : { memoryMiB: spec.memoryMiB }),
      ...(link === undefined ? {} : { link }),
      ...(opts.hostServices === undefined ? {} : { hostServices: opts.hostServices }),
      ...(opts.image === undefined ? {} : { image: opts.image }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(opts.onOutput === undefined
        ? {}
        : { onOutput: (t: string) => opts.onOutput?.(spec.name, t) }),
    };
    const vm = await Vm.start(vmOpts);
    const tvm: TopologyVm = { name: spec.name, roles: spec.roles, vm };
    started.push(tvm);
    if (hostNqn !== undefined) {
      tvm.hostNqn = hostNqn;
      const res = await vm.exec(`echo ${shellQuote(hostNqn)} > /etc/nvme/hostnqn`);
      if (res.exitCode !== 0) throw new Error(`${spec.name}: cannot set host NQN: ${res.output}`);
    }
    if (linkAddress !== undefined) tvm.linkAddress = linkAddress;
    return tvm;
  };

  const stop = async (): Promise<void> => {
    await Promise.all(started.map((v) => v.vm.stop()));
  };
  // allSettled: when one VM fails to boot, the other must still be stopped after its boot.
  const settled = await Promise.allSettled(specs.map(boot));
  try {
    // In spec order (allSettled keeps it), whichever VM booted first.
    const vms = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const rds = vms[rdsIndex];
    if (rds === undefined) throw new Error('rds VM missing');
    return {
      vms,
      rds,
      get(name: string): TopologyVm {
        const found = vms.find((v) => v.name === name);
        if (found === undefined) throw new Error(`no VM named ${name}`);
        return found;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
