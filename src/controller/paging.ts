/**
 * Paging for ListVolumes / ListSnapshots. Items are sorted by id (a stable order that does
 * not depend on the device's print order); the token is the id of the first item of the
 * next page, so deleting items between calls never skips or repeats a survivor. A token
 * that is not an id of the listed kind is ABORTED, as the CSI spec asks.
 */
import { AbortedError, InvalidArgumentError } from '../domain/errors';

export interface Page<T> {
  readonly items: readonly T[];
  /** '' when this is the last page. */
  readonly nextToken: string;
}

export function paginate<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  maxEntries: number,
  startingToken: string,
  isToken: (token: string) => boolean,
): Page<T> {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new InvalidArgumentError('max_entries must not be negative');
  }
  if (startingToken !== '' && !isToken(startingToken)) {
    throw new AbortedError('starting_token is not valid (it must come from a previous next_token)');
  }
  const sorted = [...items].sort((a, b) => compare(idOf(a), idOf(b)));
  const start = startingToken === '' ? 0 : firstAtOrAfter(sorted, idOf, startingToken);
  const end = maxEntries === 0 ? sorted.length : Math.min(sorted.length, start + maxEntries);
  const next = sorted[end];
  return { items: sorted.slice(start, end), nextToken: next === undefined ? '' : idOf(next) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function firstAtOrAfter<T>(sorted: readonly T[], idOf: (item: T) => string, id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(idOf(sorted[mid] as T), id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
