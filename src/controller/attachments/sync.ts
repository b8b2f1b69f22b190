/**
 * Keeps the attachment state of this replica equal to the cluster's VolumeAttachments:
 * every add, status change and delete of a VolumeAttachment of this driver re-settles that
 * volume (settle.ts), and every full list (start, 410 Gone, resync) re-settles every volume
 * known here or named by a VolumeAttachment. So any replica the external-attacher calls
 * (after a failover, or the attacher's own leader moving) answers from the truth.
 *
 * The records of a volume are read from the informer's cache when the volume's turn comes
 * (AttachmentService.resync), never from a snapshot taken earlier, so the last event wins.
 * PVs are read once per name and kept (a CSI PV's handle, access modes, volume mode and
 * attributes are immutable); the entry is dropped when no VolumeAttachment names the PV.
 */
import type { NodeCache, PvInfo, PvLookup, VolumeAttachmentInfo } from '../../kube/ports';
import type { Logger } from '../../observability/logger';
import { attachedRecord } from './rebuild';
import type { AttachmentService } from './service';
import { vaPhase, type VaRecord } from './settle';

export interface AttachmentSyncDeps {
  /** VolumeAttachments whose attacher is this name are ours (the configured driver name). */
  readonly driverName: string;
  readonly volumeAttachments: () => readonly VolumeAttachmentInfo[];
  readonly pvs: PvLookup;
  readonly nodes?: NodeCache;
  readonly service: AttachmentService;
  readonly logger: Logger;
}

export class AttachmentSync {
  /** PV name → the PV (only CSI PVs of this driver are kept). */
  private readonly pvs = new Map<string, PvInfo & { volumeHandle: string }>();
  /** Volume id → PV name. */
  private readonly pvOf = new Map<string, string>();

  constructor(private readonly d: AttachmentSyncDeps) {}

  /** A VolumeAttachment was added, changed or deleted. Never rejects. */
  async changed(va: VolumeAttachmentInfo): Promise<void> {
    if (!this.ours(va)) return;
    const pvName = va.pvName as string;
    try {
      const pv = await this.pv(pvName);
      if (pv === undefined) return;
      await this.d.service.resync(pv.volumeHandle, () => this.records(pv.volumeHandle));
      if (!this.d.volumeAttachments().some((v) => this.ours(v) && v.pvName === pvName)) {
        this.pvs.delete(pvName);
      }
    } catch (err) {
      this.d.logger.warn('could not follow a VolumeAttachment change', { va: va.name, err });
    }
  }

  /** Re-settle every volume (after a full list). Rejects when a PV cannot be read. */
  async all(): Promise<number> {
    const ids = new Set(this.d.service.snapshot().keys());
    for (const va of this.d.volumeAttachments()) {
      if (!this.ours(va)) continue;
      const pv = await this.pv(va.pvName as string);
      if (pv !== undefined) ids.add(pv.volumeHandle);
    }
    await Promise.all([...ids].map((id) => this.d.service.resync(id, () => this.records(id))));
    return ids.size;
  }

  /** The PV of a volume, when a VolumeAttachment named it (no I/O). */
  pvNameOf(volumeId: string): string | undefined {
    return this.pvOf.get(volumeId);
  }

  private ours(va: VolumeAttachmentInfo): boolean {
    return va.attacher === this.d.driverName && va.pvName !== undefined;
  }

  private async pv(name: string): Promise<(PvInfo & { volumeHandle: string }) | undefined> {
    const cached = this.pvs.get(name);
    if (cached !== undefined) return cached;
    const pv = await this.d.pvs.getPv(name);
    const handle = pv?.volumeHandle;
    if (pv === undefined || handle === undefined || pv.driver !== this.d.driverName) {
      this.d.logger.warn('VolumeAttachment names a PV that is missing or not ours', { pv: name });
      return undefined;
    }
    const kept = { ...pv, volumeHandle: handle };
    this.pvs.set(name, kept);
    this.pvOf.set(handle, name);
    return kept;
  }

  /** The volume's VolumeAttachments as they are in the cache now. */
  private records(volumeId: string): VaRecord[] {
    const pvName = this.pvOf.get(volumeId);
    const pv = pvName === undefined ? undefined : this.pvs.get(pvName);
    if (pv === undefined) return [];
    const out: VaRecord[] = [];
    for (const va of this.d.volumeAttachments()) {
      if (!this.ours(va) || va.pvName !== pvName) continue;
      const phase = vaPhase(va);
      if (phase === undefined) continue;
      out.push({ ...attachedRecord(va, volumeId, pv, this.d.nodes, this.d.logger), phase });
    }
    return out;
  }
}
