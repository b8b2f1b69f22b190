import t from 'tap';
import { LeaderElector } from '../../../src/kube/leader';
import { KubeApiError, type LeaseApi, type LeaseRecord } from '../../../src/kube/ports';
import { nullLogger } from '../../../src/observability/logger';

/** An in-memory Lease with optimistic concurrency, like the API server's. */
class MemLeases implements LeaseApi {
  rec: LeaseRecord | undefined;
  private rv = 1;
  down = false;
  async get(): Promise<LeaseRecord | undefined> {
    if (this.down) throw new KubeApiError(0, 'down');
    return this.rec;
  }
  async create(
    _ns: string,
    _n: string,
    spec: Omit<LeaseRecord, 'resourceVersion'>,
  ): Promise<LeaseRecord> {
    if (this.down) throw new KubeApiError(0, 'down');
    if (this.rec) throw new KubeApiError(409, 'exists');
    this.rec = { ...spec, resourceVersion: String(++this.rv) };
    return this.rec;
  }
  async update(_ns: string, _n: string, r: LeaseRecord): Promise<LeaseRecord> {
    if (this.down) throw new KubeApiError(0, 'down');
    if (this.rec?.resourceVersion !== r.resourceVersion) throw new KubeApiError(409, 'conflict');
    this.rec = { ...r, resourceVersion: String(++this.rv) };
    return this.rec;
  }
}

t.test(
  'one leader at a time; takeover after expiry; step down after renew deadline; release',
  async (t) => {
    const leases = new MemLeases();
    let now = 1_000_000;
    const changes: string[] = [];
    const mk = (id: string) =>
      new LeaderElector({
        leases,
        namespace: 'kube-system',
        name: 'rds-csi',
        identity: id,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        now: () => now,
        logger: nullLogger(),
        onStartedLeading: () => changes.push(`${id}+`),
        onStoppedLeading: () => changes.push(`${id}-`),
      });
    const a = mk('a');
    const b = mk('b');
    await a.step();
    await b.step();
    t.equal(a.isLeader, true);
    t.equal(b.isLeader, false);
    now += 5_000;
    await a.step();
    await b.step();
    t.equal(b.isLeader, false, 'renewed lease is not expired');
    // a stops renewing (partitioned): b sees no change for the lease duration and takes over.
    leases.down = false;
    now += 14_000;
    await b.step();
    t.equal(b.isLeader, false, 'not yet: 14 s since b last saw a change');
    now += 1_000;
    await b.step();
    t.equal(b.isLeader, true);
    t.equal(leases.rec?.transitions, 1);
    // a notices on its next renew (409/other holder) and steps down.
    await a.step();
    t.equal(a.isLeader, false);
    // API outage: b keeps leading until the renew deadline, then steps down.
    leases.down = true;
    now += 5_000;
    await b.step();
    t.equal(b.isLeader, true);
    now += 6_000;
    await b.step();
    t.equal(b.isLeader, false);
    leases.down = false;
    await b.step();
    t.equal(b.isLeader, true);
    await b.stop();
    t.equal(leases.rec?.holder, '', 'released on stop');
    await a.step();
    t.equal(a.isLeader, true, 'a released lease is taken at once');
    t.same(changes, ['a+', 'b+', 'a-', 'b-', 'b+', 'b-', 'a+']);
  },
);
