/**
 * The proto is the wire contract with kubelet and the sidecars. These tests check that
 * (1) every message has exactly the field numbers and types of the CSI spec (table below,
 * written from the specification independently of csi.proto), and (2) a representative
 * request and response of every RPC survive encode/decode through the loaded definition.
 */
import t from 'tap';
import type { MethodDefinition } from '@grpc/proto-loader';
import { loadCsi } from '../../../src/csi/proto/load';

// message: field=number:type ... ('m:' prefix = map<string,string>, '[]' = repeated)
const SPEC = `
GetPluginInfoResponse name=1:string vendor_version=2:string manifest=3:m
GetPluginCapabilitiesResponse capabilities=1:PluginCapability[]
PluginCapability service=1:PluginCapability.Service volume_expansion=2:PluginCapability.VolumeExpansion
PluginCapability.Service type=1:enum
PluginCapability.VolumeExpansion type=1:enum
ProbeResponse ready=1:google.protobuf.BoolValue
CreateVolumeRequest name=1:string capacity_range=2:CapacityRange volume_capabilities=3:VolumeCapability[] parameters=4:m secrets=5:m volume_content_source=6:VolumeContentSource accessibility_requirements=7:TopologyRequirement mutable_parameters=8:m
VolumeContentSource snapshot=1:VolumeContentSource.SnapshotSource volume=2:VolumeContentSource.VolumeSource
VolumeContentSource.SnapshotSource snapshot_id=1:string
VolumeContentSource.VolumeSource volume_id=1:string
CreateVolumeResponse volume=1:Volume
VolumeCapability block=1:VolumeCapability.BlockVolume mount=2:VolumeCapability.MountVolume access_mode=3:VolumeCapability.AccessMode
VolumeCapability.MountVolume fs_type=1:string mount_flags=2:string[] volume_mount_group=3:string
VolumeCapability.AccessMode mode=1:enum
CapacityRange required_bytes=1:int64 limit_bytes=2:int64
Volume capacity_bytes=1:int64 volume_id=2:string volume_context=3:m content_source=4:VolumeContentSource accessible_topology=5:Topology[]
TopologyRequirement requisite=1:Topology[] preferred=2:Topology[]
Topology segments=1:m
DeleteVolumeRequest volume_id=1:string secrets=2:m
ControllerPublishVolumeRequest volume_id=1:string node_id=2:string volume_capability=3:VolumeCapability readonly=4:bool secrets=5:m volume_context=6:m
ControllerPublishVolumeResponse publish_context=1:m
ControllerUnpublishVolumeRequest volume_id=1:string node_id=2:string secrets=3:m
ValidateVolumeCapabilitiesRequest volume_id=1:string volume_context=2:m volume_capabilities=3:VolumeCapability[] parameters=4:m secrets=5:m mutable_parameters=6:m
ValidateVolumeCapabilitiesResponse confirmed=1:ValidateVolumeCapabilitiesResponse.Confirmed message=2:string
ValidateVolumeCapabilitiesResponse.Confirmed volume_context=1:m volume_capabilities=2:VolumeCapability[] parameters=3:m mutable_parameters=4:m
ListVolumesRequest max_entries=1:int32 starting_token=2:string
ListVolumesResponse entries=1:ListVolumesResponse.Entry[] next_token=2:string
ListVolumesResponse.VolumeStatus published_node_ids=1:string[] volume_condition=2:VolumeCondition
ListVolumesResponse.Entry volume=1:Volume status=2:ListVolumesResponse.VolumeStatus
ControllerGetVolumeRequest volume_id=1:string
ControllerGetVolumeResponse volume=1:Volume status=2:ControllerGetVolumeResponse.VolumeStatus
ControllerGetVolumeResponse.VolumeStatus published_node_ids=1:string[] volume_condition=2:VolumeCondition
ControllerModifyVolumeRequest volume_id=1:string secrets=2:m mutable_parameters=3:m
GetCapacityRequest volume_capabilities=1:VolumeCapability[] parameters=2:m accessible_topology=3:Topology
GetCapacityResponse available_capacity=1:int64 maximum_volume_size=2:google.protobuf.Int64Value minimum_volume_size=3:google.protobuf.Int64Value
ControllerGetCapabilitiesResponse capabilities=1:ControllerServiceCapability[]
ControllerServiceCapability rpc=1:ControllerServiceCapability.RPC
ControllerServiceCapability.RPC type=1:enum
CreateSnapshotRequest source_volume_id=1:string name=2:string secrets=3:m parameters=4:m
CreateSnapshotResponse snapshot=1:Snapshot
Snapshot size_bytes=1:int64 snapshot_id=2:string source_volume_id=3:string creation_time=4:google.protobuf.Timestamp ready_to_use=5:bool group_snapshot_id=6:string
DeleteSnapshotRequest snapshot_id=1:string secrets=2:m
ListSnapshotsRequest max_entries=1:int32 starting_token=2:string source_volume_id=3:string snapshot_id=4:string secrets=5:m
ListSnapshotsResponse entries=1:ListSnapshotsResponse.Entry[] next_token=2:string
ListSnapshotsResponse.Entry snapshot=1:Snapshot
GetSnapshotRequest snapshot_id=1:string secrets=2:m
GetSnapshotResponse snapshot=1:Snapshot
ControllerExpandVolumeRequest volume_id=1:string capacity_range=2:CapacityRange secrets=3:m volume_capability=4:VolumeCapability
ControllerExpandVolumeResponse capacity_bytes=1:int64 node_expansion_required=2:bool
NodeStageVolumeRequest volume_id=1:string publish_context=2:m staging_target_path=3:string volume_capability=4:VolumeCapability secrets=5:m volume_context=6:m
NodeUnstageVolumeRequest volume_id=1:string staging_target_path=2:string
NodePublishVolumeRequest volume_id=1:string publish_context=2:m staging_target_path=3:string target_path=4:string volume_capability=5:VolumeCapability readonly=6:bool secrets=7:m volume_context=8:m
NodeUnpublishVolumeRequest volume_id=1:string target_path=2:string
NodeGetVolumeStatsRequest volume_id=1:string volume_path=2:string staging_target_path=3:string
NodeGetVolumeStatsResponse usage=1:VolumeUsage[] volume_condition=2:VolumeCondition
VolumeUsage available=1:int64 total=2:int64 used=3:int64 unit=4:enum
VolumeCondition abnormal=1:bool message=2:string
NodeGetCapabilitiesResponse capabilities=1:NodeServiceCapability[]
NodeServiceCapability rpc=1:NodeServiceCapability.RPC
NodeServiceCapability.RPC type=1:enum
NodeGetInfoResponse node_id=1:string max_volumes_per_node=2:int64 accessible_topology=3:Topology
NodeExpandVolumeRequest volume_id=1:string volume_path=2:string capacity_range=3:CapacityRange staging_target_path=4:string volume_capability=5:VolumeCapability secrets=6:m
NodeExpandVolumeResponse capacity_bytes=1:int64
`;

