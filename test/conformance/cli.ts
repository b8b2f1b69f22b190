/**
 * Conformance against an already running driver:
 *   node dist/test/conformance/cli.js --endpoint unix:///csi/csi.sock \
 *     [--size BYTES] [--access-type mount|block] [--staging-root DIR] [--target-root DIR] \
 *     [--param key=value ...] [--real-kernel] [--other-node-id ID] [--get-snapshot-advertised]
 * Prints TAP and the per-group summary; exits non-zero when a case fails.
 */
import t from 'tap';
import { parseArgs } from 'node:util';
import { csiClient } from '../helpers/csi';
import { runSuite } from './suite';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    size: { type: 'string', default: String(1024 ** 3) },
    'access-type': { type: 'string', default: 'mount' },
    'staging-root': {
      type: 'string',
      default: '/var/lib/kubelet/plugins/kubernetes.io/csi/staging',
    },
    'target-root': { type: 'string', default: '/var/lib/kubelet/pods' },
    param: { type: 'string', multiple: true, default: [] },
    'real-kernel': { type: 'boolean', default: false },
    // A second node the controller knows (with Kubernetes: another Node's name); without
    // it the cases that move a volume between nodes are skipped.
    'other-node-id': { type: 'string' },
    // The driver runs with --advertise-get-snapshot.
    'get-snapshot-advertised': { type: 'boolean', default: false },
  },
});
if (!values.endpoint) {
  console.error('usage: cli.js --endpoint unix:///path.sock [options]');
  process.exit(2);
}
const accessType = values['access-type'] === 'block' ? 'block' : 'mount';
const parameters = Object.fromEntries(
  values.param.map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i), p.slice(i + 1)];
  }),
);
const client = csiClient(values.endpoint);
t.teardown(() => client.close());
void runSuite(t, client, {
  sizeBytes: Number(values.size),
  accessType,
  stagingRoot: values['staging-root'],
  targetRoot: values['target-root'],
  parameters,
  realKernel: values['real-kernel'],
  ...(values['other-node-id'] ? { otherNodeId: values['other-node-id'] } : {}),
  getSnapshotAdvertised: values['get-snapshot-advertised'],
});
