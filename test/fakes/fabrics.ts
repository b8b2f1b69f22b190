/**
 * An in-memory Fabrics port for node use-case tests. Devices are named /dev/nvme<N>n1 with
 * N a fresh instance per connect, so a reconnect renumbers like the kernel does.
 */
import { FailedPreconditionError, NotFoundError, UnavailableError } from '../../src/domain/errors';
import type {
  AttachResult,
  AttachTarget,
  AttachedVolume,
  ControllerState,
  Fabrics,
  FindOptions,
} from '../../src/nvme/ports';

interface Conn {
  instance: number;
  state: ControllerState;
  device: string | undefined;
  sizeBytes: number;
  target: AttachTarget;
}

export class FakeFabrics implements Fabrics {
  readonly conns = new Map<string, Conn>();
  readonly calls: string[] = [];
  private next = 0;
  /** Thrown by the next attach() calls (then cleared). */
  attachError: Error | undefined;
  /** NQNs whose detach refuses because the device is still used. */
  readonly busy = new Set<string>();
  /** Size a new namespace gets. */
  defaultSize = 1024 ** 3;
  /** Size the namespace takes after the next rescan() (a target-side grow). */
  readonly pendingSize = new Map<string, number>();

  attach(target: AttachTarget): Promise<AttachResult> {
    this.calls.push(`attach ${target.nqn}`);
    if (this.attachError) {
      const e = this.attachError;
      this.attachError = undefined;
      return Promise.reject(e);
    }
    const existing = this.conns.get(target.nqn);
    if (existing?.device !== undefined && existing.state === 'live') {
      return Promise.resolve(this.result(existing, true));
    }
    const instance = this.next++;
    const conn: Conn = {
      instance,
      state: 'live',
      device: `/dev/nvme${instance}n1`,
      sizeBytes: existing?.sizeBytes ?? this.defaultSize,
      target,
    };
    this.conns.set(target.nqn, conn);
    return Promise.resolve(this.result(conn, false));
  }

  private result(c: Conn, reused: boolean): AttachResult {
    return {
      device: c.device!,
      controller: c.instance,
      reused,
      timings: { connectMs: 1, deviceReadyMs: 2, totalMs: 3 },
    };
  }

  detach(nqn: string): Promise<{ disconnected: number }> {
    this.calls.push(`detach ${nqn}`);
    if (this.busy.has(nqn)) {
      return Promise.reject(new FailedPreconditionError(`device of ${nqn} is still mounted`));
    }
    const had = this.conns.delete(nqn);
    return Promise.resolve({ disconnected: had ? 1 : 0 });
  }

  /** Like the addon's brief scan, a brief find leaves out what it does not read. */
  find(nqn: string, opts: FindOptions = {}): Promise<AttachedVolume | undefined> {
    const c = this.conns.get(nqn);
    return Promise.resolve(c ? this.view(nqn, c, opts.brief === true) : undefined);
  }

  private view(nqn: string, c: Conn, brief = false): AttachedVolume {
    return {
      nqn,
      device: c.device,
      sizeBytes: c.device === undefined || brief ? undefined : c.sizeBytes,
      controllers: [
        {
          instance: c.instance,
          state: c.state,
          address: brief ? '' : `traddr=${c.target.traddr},trsvcid=${c.target.trsvcid}`,
          transport: brief ? '' : 'tcp',
          hostnqn: brief ? '' : c.target.hostnqn,
        },
      ],
    };
  }

  listManaged(): Promise<readonly AttachedVolume[]> {
    return Promise.resolve([...this.conns].map(([nqn, c]) => this.view(nqn, c)));
  }

  rescan(nqn: string): Promise<void> {
    this.calls.push(`rescan ${nqn}`);
    const c = this.conns.get(nqn);
    if (!c) return Promise.reject(new NotFoundError(`no controller for ${nqn}`));
    const grown = this.pendingSize.get(nqn);
    if (grown !== undefined) c.sizeBytes = grown;
    return Promise.resolve();
  }

  deviceSize(nqn: string): Promise<number> {
    const c = this.conns.get(nqn);
    if (c?.device === undefined) return Promise.reject(new NotFoundError(`no device for ${nqn}`));
    return Promise.resolve(c.sizeBytes);
  }

  /** The kernel reconnected under a new instance number: the device name changes. */
  renumber(nqn: string): string {
    const c = this.conns.get(nqn)!;
    c.instance = this.next++;
    c.device = `/dev/nvme${c.instance}n1`;
    return c.device;
  }

  setState(nqn: string, state: ControllerState): void {
    this.conns.get(nqn)!.state = state;
  }

  /** Every existing device path. */
  devices(): string[] {
    return [...this.conns.values()].map((c) => c.device).filter((d): d is string => !!d);
  }

  unavailable(): void {
    this.attachError = new UnavailableError('connection refused');
  }
}