const ENUMS: Record<string, string> = {
  'PluginCapability.Service.Type':
    'UNKNOWN=0 CONTROLLER_SERVICE=1 VOLUME_ACCESSIBILITY_CONSTRAINTS=2 GROUP_CONTROLLER_SERVICE=3 SNAPSHOT_METADATA_SERVICE=4',
  'PluginCapability.VolumeExpansion.Type': 'UNKNOWN=0 ONLINE=1 OFFLINE=2',
  'VolumeCapability.AccessMode.Mode':
    'UNKNOWN=0 SINGLE_NODE_WRITER=1 SINGLE_NODE_READER_ONLY=2 MULTI_NODE_READER_ONLY=3 MULTI_NODE_SINGLE_WRITER=4 MULTI_NODE_MULTI_WRITER=5 SINGLE_NODE_SINGLE_WRITER=6 SINGLE_NODE_MULTI_WRITER=7',
  'ControllerServiceCapability.RPC.Type':
    'UNKNOWN=0 CREATE_DELETE_VOLUME=1 PUBLISH_UNPUBLISH_VOLUME=2 LIST_VOLUMES=3 GET_CAPACITY=4 CREATE_DELETE_SNAPSHOT=5 LIST_SNAPSHOTS=6 CLONE_VOLUME=7 PUBLISH_READONLY=8 EXPAND_VOLUME=9 LIST_VOLUMES_PUBLISHED_NODES=10 VOLUME_CONDITION=11 GET_VOLUME=12 SINGLE_NODE_MULTI_WRITER=13 MODIFY_VOLUME=14 GET_SNAPSHOT=15',
  'VolumeUsage.Unit': 'UNKNOWN=0 BYTES=1 INODES=2',
  'NodeServiceCapability.RPC.Type':
    'UNKNOWN=0 STAGE_UNSTAGE_VOLUME=1 GET_VOLUME_STATS=2 EXPAND_VOLUME=3 VOLUME_CONDITION=4 SINGLE_NODE_MULTI_WRITER=5 VOLUME_MOUNT_GROUP=6',
};

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

