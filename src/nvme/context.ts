/**
 * What the native Fabrics implementation is built from, resolved once with defaults. Shared
 * by the attach and detach policies (src/nvme/attach.ts, src/nvme/detach.ts).
 */
import dns from 'node:dns/promises';
import { InvalidArgumentError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import { nullLogger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { NvmeAddon } from './native';
import type { Resolver } from './options';
import { type Topology, parseScan } from './topology';
import { type Clock, systemClock } from './wait';

/** Subsystem NQNs created by a MikroTik RDS start with this. */
export const MIKROTIK_NQN_BASE = 'nqn.2000-02.com.mikrotik:';

/** The metrics the NVMe layer records (a narrow view of Metrics). */
export type NvmeMetrics = Pick<
  Metrics,
  | 'nvmeConnects'
  | 'nvmeConnectDuration'
  | 'nvmeDisconnects'
  | 'nvmeConnectionsActive'
  | 'nvmeDeviceReadyDuration'
>;

export interface NativeFabricsOptions {
  readonly addon: NvmeAddon;
  /** Default '/sys'. */
  readonly sysfsRoot?: string;
  /** Where device nodes appear; default '/dev'. */
  readonly devRoot?: string;
  /** Default '/proc' (mounts and open files for the detach in-use check). */
  readonly procRoot?: string;
  /** Default '/dev/nvme-fabrics'. */
  readonly fabricsPath?: string;
  /**
   * Only subsystems under this prefix are ever listed as managed or disconnected. Must
   * start with MIKROTIK_NQN_BASE; default MIKROTIK_NQN_BASE.
   */
  readonly managedNqnPrefix?: string;
  /** Host name → addresses; default dns.promises.lookup (all). */
  readonly resolver?: Resolver;
  readonly metrics?: NvmeMetrics;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Attach deadline when the caller gives none; default 30 s. */
  readonly defaultDeadlineMs?: number;
  /** A controller not live after this long in `connecting`/`resetting` is reported; 3 s. */
  readonly stuckConnectingMs?: number;
  /** Device-wait poll delays; default 2 ms doubling to 50 ms. */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
}

export interface FabricsContext {
  readonly addon: NvmeAddon;
  readonly sysfsRoot: string;
  readonly devRoot: string;
  readonly procRoot: string;
  readonly fabricsPath: string;
  readonly managedNqnPrefix: string;
  readonly resolver: Resolver;
  readonly metrics: NvmeMetrics | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly defaultDeadlineMs: number;
  readonly stuckConnectingMs: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  /**
   * Every controller, subsystem and namespace: for reuse, detach, queries, recovery.
   * `brief` leaves out the attributes that only describe (addresses, tuning, sizes, ids).
   */
  scan(opts?: { readonly brief?: boolean }): Promise<Topology>;
  /**
   * Controller nvme<instance> with its subsystem and namespaces only: the lookup after a
   * connect, whose cost does not grow with the number of volumes on the node.
   */
  scanController(instance: number): Promise<Topology>;
  /**
   * Sets the nvmeConnectionsActive gauge from a full scan, off the caller's path; calls
   * made while one runs coalesce into one more. Never rejects (failures are logged).
   */
  refreshActive(): Promise<void>;
  isManaged(nqn: string): boolean;
}

const defaultResolver: Resolver = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export function createContext(opts: NativeFabricsOptions): FabricsContext {
  const prefix = opts.managedNqnPrefix ?? MIKROTIK_NQN_BASE;
  if (!prefix.startsWith(MIKROTIK_NQN_BASE) || /[,=\s]/.test(prefix)) {
    throw new InvalidArgumentError(`managed NQN prefix must start with ${MIKROTIK_NQN_BASE}`);
  }
  const sysfsRoot = opts.sysfsRoot ?? '/sys';
  const addon = opts.addon;
  const logger = opts.logger ?? nullLogger();
  let refreshing: Promise<void> | undefined;
  let again = false;
  const ctx: FabricsContext = {
    addon,
    sysfsRoot,
    devRoot: opts.devRoot ?? '/dev',
    procRoot: opts.procRoot ?? '/proc',
    fabricsPath: opts.fabricsPath ?? '/dev/nvme-fabrics',
    managedNqnPrefix: prefix,
    resolver: opts.resolver ?? defaultResolver,
    metrics: opts.metrics,
    logger,
    clock: opts.clock ?? systemClock,
    defaultDeadlineMs: opts.defaultDeadlineMs ?? 30_000,
    stuckConnectingMs: opts.stuckConnectingMs ?? 3_000,
    pollMinMs: opts.pollMinMs ?? 2,
    pollMaxMs: opts.pollMaxMs ?? 50,
    scan: async (o) => parseScan(await addon.scan({ sysfsRoot, brief: o?.brief ?? false })),
    scanController: async (instance) =>
      parseScan(await addon.scanController(instance, { sysfsRoot })),
    refreshActive() {
      if (refreshing !== undefined) {
        again = true;
        return refreshing;
      }
      refreshing = (async () => {
        do {
          again = false;
          recordActive(ctx, await ctx.scan({ brief: true }));
        } while (again);
      })()
        .catch((err: unknown) => {
          logger.warn('nvme connections gauge not updated', { error: (err as Error).message });
        })
        .finally(() => {
          refreshing = undefined;
        });
      return refreshing;
    },
    isManaged: (nqn) => nqn.startsWith(prefix) && nqn.length > prefix.length,
  };
  return ctx;
}

/** Live controllers of managed subsystems, for the nvmeConnectionsActive gauge. */
export function recordActive(ctx: FabricsContext, topo: Topology): void {
  const live = topo.controllers.filter((c) => c.state === 'live' && ctx.isManaged(c.subsysnqn));
  ctx.metrics?.nvmeConnectionsActive.set(live.length);
}
