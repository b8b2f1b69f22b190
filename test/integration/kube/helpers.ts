/** Builders for API objects in the shapes the stand-in server stores. */
import type { Obj } from '../../fakes/kube-apiserver';

export const DRIVER = 'rds-csi.dev';

export function node(name: string, opts: { ready?: boolean; hostNqn?: string } = {}): Obj {
  return {
    metadata: {
      name,
      ...(opts.hostNqn === undefined
        ? {}
        : { annotations: { 'rds-csi.dev/host-nqn': opts.hostNqn } }),
    },
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

export function pv(
  name: string,
  volumeId: string,
  opts: {
    block?: boolean;
    rwx?: boolean;
    attrs?: Record<string, string>;
    claim?: { namespace: string; name: string };
  } = {},
): Obj {
  return {
    metadata: { name },
    spec: {
      accessModes: [opts.rwx === true ? 'ReadWriteMany' : 'ReadWriteOnce'],
      volumeMode: opts.block === true ? 'Block' : 'Filesystem',
      csi: { driver: DRIVER, volumeHandle: volumeId, volumeAttributes: opts.attrs ?? {} },
      ...(opts.claim === undefined
        ? {}
        : {
            claimRef: {
              kind: 'PersistentVolumeClaim',
              ...opts.claim,
              uid: claimUid(opts.claim.namespace, opts.claim.name),
            },
          }),
    },
  };
}

/** The uid the PVC `namespace/name` gets from pvc() (and a PV's claimRef from pv()). */
export function claimUid(namespace: string, name: string): string {
  return `uid-${namespace}-${name}`;
}

export function pvc(namespace: string, name: string): Obj {
  return {
    metadata: { name, namespace, uid: claimUid(namespace, name) },
    spec: { accessModes: ['ReadWriteOnce'] },
  };
}

export function va(
  name: string,
  pvName: string,
  nodeName: string,
  createdAt: number,
  attached = true,
): Obj {
  return {
    metadata: {
      name,
      creationTimestamp: new Date(createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    spec: { attacher: DRIVER, nodeName, source: { persistentVolumeName: pvName } },
    status: { attached },
  };
}

/** Poll until `f` returns true (robust on a loaded machine: generous deadline). */
export async function until(f: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
