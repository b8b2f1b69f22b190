/**
 * Volume and snapshot handles the Go driver issued, by version. Every one is a RouterOS
 * slot whose backing file is `<dir>/<slot>.img`. Pure.
 *
 * - Volumes: `pvc-<uuid>` at every version. From v0.2.0 the slot is the PV name; v0.1.0
 *   used `pvc-` + UUIDv5(PV name), so its handles differ from their PV names (the handle,
 *   not the PV name, is what the controller receives). csi-sanity names (other shapes)
 *   are never adopted: a disk such as `backup-disk` could not be told apart from them.
 * - Snapshots: `snap-<uuid>` (v0.10.x, a Btrfs subvolume that never became a `/disk`
 *   entry), `snap-<source uuid>-at-<10 hex>` (v0.11.0) and `snap-<uuid>-at-<first 10 hex
 *   of the same uuid>` (v0.12.0+, the source is not in the name).
 */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const GO_VOLUME = new RegExp(`^pvc-${UUID}$`);
const GO_SNAPSHOT_LEGACY = new RegExp(`^snap-(${UUID})$`);
const GO_SNAPSHOT_AT = new RegExp(`^snap-(${UUID})-at-([0-9a-f]+)$`);

export function isGoVolumeId(id: string): boolean {
  return GO_VOLUME.test(id);
}

export type GoSnapshotForm = 'btrfs' | 'source-at' | 'name-at';

export interface GoSnapshotId {
  readonly form: GoSnapshotForm;
  /** The source volume, when the handle names it (v0.11.0 only). */
  readonly sourceVolumeId?: string;
}

/** Decode a Go snapshot handle; undefined when it is not one. */
export function parseGoSnapshotId(id: string): GoSnapshotId | undefined {
  if (GO_SNAPSHOT_LEGACY.test(id)) return { form: 'btrfs' };
  const m = GO_SNAPSHOT_AT.exec(id);
  if (!m) return undefined;
  const uuid = m[1]!;
  // v0.12.0+ repeats the uuid's own first 10 hex digits; v0.11.0 put the source's uuid
  // first and a hash of the snapshot name after `-at-`.
  if (m[2] === uuid.replace(/-/g, '').slice(0, 10)) return { form: 'name-at' };
  return { form: 'source-at', sourceVolumeId: `pvc-${uuid}` };
}
