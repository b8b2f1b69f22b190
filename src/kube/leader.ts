/**
 * Leader election on a coordination.k8s.io Lease, so two controller replicas never both
 * run the reconciler. Expiry is judged by when this process last saw the lease record
 * change (local monotonic-ish clock), not by the renewTime written by another host, so
 * clock skew between nodes cannot make a live leader look expired.
 * - Leader: renews every `retryPeriodMs`; if no renewal succeeded for `renewDeadlineMs`
 *   it steps down (onStoppedLeading) before the lease can expire for others.
 * - Follower: takes the lease once the holder has not renewed for `leaseDurationMs`.
 * - stop(): a leader releases the lease (empty holder) so a peer takes over at once.
 */
import type { Logger } from '../observability/logger';
import { KubeApiError, type LeaseApi, type LeaseRecord } from './ports';

export interface LeaderElectorOptions {
  readonly leases: LeaseApi;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica: the pod name. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
  readonly logger: Logger;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
}

export class LeaderElector {
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private observed: { rv: string; at: number } | undefined;
  private lastRenew = 0;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;
  private readonly now: () => number;

  constructor(private readonly o: LeaderElectorOptions) {
    this.duration = o.leaseDurationMs ?? 15_000;
    this.renewDeadline = o.renewDeadlineMs ?? 10_000;
    this.retry = o.retryPeriodMs ?? 2_000;
    this.now = o.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const tick = (): void => {
      this.running = this.step().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.retry);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (!this.leader) return;
    this.setLeader(false);
    try {
      const cur = await this.o.leases.get(this.o.namespace, this.o.name);
      if (cur?.holder === this.o.identity) {
        await this.o.leases.update(this.o.namespace, this.o.name, {
          ...cur,
          holder: '',
          renewTime: this.now(),
        });
      }
    } catch (err) {
      this.o.logger.warn('could not release the leader lease', { err });
    }
  }

  /** One acquire-or-renew attempt (exposed for tests). */
  async step(): Promise<void> {
    const now = this.now();
    try {
      const ok = await this.tryAcquireOrRenew(now);
      if (ok) this.lastRenew = now;
      this.setLeader(ok);
    } catch (err) {
      this.o.logger.warn('leader election attempt failed', { err, lease: this.o.name });
      if (this.leader && now - this.lastRenew > this.renewDeadline) this.setLeader(false);
    }
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { leases, namespace, name, identity } = this.o;
    const spec = { holder: identity, leaseDurationSeconds: Math.ceil(this.duration / 1000) };
    const cur = await leases.get(namespace, name);
    if (cur === undefined) {
      try {
        await leases.create(namespace, name, {
          ...spec,
          acquireTime: now,
          renewTime: now,
          transitions: 0,
        });
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) return false;
        throw err;
      }
    }
    if (this.observed?.rv !== cur.resourceVersion)
      this.observed = { rv: cur.resourceVersion, at: now };
    const mine = cur.holder === identity;
    const free = cur.holder === undefined || cur.holder === '';
    const durationMs = (cur.leaseDurationSeconds ?? this.duration / 1000) * 1000;
    const expired = now - this.observed.at >= durationMs;
    if (!mine && !free && !expired) return false;
    const next: LeaseRecord = {
      ...cur,
      ...spec,
      renewTime: now,
      ...(mine ? {} : { acquireTime: now, transitions: cur.transitions + 1 }),
    };
    try {
      const written = await leases.update(namespace, name, next);
      this.observed = { rv: written.resourceVersion, at: now };
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  private setLeader(v: boolean): void {
    if (v === this.leader) return;
    this.leader = v;
    this.o.logger.info(v ? 'became leader' : 'lost leadership', {
      lease: this.o.name,
      identity: this.o.identity,
    });
    if (v) this.o.onStartedLeading?.();
    else this.o.onStoppedLeading?.();
  }
}
