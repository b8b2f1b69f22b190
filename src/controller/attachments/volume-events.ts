/**
 * Events about a volume land on its PVC, named with the claim's uid (kubectl selects a
 * claim's events by involvedObject.uid, so an event without it is invisible in
 * `kubectl describe pvc`). The claim is resolved once per volume, by the recorder's worker
 * (never on the CSI call's path), and cached:
 * 1. the PVC named by the volume context (--extra-create-metadata, remembered at publish),
 *    whose uid is read with one GET;
 * 2. else the claimRef of the PV a VolumeAttachment names (the watched cache gives the PV
 *    name; one GET of the PV);
 * 3. else the claimRef of the PV whose volumeHandle is the volume id (a list of every PV:
 *    the last resort).
 * With no claim, the event goes to the PV itself (cluster-scoped, so into the recorder's
 * default namespace). A lookup that fails is not cached: the next event tries again.
 */
import type { RefSource } from '../../kube/events';
import type { KubeEventSpec, ObjectRef, PvInfo, PvLookup } from '../../kube/ports';
import type { VolumeEventSink } from './hooks';

export interface RefPoster {
  postTo(ref: RefSource, spec: KubeEventSpec): void;
}

export interface PvcEventSinkDeps {
  readonly recorder: RefPoster;
  readonly pvs?: PvLookup;
  readonly driverName: string;
  /** The PV name of a volume when a VolumeAttachment names it (no I/O). */
  readonly pvNameOf?: (volumeId: string) => string | undefined;
}

type Claim = { readonly namespace: string; readonly name: string };

export class PvcEventSink implements VolumeEventSink {
  private readonly refs = new Map<string, ObjectRef>();
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly d: PvcEventSinkDeps) {}

  /** Remember the PVC of a volume (from the volume context at publish). */
  rememberPvc(volumeId: string, pvc: Claim | undefined): void {
    if (pvc === undefined || this.refs.has(volumeId)) return;
    this.claims.set(volumeId, { namespace: pvc.namespace, name: pvc.name });
  }

  post(volumeId: string, spec: KubeEventSpec): void {
    const known = this.refs.get(volumeId);
    if (known !== undefined) return this.d.recorder.postTo(known, spec);
    this.d.recorder.postTo(() => this.resolve(volumeId), spec);
  }

  private async resolve(volumeId: string): Promise<ObjectRef | undefined> {
    const cached = this.refs.get(volumeId);
    if (cached !== undefined) return cached;
    const pvs = this.d.pvs;
    if (pvs === undefined) return undefined;
    const claim = this.claims.get(volumeId);
    if (claim !== undefined) return this.claimRef(volumeId, pvs, claim, undefined);
    const pvName = this.d.pvNameOf?.(volumeId);
    const pv =
      pvName !== undefined
        ? await pvs.getPv(pvName)
        : await pvs.findPvByHandle(this.d.driverName, volumeId);
    if (pv === undefined) return undefined;
    const c = pv.claimRef;
    if (c === undefined) return { kind: 'PersistentVolume', name: pv.name };
    return this.claimRef(volumeId, pvs, c, c.uid, pv);
  }

  private async claimRef(
    volumeId: string,
    pvs: PvLookup,
    c: Claim,
    knownUid: string | undefined,
    pv?: PvInfo,
  ): Promise<ObjectRef> {
    const uid = knownUid ?? (await pvs.getPvcUid(c.namespace, c.name));
    if (uid === undefined) {
      // The claim is gone (or not created yet): name it without caching.
      return pv === undefined
        ? { kind: 'PersistentVolumeClaim', namespace: c.namespace, name: c.name }
        : { kind: 'PersistentVolume', name: pv.name };
    }
    const ref: ObjectRef = {
      kind: 'PersistentVolumeClaim',
      namespace: c.namespace,
      name: c.name,
      uid,
    };
    this.refs.set(volumeId, ref);
    this.claims.delete(volumeId);
    return ref;
  }
}
