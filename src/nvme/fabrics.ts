/**
 * The production Fabrics port: the kernel through the rds_nvme addon. Policy lives in
 * attach.ts and detach.ts; this file wires them to the port and answers the queries.
 */
import { NotFoundError, UnavailableError } from '../domain/errors';
import { attach } from './attach';
import {
  type FabricsContext,
  type NativeFabricsOptions,
  createContext,
  recordActive,
} from './context';
import { assertManaged, detach } from './detach';
import { mapControllerWriteError } from './errors';
import type { AttachedVolume, ControllerInfo, Fabrics, FindOptions } from './ports';
import { type Topology, controllersOf, namespacesOf } from './topology';

export type { NativeFabricsOptions } from './context';

/** The managed subsystem `nqn` as seen in `topo`, or undefined with no controller. */
export function volumeOf(topo: Topology, nqn: string): AttachedVolume | undefined {
  const ctrls = controllersOf(topo, nqn);
  if (ctrls.length === 0) return undefined;
  const ns = namespacesOf(topo, nqn).sort((a, b) => (a.nsid ?? 0) - (b.nsid ?? 0))[0];
  const controllers: ControllerInfo[] = ctrls
    .sort((a, b) => a.instance - b.instance)
    .map((c) => ({
      instance: c.instance,
      state: c.state,
      address: c.address,
      transport: c.transport,
      hostnqn: c.hostnqn,
    }));
  return {
    nqn,
    device: ns === undefined ? undefined : `/dev/${ns.name}`,
    sizeBytes: ns?.sizeBytes,
    controllers,
  };
}

async function find(
  ctx: FabricsContext,
  nqn: string,
  opts: FindOptions = {},
): Promise<AttachedVolume | undefined> {
  return volumeOf(await ctx.scan({ brief: opts.brief ?? false }), nqn);
}

async function requireVolume(ctx: FabricsContext, nqn: string): Promise<AttachedVolume> {
  const vol = await find(ctx, nqn);
  if (vol === undefined) {
    throw new NotFoundError(`no NVMe controller for ${nqn} on this node`, { nqn });
  }
  return vol;
}

export function createNativeFabrics(opts: NativeFabricsOptions): Fabrics {
  const ctx = createContext(opts);
  return {
    attach: (target, o) => attach(ctx, target, o),
    detach: (nqn, o) => detach(ctx, nqn, o),
    find: (nqn, o) => find(ctx, nqn, o),
    async listManaged() {
      const topo = await ctx.scan();
      recordActive(ctx, topo);
      const nqns = [...new Set(topo.controllers.map((c) => c.subsysnqn))].filter((n) =>
        ctx.isManaged(n),
      );
      return nqns
        .sort()
        .map((nqn) => volumeOf(topo, nqn))
        .filter((v): v is AttachedVolume => v !== undefined);
    },
    async rescan(nqn) {
      assertManaged(ctx, nqn);
      const vol = await requireVolume(ctx, nqn);
      const live = vol.controllers.filter((c) => c.state === 'live');
      if (live.length === 0) {
        // The volume is attached; its path is reconnecting (a target outage): retry later.
        const states = vol.controllers.map((c) => `nvme${c.instance} ${c.state}`).join(', ');
        throw new UnavailableError(
          `no live NVMe controller for ${nqn} to rescan (${states}); retry once it reconnects`,
          { nqn },
        );
      }
      await Promise.all(
        live.map((c) =>
          ctx.addon
            .rescan(c.instance, { sysfsRoot: ctx.sysfsRoot })
            .catch((err: unknown) =>
              Promise.reject(mapControllerWriteError(err, 'rescan', c.instance)),
            ),
        ),
      );
    },
    async deviceSize(nqn) {
      const vol = await requireVolume(ctx, nqn);
      if (vol.sizeBytes === undefined) {
        throw new NotFoundError(`namespace of ${nqn} is not visible on this node`, { nqn });
      }
      return vol.sizeBytes;
    },
  };
}
