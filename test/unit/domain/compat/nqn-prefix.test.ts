import t from 'tap';
import { loadConfig } from '../../../../src/config';
import { managedPrefixFromGo } from '../../../../src/domain/compat/nqn-prefix';

t.test('CSI_MANAGED_NQN_PREFIX: its rules, narrowed to what its disconnect allowed', async (t) => {
  t.same(managedPrefixFromGo('nqn.2000-02.com.mikrotik:pvc-'), {
    prefix: 'nqn.2000-02.com.mikrotik:pvc-',
  });
  t.same(managedPrefixFromGo('nqn.2000-02.com.mikrotik:pvc-team-a-'), {
    prefix: 'nqn.2000-02.com.mikrotik:pvc-team-a-',
  });
  t.same(
    managedPrefixFromGo('nqn.2000-02.com.mikrotik:'),
    { prefix: 'nqn.2000-02.com.mikrotik:pvc-' },
    'a wider prefix still never reaches past pvc-',
  );
  for (const bad of [
    'nqn.2000-02.com.mikrotik',
    'iqn.2000-02.com.mikrotik:pvc-',
    `nqn.2000-02.com.mikrotik:pvc-${'x'.repeat(200)}`,
    'nqn.2014-08.org.example:pvc-',
    'nqn.2000-02.com.mikrotik:pvc-a,b',
  ]) {
    t.ok('error' in managedPrefixFromGo(bad), bad);
  }
});

t.test('read from the environment by the node config', async (t) => {
  const base = ['--mode', 'node', '--node-id', 'n1'];
  t.equal(loadConfig(base, {}).node.managedNqnPrefix, undefined, 'unset: the default applies');
  t.equal(
    loadConfig(base, { CSI_MANAGED_NQN_PREFIX: 'nqn.2000-02.com.mikrotik:pvc-' }).node
      .managedNqnPrefix,
    'nqn.2000-02.com.mikrotik:pvc-',
  );
  t.throws(() => loadConfig(base, { CSI_MANAGED_NQN_PREFIX: 'nqn.x' }), {
    message: /--managed-nqn-prefix \(CSI_MANAGED_NQN_PREFIX\): must start with "nqn\."/,
  });
});
