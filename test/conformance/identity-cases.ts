import assert from 'node:assert/strict';
import { codeOf } from '../helpers/csi';
import type { Case } from './framework';

const KNOWN_SERVICES = [
  'CONTROLLER_SERVICE',
  'VOLUME_ACCESSIBILITY_CONSTRAINTS',
  'GROUP_CONTROLLER_SERVICE',
];

export const identityCases: Case[] = [
  {
    group: 'Identity',
    name: 'GetPluginInfo returns a valid name and version',
    rule: 'GetPluginInfo: name is REQUIRED, at most 63 characters, domain name notation; vendor_version is REQUIRED',
    async run({ client }) {
      const info = await client.identity<{ name: string; vendor_version: string }>('GetPluginInfo');
      assert.match(info.name, /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, 'name');
      assert.ok(info.vendor_version.length > 0, 'vendor_version is set');
    },
  },
  {
    group: 'Identity',
    name: 'GetPluginCapabilities lists known capabilities',
    rule: 'GetPluginCapabilities: each capability is a known service or volume expansion type; CONTROLLER_SERVICE is advertised exactly when the Controller service answers',
    async run({ client }) {
      const res = await client.identity<{
        capabilities: Record<string, { type: string } | undefined>[];
      }>('GetPluginCapabilities');
      assert.ok(res.capabilities.length > 0);
      for (const c of res.capabilities) {
        const ok = c.service
          ? KNOWN_SERVICES.includes(c.service.type)
          : c.volume_expansion !== undefined &&
            ['ONLINE', 'OFFLINE'].includes(c.volume_expansion.type);
        assert.ok(ok, `capability ${JSON.stringify(c)}`);
      }
      const advertised = res.capabilities.some((c) => c.service?.type === 'CONTROLLER_SERVICE');
      const served = await codeOf(client.controller('ControllerGetCapabilities'));
      assert.equal(served === 'OK', advertised, `CONTROLLER_SERVICE advertised: ${advertised}`);
    },
  },
  {
    group: 'Identity',
    name: 'Probe answers OK and reports readiness',
    rule: 'Probe: a healthy plugin returns OK; ready, when set, says whether it can serve requests',
    async run({ client }) {
      const res = await client.identity<{ ready: { value: boolean } | null }>('Probe');
      assert.equal(res.ready?.value, true, 'a driver on a live simulator is ready');
    },
  },
];
