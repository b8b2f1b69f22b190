/**
 * What the Go rds-csi driver (rds.csi.srvlab.io) stored for a volume: the volume_context its
 * CreateVolume returned (all nine keys, v0.5.0+) and the publish_context its
 * ControllerPublish returned, as they sit in PVs and VolumeAttachments.
 */
export const goNqn = (id: string): string => `nqn.2000-02.com.mikrotik:${id}`;

export function goVolumeContext(id: string, nvmeAddress: string, rdsAddress: string = nvmeAddress) {
  return {
    rdsAddress,
    nvmeAddress,
    nvmePort: '4420',
    nqn: goNqn(id),
    volumePath: `/storage-pool/metal-csi/${id}.img`,
    ctrlLossTmo: '-1',
    reconnectDelay: '5',
    keepAliveTmo: '0',
    migrationTimeoutSeconds: '300',
  };
}

export function goPublishContext(id: string, nvmeAddress: string) {
  return { nvme_address: nvmeAddress, nvme_port: '4420', nvme_nqn: goNqn(id), fs_type: 'ext4' };
}
