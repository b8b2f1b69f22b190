/**
 * Pure interpretation of one addon scan: typed controllers, subsystems and namespaces, and
 * the lookups attach/detach need. Devices are found by subsystem NQN and nsid, never by
 * computing names: `nvmeXnY`'s Y is not the nsid, and with native multipath a second
 * controller to the same subsystem shows a hidden per-path node `nvmeXcZnY` while the
 * usable device stays the subsystem's head.
 */
import type { RawAttr, RawScan } from './native';
import type { ControllerState } from './ports';

export interface Controller {
  readonly name: string;
  readonly instance: number;
  readonly state: ControllerState;
  readonly transport: string;
  readonly address: string;
  /** Parsed `address`: traddr, trsvcid, src_addr, host_traddr... */
  readonly addressFields: Readonly<Record<string, string>>;
  readonly subsysnqn: string;
  readonly hostnqn: string;
  readonly hostid: string;
  readonly cntlid: number | undefined;
  /** -1 when the kernel shows 'off'. */
  readonly ctrlLossTmoSec: number | undefined;
  readonly reconnectDelaySec: number | undefined;
  readonly fastIoFailTmoSec: number | undefined;
  readonly katoSec: number | undefined;
}

export interface Subsystem {
  readonly name: string;
  readonly subsysnqn: string;
  /** Member controller instances. */
  readonly controllers: readonly number[];
  /** Visible namespace heads (native multipath). */
  readonly heads: readonly string[];
}

export interface Namespace {
  /** Block device name, e.g. 'nvme0n1'. */
  readonly name: string;
  readonly nsid: number | undefined;
  readonly sizeBytes: number | undefined;
  readonly uuid: string | undefined;
  readonly nguid: string | undefined;
  readonly wwid: string | undefined;
  /** Per-path node with no /dev entry (native multipath). */
  readonly hidden: boolean;
  /** 'major:minor' */
  readonly dev: string | undefined;
  /** Whether the device node exists, when the scan looked (a connect's lookup). */
  readonly devNode: boolean | undefined;
  /** Owning controller instance for per-path or single-path namespaces. */
  readonly controller: number | undefined;
  /** Owning subsystem name ('nvme-subsys0'), when known. */
  readonly subsystem: string | undefined;
}

export interface Topology {
  readonly controllers: readonly Controller[];
  readonly subsystems: readonly Subsystem[];
  readonly namespaces: readonly Namespace[];
  readonly truncated: boolean;
}

const STATES: readonly ControllerState[] = [
  'new',
  'live',
  'resetting',
  'connecting',
  'deleting',
  'deleting (no IO)',
  'dead',
];

function parseState(raw: RawAttr): ControllerState {
  return STATES.find((s) => s === raw) ?? 'unknown';
}

