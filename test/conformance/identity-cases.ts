import assert from 'node:assert/strict';
import type { Case } from './framework';

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
    rule: 'GetPluginCapabilities: each capability names a service or volume expansion type other than UNKNOWN',
    async run({ client }) {
      const res = await client.identity<{
        capabilities: Record<string, { type: string } | undefined>[];
      }>('GetPluginCapabilities');
      assert.ok(res.capabilities.length > 0);
      for (const c of res.capabilities) {
        const inner = c.service ?? c.volume_expansion;
        assert.ok(inner && inner.type !== 'UNKNOWN', `capability ${JSON.stringify(c)}`);
      }
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
