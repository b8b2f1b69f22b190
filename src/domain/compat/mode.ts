/**
 * Compatibility with the Go rds-csi driver (rds.csi.srvlab.io): the names it registered in
 * a cluster, which a takeover in place must keep because PVs, VolumeAttachments, CSINode
 * entries and StorageClasses refer to them and cannot be renamed. Pure constants.
 */

export const COMPAT_MODES = ['none', 'rds-csi-go'] as const;
export type CompatMode = (typeof COMPAT_MODES)[number];

export function isCompatMode(v: string): v is CompatMode {
  return (COMPAT_MODES as readonly string[]).includes(v);
}

/** The Go driver's CSI name (CSIDriver object, provisioner, attacher, PV spec.csi.driver). */
export const GO_DRIVER_NAME = 'rds.csi.srvlab.io';

/** The Go node plugin's topology segment (NodeGetInfo since v0.9.0); volumes carry none. */
export const GO_TOPOLOGY_KEY = 'topology.rds.csi.srvlab.io/zone';
export const GO_TOPOLOGY_VALUE = 'default';

/** Default `volumePath` of the Go StorageClass and VolumeSnapshotClass (no leading `/`). */
export const GO_DEFAULT_VOLUME_PATH = 'storage-pool/metal-csi';
