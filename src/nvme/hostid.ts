/**
 * This node's NVMe host identity: one host NQN and one host id, sent together on every
 * connect. The pair must be stable across restarts (the RDS allow-list names the host NQN)
 * and one host id must never appear with two host NQNs (the kernel and targets treat the
 * host id as the host's identity). /etc/nvme/hostnqn and /etc/nvme/hostid, as written by
 * nvme-cli, win when present; whatever is missing is derived deterministically.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../domain/errors';
import { isValidNqn, isValidUuid } from './options';

export interface HostIdentity {
  readonly hostnqn: string;
  readonly hostid: string;
  /** Where each value came from, for the log and `doctor`. */
  readonly source: 'files' | 'hostnqn-file' | 'hostid-file' | 'node-id';
}

/** Namespace UUID for ids derived by this driver (fixed forever: changing it renames hosts). */
const RDS_CSI_NAMESPACE = '6f1b2c4e-8d3a-4f57-9a0e-5c2d7b1e9f30';
const UUID_NQN_PREFIX = 'nqn.2014-08.org.nvmexpress:uuid:';

/** RFC 4122 name-based UUID (version 5, SHA-1) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = RDS_CSI_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Pure decision from what the files held (undefined = absent or empty):
 * - both present: used as they are;
 * - only hostnqn: the host id is the UUID inside a `...:uuid:<uuid>` NQN, else derived from
 *   the NQN itself, so the same NQN always gets the same id;
 * - only hostid: the NQN is the standard UUID form of that id;
 * - neither: both come from a UUIDv5 of the node id (the Kubernetes node name).
 */
export function deriveHostIdentity(input: {
  readonly hostnqn?: string;
  readonly hostid?: string;
  readonly nodeId: string;
}): HostIdentity {
  const nqn = input.hostnqn?.trim() || undefined;
  const id = input.hostid?.trim().toLowerCase() || undefined;
  if (nqn !== undefined && !isValidNqn(nqn)) {
    throw new InvalidArgumentError(`host NQN is not a valid NQN: ${JSON.stringify(nqn)}`);
  }
  if (id !== undefined && !isValidUuid(id)) {
    throw new InvalidArgumentError(`host id is not a UUID: ${JSON.stringify(id)}`);
  }
  if (nqn !== undefined && id !== undefined) return { hostnqn: nqn, hostid: id, source: 'files' };
  if (nqn !== undefined) {
    const embedded = nqn.startsWith(UUID_NQN_PREFIX) ? nqn.slice(UUID_NQN_PREFIX.length) : '';
    const hostid = isValidUuid(embedded) ? embedded : uuidV5(`hostnqn:${nqn}`);
    return { hostnqn: nqn, hostid, source: 'hostnqn-file' };
  }
  if (id !== undefined) {
    return { hostnqn: UUID_NQN_PREFIX + id, hostid: id, source: 'hostid-file' };
  }
  if (input.nodeId.trim() === '') {
    throw new InvalidArgumentError('node id is empty; cannot derive an NVMe host identity');
  }
  const derived = uuidV5(`node:${input.nodeId.trim()}`);
  return { hostnqn: UUID_NQN_PREFIX + derived, hostid: derived, source: 'node-id' };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads <etcDir>/hostnqn and <etcDir>/hostid (default /etc/nvme) and derives the rest. */
export async function loadHostIdentity(opts: {
  readonly nodeId: string;
  readonly etcDir?: string;
}): Promise<HostIdentity> {
  const dir = opts.etcDir ?? '/etc/nvme';
  const [hostnqn, hostid] = await Promise.all([
    readOptional(path.join(dir, 'hostnqn')),
    readOptional(path.join(dir, 'hostid')),
  ]);
  return deriveHostIdentity({ hostnqn, hostid, nodeId: opts.nodeId });
}
