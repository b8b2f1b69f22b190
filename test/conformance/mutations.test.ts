/**
 * Mutation checks: each deliberately wrong response must make the case that guards it
 * fail. A suite whose cases pass against a broken driver proves nothing.
 */
import t from 'tap';
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { csiClient } from '../helpers/csi';
import { startConformanceDriver, type Mutation } from './driver';
import { ALL_CASES, runCase } from './suite';

type Req = Record<string, unknown>;
type Wrong = {
  method: string;
  when: (req: Req) => boolean;
  respond: (req: Req) => { error: grpc.status } | { ok: unknown };
  breaks: string;
};

const MUTATIONS: Wrong[] = [
  {
    method: 'DeleteVolume',
    when: (r) => String(r.volume_id).startsWith('pvc-11111111'),
    respond: () => ({ error: status.NOT_FOUND }),
    breaks: 'DeleteVolume argument errors and idempotency',
  },
  {
    method: 'CreateVolume',
    when: (r) => !r.name,
    respond: () => ({ ok: { volume: { volume_id: 'bogus', capacity_bytes: '1' } } }),
    breaks: 'CreateVolume without a name',
  },
  {
    method: 'NodePublishVolume',
    when: (r) => String(r.staging_target_path).includes('pubargs'),
    respond: () => ({ ok: {} }),
    breaks: 'NodePublishVolume argument errors and publish before stage',
  },
  {
    method: 'ListVolumes',
    when: () => true,
    respond: () => ({ ok: { entries: [], next_token: '' } }),
    breaks: 'ListVolumes pages with max_entries and tokens',
  },
  {
    method: 'GetPluginInfo',
    when: () => true,
    respond: () => ({ ok: { name: 'Not A Valid Name!', vendor_version: '1' } }),
    breaks: 'GetPluginInfo returns a valid name and version',
  },
  {
    method: 'ValidateVolumeCapabilities',
    when: (r) => JSON.stringify(r.volume_capabilities).includes('MULTI_NODE_MULTI_WRITER'),
    respond: (r) => ({
      ok: { confirmed: { volume_capabilities: r.volume_capabilities }, message: '' },
    }),
    breaks: 'ValidateVolumeCapabilities',
  },
  {
    method: 'NodeGetVolumeStats',
    when: (r) => String(r.volume_path).includes('does-not-exist'),
    respond: () => ({ ok: { usage: [] } }),
    breaks: 'NodeGetVolumeStats argument errors and unknown paths',
  },
  {
    method: 'ControllerExpandVolume',
    when: (r) => !r.capacity_range,
    respond: () => ({ ok: { capacity_bytes: '0', node_expansion_required: false } }),
    breaks: 'ControllerExpandVolume',
  },
  {
    method: 'ControllerGetCapabilities',
    when: () => true,
    respond: () => ({
      ok: {
        capabilities: [
          { rpc: { type: 'CREATE_DELETE_VOLUME' } },
          { rpc: { type: 'GET_SNAPSHOT' } },
        ],
      },
    }),
    breaks: 'ControllerGetCapabilities lists only capabilities released consumers know',
  },
  {
    method: 'ControllerPublishVolume',
    when: (r) => String(r.node_id).startsWith('no-such-node'),
    respond: () => ({ ok: { publish_context: {} } }),
    breaks: 'ControllerPublishVolume to a node that does not exist',
  },
  {
    method: 'NodeGetVolumeStats',
    when: (r) => r.volume_path === 'some/path',
    respond: () => ({ error: status.INVALID_ARGUMENT }),
    breaks: 'NodeGetVolumeStats of a path that holds no volume',
  },
  {
    method: 'NodeExpandVolume',
    when: (r) => r.volume_path === 'some/path',
    respond: () => ({ error: status.INVALID_ARGUMENT }),
    breaks: 'NodeExpandVolume of a path that holds no volume',
  },
  {
    method: 'NodeExpandVolume',
    when: (r) => String(r.volume_path).includes('grownode'),
    respond: () => ({ ok: { capacity_bytes: '1' } }),
    breaks: 'NodeExpandVolume after ControllerExpandVolume on a published volume',
  },
  {
    method: 'NodeUnpublishVolume',
    when: (r) => String(r.target_path).includes('rmtarget'),
    respond: () => ({ ok: {} }),
    breaks: 'NodeUnpublishVolume removes the target path',
  },
  {
    method: 'NodePublishVolume',
    when: (r) => String(r.target_path).includes('pretarget'),
    respond: () => ({ error: status.ALREADY_EXISTS }),
    breaks: 'NodePublishVolume at a target path that already exists',
  },
  {
    method: 'CreateVolume',
    when: (r) => String(r.name).length === 128,
    respond: () => ({ error: status.INVALID_ARGUMENT }),
    breaks: 'CreateVolume with a name of maximum length',
  },
  {
    method: 'ControllerExpandVolume',
    when: (r) => Number((r.capacity_range as { limit_bytes?: string } | null)?.limit_bytes) > 0,
    respond: (r) => ({
      ok: {
        capacity_bytes: String(
          Number((r.capacity_range as { limit_bytes: string }).limit_bytes) + 1024 ** 2,
        ),
        node_expansion_required: true,
      },
    }),
    breaks: 'ControllerExpandVolume to an exact size',
  },
  {
    method: 'ListSnapshots',
    when: (r) => r.starting_token !== '' && !r.max_entries,
    respond: () => ({ ok: { entries: [], next_token: '' } }),
    breaks: 'ListSnapshots continues from a token without max_entries',
  },
  {
    method: 'GetSnapshot',
    when: () => true,
    respond: () => ({ error: status.UNIMPLEMENTED }),
    breaks: 'GetSnapshot answers whether or not it is advertised',
  },
  {
    method: 'GetPluginCapabilities',
    when: () => true,
    respond: () => ({
      ok: { capabilities: [{ service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' } }] },
    }),
    breaks: 'GetPluginCapabilities lists known capabilities',
  },
];

/** Each method answers wrongly for requests a mutation selects, rightly otherwise. */
const mutate: Mutation = (_service, method, impl) => {
  const wrongs = MUTATIONS.filter((m) => m.method === method);
  if (wrongs.length === 0) return impl;
  return ((call: grpc.ServerUnaryCall<Req, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    const wrong = wrongs.find((m) => m.when(call.request));
    if (!wrong) return (impl as grpc.handleUnaryCall<Req, unknown>)(call, cb);
    const r = wrong.respond(call.request);
    if ('error' in r)
      cb({ code: r.error, details: 'mutated', name: 'Mutated', message: 'mutated' });
    else cb(null, r.ok);
  }) as grpc.UntypedHandleCall;
};

t.test('each wrong response makes its guarding case fail', async (t) => {
  const driver = await startConformanceDriver({ mutate });
  t.teardown(() => driver.stop());
  const client = csiClient(driver.address);
  t.teardown(() => client.close());
  for (const m of MUTATIONS) {
    const c = ALL_CASES.find((x) => x.name === m.breaks);
    t.ok(c, `case "${m.breaks}" exists`);
    if (!c) continue;
    const r = await runCase(c, client, driver.params);
    t.equal(r.ok, false, `mutated ${m.method} is caught by "${m.breaks}"`);
  }
});
