import t from 'tap';
import {
  capabilityProblem,
  parseCapabilities,
  parseCapability,
  type AccessMode,
} from '../../../src/domain/capabilities';

const ALL: AccessMode[] = [
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
];

t.test('support table over every mode and access type', async (t) => {
  const supported: string[] = [];
  for (const accessMode of ALL) {
    for (const accessType of ['mount', 'block'] as const) {
      if (!capabilityProblem({ accessMode, accessType, fsType: '', mountFlags: [] })) {
        supported.push(`${accessType}:${accessMode}`);
      }
    }
  }
  t.same(supported.sort(), [
    'block:MULTI_NODE_MULTI_WRITER',
    'block:MULTI_NODE_READER_ONLY',
    'block:SINGLE_NODE_MULTI_WRITER',
    'block:SINGLE_NODE_READER_ONLY',
    'block:SINGLE_NODE_SINGLE_WRITER',
    'block:SINGLE_NODE_WRITER',
    'mount:MULTI_NODE_READER_ONLY',
    'mount:SINGLE_NODE_MULTI_WRITER',
    'mount:SINGLE_NODE_READER_ONLY',
    'mount:SINGLE_NODE_SINGLE_WRITER',
    'mount:SINGLE_NODE_WRITER',
  ]);
  t.match(
    capabilityProblem({
      accessMode: 'MULTI_NODE_MULTI_WRITER',
      accessType: 'mount',
      fsType: '',
      mountFlags: [],
    }),
    /raw block/,
  );
});

t.test('parsing the wire shape', async (t) => {
  t.same(
    parseCapability(
      {
        access_mode: { mode: 'SINGLE_NODE_WRITER' },
        access_type: 'mount',
        mount: { fs_type: 'xfs', mount_flags: ['noatime'] },
      },
      'c',
    ),
    {
      accessType: 'mount',
      accessMode: 'SINGLE_NODE_WRITER',
      fsType: 'xfs',
      mountFlags: ['noatime'],
    },
  );
  t.equal(
    parseCapability({ access_mode: { mode: 'SINGLE_NODE_WRITER' }, block: {} }, 'c').accessType,
    'block',
  );
  t.throws(() => parseCapability({ access_mode: { mode: 'UNKNOWN' }, block: {} }, 'c'), {
    code: 'invalid-argument',
  });
  t.throws(() => parseCapability({ access_mode: null, block: {} }, 'c'), {
    code: 'invalid-argument',
  });
  t.throws(() => parseCapability({ access_mode: { mode: 'SINGLE_NODE_WRITER' } }, 'c'), {
    code: 'invalid-argument',
  });
  t.throws(() => parseCapability(null, 'c'), { code: 'invalid-argument' });
  t.throws(() => parseCapabilities([]), { code: 'invalid-argument' });
});
