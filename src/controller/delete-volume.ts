/**
 * DeleteVolume. Idempotent: an id this driver could not have made, or a volume that is
 * already gone, is success. Removes the disk AND its `.img` (the device keeps the file
 * when a disk is removed). When the disk is gone but a previous delete was interrupted
 * before the file went, the leftover `<id>.img` is found under the pool and removed.
 * Snapshots are independent copies and do not block deletion. A volume still published
 * to a node is FAILED_PRECONDITION (the CO unpublishes first); after a restart that is
 * judged only once the attachment state was rebuilt (the call waits for it). A disk with this
 * slot that is not ours (src/controller/compat/ownership.ts) is FAILED_PRECONDITION too: it
 * is never deleted.
 */
import { FailedPreconditionError } from '../domain/errors';
import { isVolumeId, volumeFilePath } from '../domain/ids';
import { SNAPSHOT_DIR } from '../domain/snapshots';
import type { Call, ControllerDeps } from './deps';
import { basename, isVolumeDisk, removeLeftoverFiles } from './pool';

export async function deleteVolume(
  deps: ControllerDeps,
  volumeId: string,
  call: Call,
): Promise<void> {
  if (!isVolumeId(volumeId)) {
    call.log.info('volume id was never issued by this driver; nothing to delete');
    return;
  }
  await deps.attachments.ready(call.signal);
  const nodes = deps.attachments.publishedNodes(volumeId);
  if (nodes.length > 0) {
    throw new FailedPreconditionError(
      `volume ${volumeId} is still published to node ${nodes.join(', ')}`,
      { volumeId },
    );
  }
  const o = { signal: call.signal };
  const disk = await deps.volumes.get(volumeId, o);
  if (disk !== undefined) {
    if (!isVolumeDisk(deps, disk)) {
      throw new FailedPreconditionError(
        `disk ${volumeId} is not a volume of this driver (unmarked, or outside the pool base path); refusing to delete it`,
        { volumeId },
      );
    }
    // The file to remove is the one the disk names, not a recomputed path.
    await deps.volumes.delete(volumeId, disk.filePath, o);
  } else {
    const names = new Set([basename(volumeFilePath('', volumeId))]);
    // An adopted Go volume's leftover is `<id>.img`, from a delete interrupted either side.
    if (deps.config.compat !== undefined) names.add(`${volumeId}.img`);
    await removeLeftoverFiles(
      deps,
      call,
      deps.config.poolBasePath,
      (p) => names.has(basename(p)) && !p.split('/').includes(SNAPSHOT_DIR),
    );
  }
  deps.attachments.volumeDeleted(volumeId);
}
