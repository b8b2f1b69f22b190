/** CSI Identity service: thin, no I/O of its own beyond the injected readiness check. */
import type { IdentityHandlers } from './gen/csi/v1/Identity';
import type { GetPluginCapabilitiesResponse } from './gen/csi/v1/GetPluginCapabilitiesResponse';
import type { RpcWrapper } from './handler';

export interface Readiness {
  readonly ready: boolean;
  /** Why the plugin is not ready, for the log. */
  readonly reason?: string;
}

export interface IdentityDeps {
  readonly driverName: string;
  readonly version: string;
  readonly commit: string;
  /** True when this process serves the Controller service. */
  readonly controller: boolean;
  readonly readiness: () => Promise<Readiness>;
}

export function identityHandlers(rpc: RpcWrapper, deps: IdentityDeps): IdentityHandlers {
  const capabilities: GetPluginCapabilitiesResponse = {
    capabilities: [
      ...(deps.controller ? [{ service: { type: 'CONTROLLER_SERVICE' as const } }] : []),
      { service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' } },
      { volume_expansion: { type: 'ONLINE' } },
    ],
  };
  return {
    GetPluginInfo: rpc.unary(
      'GetPluginInfo',
      () =>
        Promise.resolve({
          name: deps.driverName,
          vendor_version: deps.version,
          manifest: { commit: deps.commit },
        }),
      { quiet: true },
    ),
    GetPluginCapabilities: rpc.unary('GetPluginCapabilities', () => Promise.resolve(capabilities), {
      quiet: true,
    }),
    Probe: rpc.unary(
      'Probe',
      async (_req, ctx) => {
        const r = await deps
          .readiness()
          .catch((err: unknown): Readiness => ({ ready: false, reason: String(err) }));
        if (!r.ready) ctx.log.warn('not ready', { reason: r.reason });
        return { ready: { value: r.ready } };
      },
      { quiet: true },
    ),
  };
}
