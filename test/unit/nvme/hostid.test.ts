import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { InvalidArgumentError } from '../../../src/domain/errors';
import { deriveHostIdentity, loadHostIdentity, uuidV5 } from '../../../src/nvme/hostid';
import { isValidUuid } from '../../../src/nvme/options';

const ID = '0f7d3a52-1c4e-4b7a-9f0d-2e6c8b5a1d34';
const UUID_NQN = `nqn.2014-08.org.nvmexpress:uuid:${ID}`;

t.test('uuidV5 matches the RFC 4122 DNS example', async (t) => {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org')
  t.equal(
    uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
    '886313e1-3b8a-5372-9b90-0c9aee199e5d',
  );
});

t.test('both files present: used as they are', async (t) => {
  t.same(
    deriveHostIdentity({ hostnqn: `${UUID_NQN}\n`, hostid: `${ID.toUpperCase()}\n`, nodeId: 'n1' }),
    {
      hostnqn: UUID_NQN,
      hostid: ID,
      source: 'files',
    },
  );
});

t.test('only hostnqn: the embedded UUID, else a hash of the NQN', async (t) => {
  t.equal(deriveHostIdentity({ hostnqn: UUID_NQN, nodeId: 'n1' }).hostid, ID);
  const custom = deriveHostIdentity({ hostnqn: 'nqn.2024-01.io.example:node-a', nodeId: 'n1' });
  t.ok(isValidUuid(custom.hostid));
  t.equal(
    custom.hostid,
    deriveHostIdentity({ hostnqn: 'nqn.2024-01.io.example:node-a', nodeId: 'other' }).hostid,
  );
  t.not(
    custom.hostid,
    deriveHostIdentity({ hostnqn: 'nqn.2024-01.io.example:node-b', nodeId: 'n1' }).hostid,
  );
});

t.test('only hostid: the standard UUID NQN', async (t) => {
  t.same(deriveHostIdentity({ hostid: ID, nodeId: 'n1' }), {
    hostnqn: UUID_NQN,
    hostid: ID,
    source: 'hostid-file',
  });
});

t.test('neither: derived from the node id, stable and one NQN per id', async (t) => {
  const a = deriveHostIdentity({ nodeId: 'worker-1' });
  t.equal(a.source, 'node-id');
  t.same(deriveHostIdentity({ nodeId: 'worker-1' }), a);
  t.equal(a.hostnqn, `nqn.2014-08.org.nvmexpress:uuid:${a.hostid}`);
  t.not(deriveHostIdentity({ nodeId: 'worker-2' }).hostid, a.hostid);
  t.throws(() => deriveHostIdentity({ nodeId: ' ' }), InvalidArgumentError);
});

t.test('malformed files are refused', async (t) => {
  t.throws(() => deriveHostIdentity({ hostnqn: 'bad,nqn', nodeId: 'n' }), InvalidArgumentError);
  t.throws(() => deriveHostIdentity({ hostid: 'nope', nodeId: 'n' }), InvalidArgumentError);
});

t.test('loadHostIdentity reads /etc/nvme style files', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hostid-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  t.equal((await loadHostIdentity({ nodeId: 'n1', etcDir: dir })).source, 'node-id');
  await fs.writeFile(path.join(dir, 'hostid'), `${ID}\n`);
  t.same(await loadHostIdentity({ nodeId: 'n1', etcDir: dir }), {
    hostnqn: UUID_NQN,
    hostid: ID,
    source: 'hostid-file',
  });
  await fs.writeFile(path.join(dir, 'hostnqn'), 'nqn.2024-01.io.example:n1\n');
  t.equal((await loadHostIdentity({ nodeId: 'n1', etcDir: dir })).source, 'files');
  await t.rejects(loadHostIdentity({ nodeId: 'n1', etcDir: path.join(dir, 'hostid') }));
});
