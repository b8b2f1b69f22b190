/**
 * Concurrency and deadline helpers for the SSH session: a FIFO semaphore whose waiters can
 * be cancelled, a gate where calls wait for the connection, and the per-call scope that
 * turns a timeout or the caller's AbortSignal into one internal AbortSignal with the right
 * DomainError as its reason.
 */
import {
  CancelledError,
  DeadlineExceededError,
  type DomainError,
  UnavailableError,
} from '../domain/errors';

/** A counting semaphore; waiters are served strictly in arrival order. */
export class FifoSemaphore {
  private active = 0;
  private readonly queue: Array<{ grant: () => void }> = [];

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.active;
  }
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a release function; rejects with `signal.reason` if aborted first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.active--;
      this.next();
    };
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: (): void => {
          signal.removeEventListener('abort', onAbort);
          this.active++;
          resolve(release);
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  private next(): void {
    if (this.active < this.limit) this.queue.shift()?.grant();
  }
}

/** Waiters for a value (the next connection); each can be cancelled by its signal. */
export class ReadyGate<T> {
  private readonly waiters = new Set<{ resolve(v: T): void; reject(e: Error): void }>();

  /** Resolves at the next open(); rejects at fail() or with `signal.reason` if aborted first. */
  wait(signal: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(w);
        reject(signal.reason as Error);
      };
      const w = {
        resolve: (v: T): void => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e: Error): void => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  /** Resolves every waiter with `value`. */
  open(value: T): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w.resolve(value);
  }

  /** Rejects every waiter with `err`. */
  fail(err: Error): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }
}

export type CallPhase = 'queue' | 'connect' | 'channel';

/**
 * One command's lifetime: aborts its signal when the timeout elapses (DeadlineExceeded, or
 * Unavailable if it never reached a channel while the connection was down) or when the caller aborts
 * (Cancelled). Always `dispose()` it.
 */
export class CallScope {
  private readonly ac = new AbortController();
  private readonly timer: NodeJS.Timeout;
  phase: CallPhase = 'queue';

  constructor(
    private readonly command: string,
    private readonly timeoutMs: number,
    private readonly external: AbortSignal | undefined,
    /** Why there is no connection, or undefined while connected. */
    private readonly notConnectedReason: () => string | undefined,
  ) {
    this.timer = setTimeout(() => this.abort(this.timeoutError()), timeoutMs);
    if (external?.aborted === true) this.onExternal();
    else external?.addEventListener('abort', this.onExternal, { once: true });
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  abort(reason: DomainError): void {
    if (!this.ac.signal.aborted) this.ac.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.external?.removeEventListener('abort', this.onExternal);
  }

  private readonly onExternal = (): void => {
    this.abort(new CancelledError(`${this.command} was cancelled by the caller`));
  };

  private timeoutError(): DomainError {
    // Still queued or waiting while the connection is down: the device is unreachable,
    // which callers treat differently from a slow command.
    const down = this.phase === 'channel' ? undefined : this.notConnectedReason();
    if (down !== undefined) {
      return new UnavailableError(`no connection to the RDS: ${down}`, {
        command: this.command,
      });
    }
    return new DeadlineExceededError(`${this.command} timed out after ${this.timeoutMs} ms`, {
      command: this.command,
      phase: this.phase,
    });
  }
}
