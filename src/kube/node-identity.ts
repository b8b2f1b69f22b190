/**
 * The node plugin publishes its NVMe host NQN on its own Node object, so the controller can
 * put exactly the published nodes on a fenced volume's RDS allow-list. A JSON merge patch
 * of one annotation; the caller retries in the background until it lands.
 */
import * as k8s from '@kubernetes/client-node';
import { apiError } from './client';
import { HOST_NQN_ANNOTATION } from './ports';

export type NodeAnnotator = (nodeName: string, hostnqn: string) => Promise<void>;

export function nodeAnnotator(kc: k8s.KubeConfig): NodeAnnotator {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return async (name, hostnqn) => {
    try {
      await core.patchNode(
        { name, body: { metadata: { annotations: { [HOST_NQN_ANNOTATION]: hostnqn } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    } catch (err) {
      throw apiError(err, 'patch node');
    }
  };
}
