/**
 * Events about a volume land on its PVC. The PVC comes from the volume context keys the
 * provisioner adds with --extra-create-metadata (remembered at publish), otherwise from
 * the claimRef of the PV whose volumeHandle is the volume id (looked up by the recorder's
 * worker, never on the CSI call's path, and cached). With neither, the event goes to the
 * PV itself (cluster-scoped, so into the recorder's default namespace).
 */
import type { RefSource } from '../../kube/events';
import type { KubeEventSpec, ObjectRef, PvLookup } from '../../kube/ports';
import type { VolumeEventSink } from './hooks';

export interface RefPoster {
  postTo(ref: RefSource, spec: KubeEventSpec): void;
}

export class PvcEventSink implements VolumeEventSink {
  private readonly refs = new Map<string, ObjectRef>();

  constructor(
    private readonly recorder: RefPoster,
    private readonly pvs: PvLookup | undefined,
    private readonly driverName: string,
  ) {}

  /** Remember the PVC of a volume (from the volume context at publish). */
  rememberPvc(volumeId: string, pvc: { namespace: string; name: string } | undefined): void {
    if (pvc === undefined) return;
    this.refs.set(volumeId, {
      kind: 'PersistentVolumeClaim',
      namespace: pvc.namespace,
      name: pvc.name,
    });
  }

  post(volumeId: string, spec: KubeEventSpec): void {
    const known = this.refs.get(volumeId);
    if (known !== undefined) return this.recorder.postTo(known, spec);
    this.recorder.postTo(() => this.resolve(volumeId), spec);
  }

  private async resolve(volumeId: string): Promise<ObjectRef | undefined> {
    const cached = this.refs.get(volumeId);
    if (cached !== undefined || this.pvs === undefined) return cached;
    const pv = await this.pvs.findPvByHandle(this.driverName, volumeId);
    if (pv === undefined) return undefined;
    const c = pv.claimRef;
    const ref: ObjectRef =
      c === undefined
        ? { kind: 'PersistentVolume', name: pv.name }
        : {
            kind: 'PersistentVolumeClaim',
            namespace: c.namespace,
            name: c.name,
            ...(c.uid === undefined ? {} : { uid: c.uid }),
          };
    if (c !== undefined) this.refs.set(volumeId, ref);
    return ref;
  }
}