const TYPE_NAMES: Record<string, string> = {
  TYPE_STRING: 'string',
  TYPE_INT64: 'int64',
  TYPE_INT32: 'int32',
  TYPE_BOOL: 'bool',
  TYPE_ENUM: 'enum',
};

const { definition } = loadCsi();

/** Resolves `Outer.Inner` through nested message descriptors. */
function describe(full: string): MessageDescriptor {
  const [top, ...nested] = full.split('.');
  const def = definition[`csi.v1.${top}`] as { type: MessageDescriptor } | undefined;
  if (!def) throw new Error(`message csi.v1.${top} missing`);
  let m = def.type;
  for (const name of nested) {
    const next = m.nestedType?.find((n) => n.name === name);
    if (!next) throw new Error(`message ${full} missing`);
    m = next;
  }
  return m;
}

interface EnumDescriptor {
  name: string;
  value: { name: string; number: number }[];
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType?: (MessageDescriptor & { options?: { mapEntry?: boolean } })[];
  enumType?: EnumDescriptor[];
}

/** Field type as written in SPEC; nested type names compare by their last segment. */
function fieldType(f: FieldDescriptor, owner: MessageDescriptor): string {
  const rep = f.label === 'LABEL_REPEATED' ? '[]' : '';
  if (TYPE_NAMES[f.type]) return TYPE_NAMES[f.type]! + rep;
  const nested = owner.nestedType?.find((n) => n.name === f.typeName);
  if (nested?.options?.mapEntry) return 'm';
  return (
    f.typeName
      .replace(/^\.?csi\.v1\./, '')
      .split('.')
      .pop()! + rep
  );
}

t.test('every message has the spec field numbers and types', async (t) => {
  for (const line of SPEC.trim().split('\n')) {
    const [message, ...fields] = line.split(' ');
    const owner = describe(message!);
    const expected = fields.map((f) => {
      const [, name, num, type] = /^(\w+)=(\d+):(.+)$/.exec(f)!;
      const short =
        type === 'm'
          ? type
          : type!.replace(/\[\]$/, '').split('.').pop()! + (type!.endsWith('[]') ? '[]' : '');
      return `${name}=${num}:${short}`;
    });
    const got = owner.field.map((f) => `${f.name}=${f.number}:${fieldType(f, owner)}`);
    t.same(got.sort(), expected.sort(), message ?? '');
  }
});

t.test('every enum has the spec values', async (t) => {
  for (const [name, values] of Object.entries(ENUMS)) {
    const owner = describe(name.split('.').slice(0, -1).join('.'));
    const def = owner.enumType?.find((e) => e.name === name.split('.').pop());
    t.ok(def, `enum ${name} exists`);
    t.same(def?.value.map((v) => `${v.name}=${v.number}`).join(' '), values, name);
  }
});

const mountCap = {
  mount: { fs_type: 'ext4', mount_flags: ['noatime'], volume_mount_group: '' },
  access_mode: { mode: 'SINGLE_NODE_WRITER' },
};
const blockCap = { block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } };
const topo = { segments: { 'rds-csi.dev/rds': 'rds-1' } };
const volume = {
  capacity_bytes: '10737418240',
  volume_id: 'pvc-0f0e0d0c-0b0a-0908-0706-050403020100',
  volume_context: {
    nqn: 'nqn.2000-02.com.mikrotik:pvc-0f0e',
    traddr: '10.0.0.1',
    trsvcid: '4420',
    fsType: 'ext4',
  },
  content_source: { snapshot: { snapshot_id: 'snap-1' } },
  accessible_topology: [topo],
};
const snapshot = {
  size_bytes: '1073741824',
  snapshot_id: 'snap-1',
  source_volume_id: 'pvc-1',
  creation_time: { seconds: '1700000000', nanos: 5 },
  ready_to_use: true,
  group_snapshot_id: '',
};
const secrets = { password: 'p' };

