/**
 * A supervised informer: list, then watch from the list's resourceVersion, keeping a cache.
 * - A watch that ends (server timeout, dropped connection) is resumed from the last seen
 *   resourceVersion; an error backs off exponentially (with jitter) before retrying.
 * - 410 Gone (resourceVersion too old) triggers a full relist; the cache is diffed against
 *   it so adds, updates and deletes missed while the watch was down are delivered, and
 *   `onRelist` tells the owner to rebuild whatever it derived from the cache.
 * - Every `resyncMs` the informer relists the same way, so the cache cannot drift forever.
 * Handlers must not throw (a throw is logged and swallowed so the loop keeps running).
 */
import { backoffDelay } from '../domain/backoff';
import type { Logger } from '../observability/logger';
import type { Cache } from './ports';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface RawObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  code?: number;
}

export interface ListWatch<T extends RawObject> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Watch from `resourceVersion`. `onEvent` gets each event; `onDone` is called once when
   * the stream ends (null = closed cleanly). Resolves to a function that stops the watch.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void>;
}

export interface InformerHandlers<V> {
  onAdd?(v: V): void;
  onUpdate?(old: V, v: V): void;
  onDelete?(v: V): void;
  /** After every full list (the first one included), with the whole cache. */
  onRelist?(all: V[]): void;
}

export interface InformerOptions<T extends RawObject, V> extends InformerHandlers<V> {
  readonly name: string;
  readonly listWatch: ListWatch<T>;
  readonly convert: (raw: T) => V;
  readonly key: (v: V) => string;
  readonly logger: Logger;
  /** Full relist period (default 10 min; 0 = never). */
  readonly resyncMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
}

type WatchEnd = 'closed' | 'gone' | 'resync' | 'stopped';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class SupervisedInformer<T extends RawObject, V> implements Cache<V> {
  private readonly items = new Map<string, V>();
  private readonly stopper = new AbortController();
  private resourceVersion = '';
  private running: Promise<void> | undefined;
  private stopWatch: (() => void) | undefined;
  private endWatch: ((why: WatchEnd) => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncWaiters: Array<() => void> = [];
  /** Counters for diagnostics and tests. */
  readonly stats = { lists: 0, watches: 0, errors: 0, gone: 0 };
  synced = false;

  constructor(private readonly o: InformerOptions<T, V>) {}

  get(name: string): V | undefined {
    return this.items.get(name);
  }

  list(): V[] {
    return [...this.items.values()];
  }

  start(): void {
    if (this.running !== undefined) return;
    this.running = this.loop();
    const every = this.o.resyncMs ?? 600_000;
    if (every > 0) {
      this.resyncTimer = setInterval(() => this.endWatch?.('resync'), every);
      this.resyncTimer.unref();
    }
  }

  /** Resolves once the first list is in the cache (or the informer stops). */
  waitForSync(): Promise<void> {
    if (this.synced || this.stopper.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    clearInterval(this.resyncTimer);
    this.endWatch?.('stopped');
    for (const w of this.syncWaiters.splice(0)) w();
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let needList = true;
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const end = await this.watchOnce();
        failures = 0;
        if (end === 'gone' || end === 'resync') needList = true;
        if (end === 'gone') this.stats.gone++;
      } catch (err) {
        if (signal.aborted) break;
        this.stats.errors++;
        failures++;
        const base = this.o.backoffInitialMs ?? 500;
        const cap = this.o.backoffMaxMs ?? 30_000;
        const random = (this.o.random ?? Math.random)();
        const jittered = backoffDelay(Math.min(failures - 1, 16), base, cap, random);
        this.o.logger.warn('watch failed; retrying', {
          informer: this.o.name,
          attempt: failures,
          delayMs: jittered,
          err,
        });
        await sleep(jittered, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.o.listWatch.list();
    this.stats.lists++;
    const seen = new Set<string>();
    for (const raw of items) {
      const v = this.o.convert(raw);
      const k = this.o.key(v);
      seen.add(k);
      this.upsert(k, v);
    }
    for (const [k, old] of [...this.items]) {
      if (!seen.has(k)) {
        this.items.delete(k);
        this.call(() => this.o.onDelete?.(old));
      }
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
    this.call(() => this.o.onRelist?.(this.list()));
  }

  private upsert(k: string, v: V): void {
    const old = this.items.get(k);
    this.items.set(k, v);
    if (old === undefined) this.call(() => this.o.onAdd?.(v));
    else this.call(() => this.o.onUpdate?.(old, v));
  }

  /** One watch stream; resolves how it ended, rejects on a transport/API error. */
  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let settled = false;
      const finish = (why: WatchEnd | Error): void => {
        if (settled) return;
        settled = true;
        this.endWatch = undefined;
        const stop = this.stopWatch;
        this.stopWatch = undefined;
        stop?.();
        if (why instanceof Error) reject(why);
        else resolve(why);
      };
      this.endWatch = finish;
      if (this.stopper.signal.aborted) return finish('stopped');
      this.stats.watches++;
      const onEvent = (type: WatchEventType, obj: T): void => {
        if (settled) return;
        if (type === 'ERROR') {
          if (obj.code === 410) finish('gone');
          else finish(new Error(`watch error event (code ${String(obj.code)})`));
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv !== undefined && rv !== '') this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        const v = this.o.convert(obj);
        const k = this.o.key(v);
        if (type === 'DELETED') {
          const old = this.items.get(k);
          this.items.delete(k);
          this.call(() => this.o.onDelete?.(old ?? v));
        } else {
          this.upsert(k, v);
        }
      };
      const onDone = (err: unknown): void => {
        if (err === null || err === undefined) finish('closed');
        else if ((err as { statusCode?: number }).statusCode === 410) finish('gone');
        else finish(err instanceof Error ? err : new Error('watch ended with a non-Error failure'));
      };
      this.o.listWatch.watch(this.resourceVersion, onEvent, onDone).then(
        (stop) => {
          if (settled) stop();
          else this.stopWatch = stop;
        },
        (err: unknown) => onDone(err ?? new Error('watch failed')),
      );
    });
  }

  private call(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.o.logger.error('informer handler threw', { informer: this.o.name, err });
    }
  }
}
