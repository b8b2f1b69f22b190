/**
 * Polling with a deadline and an AbortSignal, for things the kernel creates asynchronously
 * (a namespace block device after a connect). Short first polls (the device usually shows
 * up within a few ms of the connect returning), backing off so a slow device costs little
 * CPU. Never a fixed sleep, never unbounded.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CancelledError, DeadlineExceededError, type DomainError } from '../domain/errors';

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with CancelledError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * A deadline timer: calls `fire` after `ms` unless the returned cancel runs first. Nothing
   * waits on it in sequence (it only races other work), so a test clock may never fire it.
   * A callback, not a promise: cancelling one is clearTimeout, with no abort error made.
   */
  timer(ms: number, fire: () => void): () => void;
}

async function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (err) {
    throw new CancelledError('operation cancelled', {}, { cause: err });
  }
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: realSleep,
  timer(ms, fire) {
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  },
};

export interface PollOptions {
  readonly clock: Clock;
  /** Absolute clock.now() value after which polling stops. */
  readonly deadlineAt: number;
  readonly signal?: AbortSignal;
  /** First delay between polls; default 2 ms. */
  readonly minMs?: number;
  /** Largest delay between polls; default 50 ms. */
  readonly maxMs?: number;
  /** Error to throw at the deadline; default DeadlineExceededError. */
  readonly onDeadline?: () => DomainError;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new CancelledError('operation cancelled', {}, { cause: signal.reason });
  }
}

/**
 * Calls `probe` until it returns a value other than undefined. Delays double from minMs to
 * maxMs and never run past the deadline; the probe runs once more at the deadline itself.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: PollOptions,
): Promise<T> {
  const { clock, deadlineAt, signal } = opts;
  const maxMs = opts.maxMs ?? 50;
  let wait = opts.minMs ?? 2;
  for (;;) {
    throwIfAborted(signal);
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadlineAt - clock.now();
    if (left <= 0) {
      throw opts.onDeadline?.() ?? new DeadlineExceededError('timed out waiting');
    }
    await clock.sleep(Math.min(wait, left), signal);
    wait = Math.min(wait * 2, maxMs);
  }
}

/**
 * Settles like `work`, unless the deadline passes or `signal` aborts first. The work is not
 * stopped (a fabrics write cannot be interrupted); its late result is simply not awaited,
 * and callers stay correct because a retried connect reuses what it left behind.
 */
export function raceDeadline<T>(
  work: Promise<T>,
  opts: { clock: Clock; deadlineAt: number; signal?: AbortSignal; what: string },
): Promise<T> {
  throwIfAborted(opts.signal);
  const { signal } = opts;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      cancel();
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void =>
      settle(() =>
        reject(new CancelledError('operation cancelled', {}, { cause: signal?.reason })),
      );
    const cancel = opts.clock.timer(Math.max(0, opts.deadlineAt - opts.clock.now()), () =>
      settle(() =>
        reject(new DeadlineExceededError(`${opts.what} did not finish before the deadline`)),
      ),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    // A late result or error of the work lands here after the race is decided: ignored.
    work.then(
      (value) => settle(() => resolve(value)),
      // The work's own rejection, passed on as it is (the addon rejects with NativeError).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      (err: unknown) => settle(() => reject(err)),
    );
  });
}
