/**
 * The option string written to /dev/nvme-fabrics, built by one pure function. The kernel
 * splits it on ',' and '=' and knows nothing of quoting, so every value is checked against
 * a grammar that cannot contain either (nor whitespace or NUL) before it is joined.
 */
import net from 'node:net';
import { InvalidArgumentError, UnavailableError } from '../domain/errors';
import type { FabricsTuning } from './ports';

export interface ConnectOptionsInput {
  readonly transport?: 'tcp';
  /** An IP literal; host names must be resolved first (see resolveTraddr). */
  readonly traddr: string;
  readonly trsvcid: number;
  readonly nqn: string;
  readonly hostnqn: string;
  readonly hostid: string;
  readonly tuning?: FabricsTuning;
}

/** Defaults applied when tuning leaves a value out. */
export const DEFAULT_TUNING = Object.freeze({
  reconnectDelaySec: 2,
  ctrlLossTmoSec: -1,
});

/** NQN: 'nqn.' yyyy-mm '.' reverse domain, then ':' and an identifier; max 223 bytes. */
const NQN_RE = /^nqn\.\d{4}-\d{2}\.[A-Za-z0-9][A-Za-z0-9.-]*(:[A-Za-z0-9._:+-]+)?$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NQN_MAX_BYTES = 223;

export function isValidNqn(nqn: string): boolean {
  return nqn.length <= NQN_MAX_BYTES && NQN_RE.test(nqn);
}

export function isValidUuid(id: string): boolean {
  return UUID_RE.test(id);
}

function checkNqn(field: string, value: string): string {
  if (!isValidNqn(value)) {
    throw new InvalidArgumentError(`${field} is not a valid NQN: ${JSON.stringify(value)}`);
  }
  return value;
}

function checkInt(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${field} must be an integer in [${min}, ${max}]: ${value}`);
  }
  return value;
}

/** A timeout where -1 means "never" (the kernel's 'off'). */
function checkTmo(field: string, value: number, max: number): number {
  return value === -1 ? value : checkInt(field, value, 0, max);
}

export function checkTraddr(traddr: string): string {
  if (net.isIP(traddr) === 0) {
    throw new InvalidArgumentError(`traddr must be an IP address: ${JSON.stringify(traddr)}`);
  }
  return traddr;
}

/**
 * Validates every value and returns the option string, e.g.
 * `transport=tcp,traddr=10.0.0.5,trsvcid=4420,nqn=...,hostnqn=...,hostid=...,
 * reconnect_delay=2,ctrl_loss_tmo=-1`. Throws InvalidArgumentError naming the bad field.
 */
export function buildConnectOptions(input: ConnectOptionsInput): string {
  const transport = input.transport ?? 'tcp';
  if (transport !== 'tcp') {
    throw new InvalidArgumentError(`unsupported transport: ${JSON.stringify(transport)}`);
  }
  if (!isValidUuid(input.hostid)) {
    throw new InvalidArgumentError(`hostid must be a lower-case UUID: ${input.hostid}`);
  }
  const t = input.tuning ?? {};
  const parts: [string, string | number][] = [
    ['transport', transport],
    ['traddr', checkTraddr(input.traddr)],
    ['trsvcid', checkInt('trsvcid', input.trsvcid, 1, 65535)],
    ['nqn', checkNqn('nqn', input.nqn)],
    ['hostnqn', checkNqn('hostnqn', input.hostnqn)],
    ['hostid', input.hostid],
  ];
  if (t.nrIoQueues !== undefined) {
    parts.push(['nr_io_queues', checkInt('nrIoQueues', t.nrIoQueues, 1, 1024)]);
  }
  if (t.keepAliveTmoSec !== undefined) {
    parts.push(['keep_alive_tmo', checkInt('keepAliveTmoSec', t.keepAliveTmoSec, 1, 3600)]);
  }
  const reconnect = t.reconnectDelaySec ?? DEFAULT_TUNING.reconnectDelaySec;
  parts.push(['reconnect_delay', checkInt('reconnectDelaySec', reconnect, 1, 3600)]);
  const loss = t.ctrlLossTmoSec ?? DEFAULT_TUNING.ctrlLossTmoSec;
  parts.push(['ctrl_loss_tmo', checkTmo('ctrlLossTmoSec', loss, 86400 * 365)]);
  if (t.fastIoFailTmoSec !== undefined) {
    parts.push(['fast_io_fail_tmo', checkTmo('fastIoFailTmoSec', t.fastIoFailTmoSec, 86400)]);
  }
  return parts.map(([k, v]) => `${k}=${v}`).join(',');
}

/** Resolves a host name to addresses; the default wraps dns.promises.lookup. */
export type Resolver = (host: string) => Promise<readonly string[]>;

/**
 * Returns `traddr` unchanged when it is an IP literal, else the first address the resolver
 * returns (IPv4 preferred). The kernel only takes literals, so this happens before
 * buildConnectOptions. Throws InvalidArgumentError for a malformed name or no address,
 * UnavailableError when resolution itself fails.
 */
export async function resolveTraddr(traddr: string, resolve: Resolver): Promise<string> {
  if (net.isIP(traddr) !== 0) return traddr;
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(traddr)) {
    throw new InvalidArgumentError(`traddr is neither an IP nor a host name: ${traddr}`);
  }
  let resolved: readonly string[];
  try {
    resolved = await resolve(traddr);
  } catch (err) {
    throw new UnavailableError(`cannot resolve target host ${traddr}`, { traddr }, { cause: err });
  }
  const addrs = resolved.filter((a) => net.isIP(a) !== 0);
  const chosen = addrs.find((a) => net.isIPv4(a)) ?? addrs[0];
  if (chosen === undefined) {
    throw new InvalidArgumentError(`host name ${traddr} resolved to no address`);
  }
  return chosen;
}

/** Controller attributes the driver may change at run time (setAttribute allow-list). */
export const TUNABLE_ATTRIBUTES = ['ctrl_loss_tmo', 'reconnect_delay', 'fast_io_fail_tmo'] as const;
export type TunableAttribute = (typeof TUNABLE_ATTRIBUTES)[number];

export function isTunableAttribute(name: string): name is TunableAttribute {
  return (TUNABLE_ATTRIBUTES as readonly string[]).includes(name);
}
