/**
 * Jittered exponential backoff, shared by every retry loop (SSH reconnect, informer watch).
 * Pure: the caller passes the random draw, so tests can pin it.
 */

/**
 * Delay before retry number `attempt` (0 = first retry): `min(capMs, baseMs * 2^attempt)`
 * scaled by a jitter factor in [0.5, 1) from `random` in [0, 1), rounded to whole ms.
 * Callers bound `attempt` themselves (2^attempt must stay finite).
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: number,
): number {
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(exp * (0.5 + random * 0.5));
}
