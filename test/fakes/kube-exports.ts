/** An in-memory RDS export allow-list store standing in for ExportsPort + VolumesPort.get. */
import { NotFoundError } from '../../src/domain/errors';
import type { CallOptions, Disk, ExportsPort, VolumesPort } from '../../src/routeros/ports';

export class FakeExports implements ExportsPort, Pick<VolumesPort, 'get'> {
  readonly allow = new Map<string, readonly string[]>();
  readonly calls: Array<{ slot: string; hostNqns: readonly string[] }> = [];
  /** Make the next N setAllowedHosts calls fail with this error. */
  failNext: { count: number; error: Error } | undefined;

  addDisk(slot: string, hosts: readonly string[] = []): void {
    this.allow.set(slot, hosts);
  }

  setAllowedHosts(slot: string, hostNqns: readonly string[], o?: CallOptions): Promise<void> {
    o?.signal?.throwIfAborted();
    if (this.failNext !== undefined && this.failNext.count > 0) {
      this.failNext.count--;
      return Promise.reject(this.failNext.error);
    }
    if (!this.allow.has(slot)) return Promise.reject(new NotFoundError(`disk ${slot} not found`));
    this.calls.push({ slot, hostNqns: [...hostNqns] });
    this.allow.set(slot, [...hostNqns]);
    return Promise.resolve();
  }

  get(slot: string): Promise<Disk | undefined> {
    const hosts = this.allow.get(slot);
    if (hosts === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      slot,
      filePath: `pool/${slot}.img`,
      sizeBytes: 1 << 30,
      nvmeExport: true,
      nqn: `nqn.2000-02.com.mikrotik:${slot}`,
      port: 4420,
      allowedHosts: [...hosts],
    });
  }
}
