/**
 * The topology segment key shared by the controller (CreateVolume accessible_topology) and
 * the node (NodeGetInfo). Its value names the RDS a node can reach; one key for both sides
 * so the scheduler can match them.
 */
export const TOPOLOGY_KEY = 'rds-csi.dev/rds';

/** Default value of the segment when the deployment serves a single RDS. */
export const DEFAULT_TOPOLOGY_VALUE = 'default';