function parseIntAttr(raw: RawAttr): number | undefined {
  if (raw === null || !/^-?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Seconds, with the kernel's 'off' as -1. */
function parseTmo(raw: RawAttr): number | undefined {
  return raw === 'off' ? -1 : parseIntAttr(raw);
}

function text(raw: RawAttr): string | undefined {
  return raw === null || raw === '' ? undefined : raw;
}

/** 'traddr=10.0.0.5,trsvcid=4420,src_addr=10.0.0.9' → fields. */
export function parseAddress(address: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of address.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function instanceOf(name: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}(\\d+)$`).exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export function parseScan(raw: RawScan): Topology {
  const controllers: Controller[] = [];
  for (const c of raw.controllers) {
    const instance = instanceOf(c.name, 'nvme');
    if (instance === undefined) continue;
    const address = c.address ?? '';
    controllers.push({
      name: c.name,
      instance,
      state: parseState(c.state),
      transport: c.transport ?? '',
      address,
      addressFields: parseAddress(address),
      subsysnqn: c.subsysnqn ?? '',
      hostnqn: c.hostnqn ?? '',
      hostid: c.hostid ?? '',
      cntlid: parseIntAttr(c.cntlid),
      ctrlLossTmoSec: parseTmo(c.ctrlLossTmo),
      reconnectDelaySec: parseIntAttr(c.reconnectDelay),
      fastIoFailTmoSec: parseTmo(c.fastIoFailTmo),
      katoSec: parseIntAttr(c.kato),
    });
  }
  const subsystemOfController = new Map<number, string>();
  const subsystems: Subsystem[] = raw.subsystems.map((s) => {
    const members = s.members
      .map((m) => instanceOf(m, 'nvme'))
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    for (const m of members) subsystemOfController.set(m, s.name);
    const heads = raw.namespaces
      .filter((n) => n.parent === s.name && n.hidden !== '1')
      .map((n) => n.name)
      .sort();
    return { name: s.name, subsysnqn: s.subsysnqn ?? '', controllers: members, heads };
  });
  const namespaces: Namespace[] = raw.namespaces.map((n) => {
    const controller = instanceOf(n.parent, 'nvme');
    const isSubsystem = instanceOf(n.parent, 'nvme-subsys') !== undefined;
    const sectors = parseIntAttr(n.size);
    return {
      name: n.name,
      nsid: parseIntAttr(n.nsid),
      sizeBytes: sectors === undefined ? undefined : sectors * 512,
      uuid: text(n.uuid),
      nguid: text(n.nguid),
      wwid: text(n.wwid),
      // Older kernels have no `hidden` attribute; a per-path name is hidden by construction.
      hidden: n.hidden === null ? /^nvme\d+c\d+n\d+$/.test(n.name) : n.hidden === '1',
      dev: text(n.dev),
      devNode: n.devNode === '1' ? true : n.devNode === '0' ? false : undefined,
      controller,
      subsystem: isSubsystem
        ? n.parent
        : controller === undefined
          ? undefined
          : subsystemOfController.get(controller),
    };
  });
  return { controllers, subsystems, namespaces, truncated: raw.truncated };
}

/**
 * Controller states in which the kernel is tearing the controller down: it is neither
 * reused by an attach nor disconnected again by a detach.
 */
const REMOVING_STATES: ReadonlySet<ControllerState> = new Set<ControllerState>([
  'deleting',
  'deleting (no IO)',
  'dead',
]);

export function isRemoving(state: ControllerState): boolean {
  return REMOVING_STATES.has(state);
}

export function controllersOf(topo: Topology, nqn: string): Controller[] {
  return topo.controllers.filter((c) => c.subsysnqn === nqn);
}

/**
 * The visible block device for namespace `nsid` of subsystem `nqn`: the subsystem's head
 * under native multipath, else the namespace under one of its controllers. Undefined
 * while the kernel has not (yet) created it.
 */
export function findNamespace(topo: Topology, nqn: string, nsid: number): Namespace | undefined {
  const subsystemNames = new Set(
    topo.subsystems.filter((s) => s.subsysnqn === nqn).map((s) => s.name),
  );
  const instances = new Set(controllersOf(topo, nqn).map((c) => c.instance));
  const visible = topo.namespaces.filter((n) => !n.hidden && n.nsid === nsid);
  return (
    visible.find((n) => n.subsystem !== undefined && subsystemNames.has(n.subsystem)) ??
    visible.find((n) => n.controller !== undefined && instances.has(n.controller))
  );
}

/** Visible namespaces of subsystem `nqn` (any nsid), heads first. */
export function namespacesOf(topo: Topology, nqn: string): Namespace[] {
  const subsystemNames = new Set(
    topo.subsystems.filter((s) => s.subsysnqn === nqn).map((s) => s.name),
  );
  const instances = new Set(controllersOf(topo, nqn).map((c) => c.instance));
  return topo.namespaces.filter(
    (n) =>
      !n.hidden &&
      ((n.subsystem !== undefined && subsystemNames.has(n.subsystem)) ||
        (n.controller !== undefined && instances.has(n.controller))),
  );
}
