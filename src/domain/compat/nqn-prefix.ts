/**
 * `CSI_MANAGED_NQN_PREFIX`, the Go rds-csi node's variable naming the subsystems it manages
 * (its chart's default `nqn.2000-02.com.mikrotik:pvc-`). Read with that driver's rules (starts
 * with `nqn.`, contains `:`, at most 223 bytes) and narrowed to what its disconnect allowed
 * at all, the hard-coded `nqn.2000-02.com.mikrotik:pvc-`: an install configured through this
 * variable never disconnects anything outside it. Pure.
 */
export const GO_DISCONNECT_PREFIX = 'nqn.2000-02.com.mikrotik:pvc-';

const NQN_MAX_BYTES = 223;

/** The prefix the node manages, or why `raw` is refused. */
export function managedPrefixFromGo(raw: string): { prefix: string } | { error: string } {
  const v = raw.trim();
  if (!v.startsWith('nqn.') || !v.includes(':') || Buffer.byteLength(v) > NQN_MAX_BYTES) {
    return { error: `must start with "nqn.", contain ":" and be at most 223 bytes, got "${raw}"` };
  }
  if (/[,=\s]/.test(v)) return { error: `must not contain ",", "=" or spaces, got "${raw}"` };
  if (v.startsWith(GO_DISCONNECT_PREFIX)) return { prefix: v };
  if (GO_DISCONNECT_PREFIX.startsWith(v)) return { prefix: GO_DISCONNECT_PREFIX };
  return {
    error: `must lie under ${GO_DISCONNECT_PREFIX} (the volumes of the RDS), got "${raw}"`,
  };
}
