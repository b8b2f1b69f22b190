// What a guest test learns about its VM from the environment the host exports to every
// command (see test/vm/topology.ts). Read at call time, never at import time.

export type Role = 'rds' | 'node';

export interface GuestEnv {
  /** This VM's name (also its host name). */
  name: string;
  roles: Role[];
  /** Host NQN of this VM's node role (also written to /etc/nvme/hostnqn), if it has one. */
  hostNqn?: string;
  /** Address at which this VM reaches the rds role's NVMe/TCP port and SSH server. */
  rdsAddress: string;
  /** This VM's address on the inter-VM link (two-VM topologies only). */
  linkAddress?: string;
}

/** Environment variable names, shared with the host side. */
export const ENV = {
  name: 'RDSVM_NAME',
  roles: 'RDSVM_ROLES',
  hostNqn: 'RDSVM_HOSTNQN',
  rdsAddress: 'RDSVM_RDS_ADDR',
  linkAddress: 'RDSVM_LINK_ADDR',
} as const;

/** Null when not running inside a test VM (the variables are absent). */
export function guestEnv(env: NodeJS.ProcessEnv = process.env): GuestEnv | null {
  const name = env[ENV.name];
  if (name === undefined || name === '') return null;
  const roles = (env[ENV.roles] ?? '')
    .split(',')
    .filter((r): r is Role => r === 'rds' || r === 'node');
  const out: GuestEnv = { name, roles, rdsAddress: env[ENV.rdsAddress] ?? '127.0.0.1' };
  const hostNqn = env[ENV.hostNqn];
  if (hostNqn !== undefined && hostNqn !== '') out.hostNqn = hostNqn;
  const link = env[ENV.linkAddress];
  if (link !== undefined && link !== '') out.linkAddress = link;
  return out;
}

/** Why a guest test cannot run here (not in a VM, not root), or null. */
export function notInGuestReason(env: NodeJS.ProcessEnv = process.env): string | null {
  if (guestEnv(env) === null)
    return `not inside a test VM (${ENV.name} unset); run via the VM suite`;
  if (process.getuid?.() !== 0) return 'guest tests need root';
  return null;
}