// A representative request and response of every RPC.
const SAMPLES: Record<string, [Record<string, unknown>, Record<string, unknown>]> = {
  GetPluginInfo: [
    {},
    { name: 'rds-csi.dev', vendor_version: '0.1.0', manifest: { commit: 'abc' } },
  ],
  GetPluginCapabilities: [
    {},
    {
      capabilities: [
        { service: { type: 'CONTROLLER_SERVICE' } },
        { volume_expansion: { type: 'ONLINE' } },
      ],
    },
  ],
  Probe: [{}, { ready: { value: true } }],
  CreateVolume: [
    {
      name: 'pvc-1',
      capacity_range: { required_bytes: '1073741824', limit_bytes: '2147483648' },
      volume_capabilities: [mountCap, blockCap],
      parameters: { fsType: 'xfs' },
      secrets,
      volume_content_source: { volume: { volume_id: 'pvc-0' } },
      accessibility_requirements: { requisite: [topo], preferred: [topo] },
      mutable_parameters: { a: 'b' },
    },
    { volume },
  ],
  DeleteVolume: [{ volume_id: 'pvc-1', secrets }, {}],
  ControllerPublishVolume: [
    {
      volume_id: 'pvc-1',
      node_id: 'n1',
      volume_capability: mountCap,
      readonly: true,
      secrets,
      volume_context: { a: 'b' },
    },
    { publish_context: { devicePath: '/dev/nvme0n1' } },
  ],
  ControllerUnpublishVolume: [{ volume_id: 'pvc-1', node_id: 'n1', secrets }, {}],
  ValidateVolumeCapabilities: [
    {
      volume_id: 'pvc-1',
      volume_context: { a: 'b' },
      volume_capabilities: [blockCap],
      parameters: { p: 'q' },
      secrets,
      mutable_parameters: { m: 'n' },
    },
    {
      confirmed: {
        volume_context: { a: 'b' },
        volume_capabilities: [blockCap],
        parameters: { p: 'q' },
        mutable_parameters: { m: 'n' },
      },
      message: 'ok',
    },
  ],
  ListVolumes: [
    { max_entries: 10, starting_token: 't1' },
    {
      entries: [
        {
          volume,
          status: {
            published_node_ids: ['n1'],
            volume_condition: { abnormal: true, message: 'gone' },
          },
        },
      ],
      next_token: 't2',
    },
  ],
  GetCapacity: [
    { volume_capabilities: [mountCap], parameters: { a: 'b' }, accessible_topology: topo },
    {
      available_capacity: '1099511627776',
      maximum_volume_size: { value: '1099511627776' },
      minimum_volume_size: { value: '1073741824' },
    },
  ],
  ControllerGetCapabilities: [
    {},
    {
      capabilities: [{ rpc: { type: 'CREATE_DELETE_VOLUME' } }, { rpc: { type: 'GET_SNAPSHOT' } }],
    },
  ],
  CreateSnapshot: [
    { source_volume_id: 'pvc-1', name: 'snap-a', secrets, parameters: { a: 'b' } },
    { snapshot },
  ],
  DeleteSnapshot: [{ snapshot_id: 'snap-1', secrets }, {}],
  ListSnapshots: [
    {
      max_entries: 5,
      starting_token: 'x',
      source_volume_id: 'pvc-1',
      snapshot_id: 'snap-1',
      secrets,
    },
    { entries: [{ snapshot }], next_token: 'y' },
  ],
  GetSnapshot: [{ snapshot_id: 'snap-1', secrets }, { snapshot }],
  ControllerExpandVolume: [
    {
      volume_id: 'pvc-1',
      capacity_range: { required_bytes: '5', limit_bytes: '0' },
      secrets,
      volume_capability: mountCap,
    },
    { capacity_bytes: '2147483648', node_expansion_required: true },
  ],
  ControllerGetVolume: [
    { volume_id: 'pvc-1' },
    {
      volume,
      status: {
        published_node_ids: ['a', 'b'],
        volume_condition: { abnormal: false, message: '' },
      },
    },
  ],
  ControllerModifyVolume: [{ volume_id: 'pvc-1', secrets, mutable_parameters: { iops: '1' } }, {}],
  NodeStageVolume: [
    {
      volume_id: 'pvc-1',
      publish_context: { a: 'b' },
      staging_target_path: '/s',
      volume_capability: mountCap,
      secrets,
      volume_context: { c: 'd' },
    },
    {},
  ],
  NodeUnstageVolume: [{ volume_id: 'pvc-1', staging_target_path: '/s' }, {}],
  NodePublishVolume: [
    {
      volume_id: 'pvc-1',
      publish_context: { a: 'b' },
      staging_target_path: '/s',
      target_path: '/t',
      volume_capability: blockCap,
      readonly: true,
      secrets,
      volume_context: { c: 'd' },
    },
    {},
  ],
  NodeUnpublishVolume: [{ volume_id: 'pvc-1', target_path: '/t' }, {}],
  NodeGetVolumeStats: [
    { volume_id: 'pvc-1', volume_path: '/t', staging_target_path: '/s' },
    {
      usage: [
        { available: '1', total: '3', used: '2', unit: 'BYTES' },
        { available: '10', total: '30', used: '20', unit: 'INODES' },
      ],
      volume_condition: { abnormal: true, message: 'controller nvme0 is connecting' },
    },
  ],
  NodeExpandVolume: [
    {
      volume_id: 'pvc-1',
      volume_path: '/t',
      capacity_range: { required_bytes: '7' },
      staging_target_path: '/s',
      volume_capability: mountCap,
      secrets,
    },
    { capacity_bytes: '7' },
  ],
  NodeGetCapabilities: [
    {},
    {
      capabilities: [
        { rpc: { type: 'STAGE_UNSTAGE_VOLUME' } },
        { rpc: { type: 'VOLUME_MOUNT_GROUP' } },
      ],
    },
  ],
  NodeGetInfo: [{}, { node_id: 'n1', max_volumes_per_node: '64', accessible_topology: topo }],
};

