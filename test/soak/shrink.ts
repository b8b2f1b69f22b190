// Shrinking a failing history: first a static slice (the failing operation's volumes, their
// sources, and the faults before it), then delta debugging by replay, each candidate made
// valid again by the model and closed with the teardown. Pure but for the replay callback.
import { apply, emptyModel, normalize, resourcesOf, teardownOps, type Op } from './model';

/** `ops` made valid and closed with the operations that take everything down. */
export function closed(ops: readonly Op[]): Op[] {
  const body = normalize(ops);
  const m = emptyModel();
  for (const op of body) apply(m, op);
  return [...body, ...teardownOps(m)];
}

/**
 * The operations that can matter to the failure at `failedAt`: every operation up to it on
 * the volumes and snapshots it touches (and, transitively, their clone and restore sources),
 * and every fault before it.
 */
export function focus(ops: readonly Op[], failedAt: number): Op[] {
  const prefix = ops.slice(0, failedAt + 1);
  const last = prefix[prefix.length - 1];
  if (last === undefined) return [];
  const keep = new Set(resourcesOf(last).filter((r) => !r.startsWith('fault:')));
  // Walk backwards: an operation that shares a kept resource keeps all of its resources.
  let grew = true;
  while (grew) {
    grew = false;
    for (const op of prefix) {
      if (op.k === 'fault') continue;
      const rs = resourcesOf(op);
      if (rs.some((r) => keep.has(r)) && rs.some((r) => !keep.has(r))) {
        for (const r of rs) keep.add(r);
        grew = true;
      }
    }
  }
  return closed(
    prefix.filter((op) => op.k === 'fault' || resourcesOf(op).some((r) => keep.has(r))),
  );
}

/**
 * Delta debugging (ddmin) of `ops` under `fails`, which replays a candidate and says whether
 * it still fails. Stops at one-minimality or when the budget runs out; returns the smallest
 * failing list found.
 */
export async function ddmin(
  ops: readonly Op[],
  fails: (candidate: Op[]) => Promise<boolean>,
  budgetMs: number,
  log: (line: string) => void = () => undefined,
): Promise<Op[]> {
  const deadline = Date.now() + budgetMs;
  // The teardown at the end is part of the list: closed() puts back whatever is needed.
  let current = normalize(ops);
  let n = 2;
  while (current.length >= 2 && Date.now() < deadline) {
    const size = Math.ceil(current.length / n);
    let reduced = false;
    for (let start = 0; start < current.length && Date.now() < deadline; start += size) {
      const complement = [...current.slice(0, start), ...current.slice(start + size)];
      const candidate = closed(complement);
      if (candidate.length >= closed(current).length) continue;
      log(`shrink: trying ${candidate.length} operations (from ${closed(current).length})`);
      if (await fails(candidate)) {
        current = normalize(complement);
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(n * 2, current.length);
    }
  }
  return closed(current);
}
