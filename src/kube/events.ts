/**
 * The one event recorder: `post` enqueues and returns at once (it never throws and never
 * waits, so a CSI call is never failed or slowed by Kubernetes); a single background
 * worker resolves the target (a ref, or a lookup such as "the PVC of this volume"), sends
 * the event and counts it. The queue is bounded: when full, the new event is dropped.
 * Drops are counted by cause (`queue_full`, `api_error`, `no_target`, `stopped`).
 * Events are always created in the involved object's namespace; cluster-scoped objects
 * (PVs, Nodes) get theirs in `defaultNamespace`.
 *
 * Repeats are counted the way Kubernetes' own recorder does: an event identical in its
 * object (kind, namespace, name, uid), type, reason and message to one this process
 * created is not created again; the existing one gets count + 1 and a new lastTimestamp.
 * The identities of the last `cacheSize` events are kept (least recently used dropped);
 * when the API server has expired the event (404), a new one is created.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../observability/logger';
import {
  KubeApiError,
  type EventSink,
  type EventsApi,
  type KubeEventSpec,
  type ObjectRef,
} from './ports';

export type RefSource = ObjectRef | (() => Promise<ObjectRef | undefined>);

export type DropCause = 'queue_full' | 'api_error' | 'no_target' | 'stopped';

export interface EventRecorderOptions {
  readonly api: EventsApi;
  readonly logger: Logger;
  readonly metrics?: {
    readonly eventsPosted: Pick<Counter<'reason'>, 'inc'>;
    readonly eventsDropped: Pick<Counter<'reason'>, 'inc'>;
  };
  /** Queue bound (default 256). */
  readonly capacity?: number;
  readonly defaultNamespace?: string;
  readonly now?: () => number;
  /** How many distinct events are remembered for counting repeats (default 4096). */
  readonly cacheSize?: number;
}

interface Seen {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

/** What makes two events the same event (the message included, as Kubernetes does). */
function identity(namespace: string, ref: ObjectRef, spec: KubeEventSpec): string {
  return JSON.stringify([
    namespace,
    ref.kind,
    ref.namespace ?? '',
    ref.name,
    ref.uid ?? '',
    spec.type,
    spec.reason,
    spec.message,
  ]);
}

interface Item {
  readonly ref: RefSource;
  readonly spec: KubeEventSpec;
  readonly at: number;
}

export class EventRecorder implements EventSink {
  private readonly queue: Item[] = [];
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly seen = new Map<string, Seen>();
  private draining: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: EventRecorderOptions) {
    this.capacity = o.capacity ?? 256;
    this.now = o.now ?? Date.now;
  }

  post(ref: ObjectRef, spec: KubeEventSpec): void {
    this.postTo(ref, spec);
  }

  /** Like post, with a target resolved later by the worker (off the caller's path). */
  postTo(ref: RefSource, spec: KubeEventSpec): void {
    if (this.stopped) return this.drop('stopped', spec);
    if (this.queue.length >= this.capacity) return this.drop('queue_full', spec);
    this.queue.push({ ref, spec, at: this.now() });
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves when everything queued so far was sent or dropped. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /** Send what is queued (bounded by the caller's patience), then refuse new events. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  get pending(): number {
    return this.queue.length;
  }

  private drop(cause: DropCause, spec: KubeEventSpec, err?: unknown): void {
    this.o.metrics?.eventsDropped.inc({ reason: cause });
    this.o.logger.debug('event dropped', { cause, reason: spec.reason, ...(err ? { err } : {}) });
  }

  private async drain(): Promise<void> {
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
      await this.send(item);
    }
  }

  private async send(item: Item): Promise<void> {
    let ref: ObjectRef | undefined;
    try {
      ref = typeof item.ref === 'function' ? await item.ref() : item.ref;
    } catch (err) {
      return this.drop('api_error', item.spec, err);
    }
    if (ref === undefined) return this.drop('no_target', item.spec);
    const namespace =
      ref.kind === 'PersistentVolumeClaim' ? ref.namespace : (this.o.defaultNamespace ?? 'default');
    if (namespace === undefined || namespace === '') return this.drop('no_target', item.spec);
    try {
      await this.write(namespace, ref, item.spec, new Date(item.at));
      this.o.metrics?.eventsPosted.inc({ reason: item.spec.reason });
    } catch (err) {
      this.drop('api_error', item.spec, err);
    }
  }

  /** Create the event, or count a repeat of one created before. */
  private async write(
    namespace: string,
    ref: ObjectRef,
    spec: KubeEventSpec,
    at: Date,
  ): Promise<void> {
    const key = identity(namespace, ref, spec);
    const before = this.seen.get(key);
    if (before !== undefined) {
      this.seen.delete(key);
      try {
        await this.o.api.repeat(before.namespace, before.name, before.count + 1, at);
        before.count++;
        this.seen.set(key, before);
        return;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) {
          this.seen.set(key, before);
          throw err;
        }
      }
    }
    const name = await this.o.api.create(namespace, ref, spec, at);
    this.seen.set(key, { namespace, name, count: 1 });
    const cap = this.o.cacheSize ?? 4096;
    for (const oldest of this.seen.keys()) {
      if (this.seen.size <= cap) break;
      this.seen.delete(oldest);
    }
  }
}