t.test('a representative message of every RPC round-trips through encode/decode', async (t) => {
  const seen = new Set<string>();
  for (const service of ['Identity', 'Controller', 'Node']) {
    const svc = definition[`csi.v1.${service}`] as Record<string, MethodDefinition<object, object>>;
    for (const [method, def] of Object.entries(svc)) {
      seen.add(method);
      const sample = SAMPLES[method];
      if (!sample) {
        t.fail(`no sample for ${service}.${method}`);
        continue;
      }
      const [req, res] = sample;
      const reqBytes = def.requestSerialize(req);
      const resBytes = def.responseSerialize(res);
      if (Object.keys(req).length) t.ok(reqBytes.length > 0, `${method} request encodes to bytes`);
      t.has(def.requestDeserialize(reqBytes), req, `${method} request`);
      t.has(def.responseDeserialize(resBytes), res, `${method} response`);
    }
  }
  t.same([...seen].sort(), Object.keys(SAMPLES).sort(), 'samples cover exactly the services');
});

t.test('wire bytes use the spec tags (hand-checked)', async (t) => {
  const svc = definition['csi.v1.Node'] as Record<string, MethodDefinition<object, object>>;
  // NodeUnstageVolumeRequest{volume_id="a", staging_target_path="b"}: field 1 and 2, wire type 2.
  const bytes = svc.NodeUnstageVolume!.requestSerialize({
    volume_id: 'a',
    staging_target_path: 'b',
  });
  t.same([...bytes], [0x0a, 1, 0x61, 0x12, 1, 0x62]);
  // NodeGetInfoResponse{max_volumes_per_node=3}: field 2, varint.
  t.same([...svc.NodeGetInfo!.responseSerialize({ max_volumes_per_node: 3 })], [0x10, 3]);
});
