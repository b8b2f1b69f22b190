// The soak's test bed as the rest of the soak sees it: two node kernels (VM a with rds-sim on
// the kernel NVMe target, VM b), the controller on the host as a child process running the
// production `rds-csi serve --mode controller`, the stand-in Kubernetes API server, and the
// faults the bed can inject. bed.ts implements it on QEMU VMs.
import type { SimFaultRule } from '../../src/sim';
import type { FakeKubeApiServer } from '../fakes/kube-apiserver';
import type { CsiClient } from '../helpers/csi';

export type NodeName = 'a' | 'b';
export const NODE_NAMES: readonly NodeName[] = ['a', 'b'];

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface NvmeControllerView {
  /** nvme<N> */
  name: string;
  subsysnqn: string;
  /** sysfs `state`: live, connecting, resetting, deleting... */
  state: string;
}

export interface SimFaultSet {
  rules?: SimFaultRule[];
  refuseLogins?: boolean;
}

export interface BedOptions {
  log: (line: string) => void;
  /** Extra controller flags (appended to the bed's own). */
  controllerArgs?: string[];
  /** Extra node plugin flags. */
  nodeArgs?: string[];
}

export interface Bed {
  readonly api: FakeKubeApiServer;
  /** The kubelet root directory inside both VMs. */
  readonly kubeletDir: string;
  /** Host NQN of each node. */
  hostNqn(node: NodeName): string;

  // ---- clients (a new client after a restart; callers must fetch them per call) ----
  controller(): CsiClient;
  node(node: NodeName): CsiClient;
  /** The controller's /metrics text (throws while the controller is down). */
  metrics(): Promise<string>;

  /** Runs a sh script as root in a VM. Rejects only when the VM itself fails. */
  exec(node: NodeName, script: string, timeoutMs?: number): Promise<ExecResult>;

  // ---- faults: each resolves when the fault is in place (or healed) ----
  /** Replaces rds-sim's fault rules (faults.json in its state dir); {} clears them. */
  simFaults(set: SimFaultSet): Promise<void>;
  /** SIGKILL the controller process (no clean-up of any kind). Idempotent. */
  killController(): Promise<void>;
  /** Starts the controller again (same flags) and waits until Probe says ready. */
  startController(): Promise<void>;
  /** SIGKILL the node plugin in VM `node`. */
  killNodePlugin(node: NodeName): Promise<void>;
  /** Starts it again and waits until it answers NodeGetInfo. */
  startNodePlugin(node: NodeName): Promise<void>;
  /** Target outage: unlink every subsystem from the nvmet port, returning what to re-link. */
  targetDown(): Promise<void>;
  /** Re-links what targetDown() removed (those subsystems that still exist). */
  targetUp(): Promise<void>;
  /** Deletes the Node object (as `kubectl delete node`); restoreNode() re-creates it. */
  removeNode(node: NodeName): Promise<void>;
  restoreNode(node: NodeName): Promise<void>;
  /** The API server refuses every request (503) and cuts its watches until apiUp(). */
  apiDown(): Promise<void>;
  apiUp(): Promise<void>;

  // ---- observations (read the real kernels and rds-sim) ----
  /** NVMe controllers in a node's kernel. */
  controllers(node: NodeName): Promise<NvmeControllerView[]>;
  /** Mount points under the kubelet dir in a node's /proc/mounts. */
  mounts(node: NodeName): Promise<string[]>;
  /** The nvmet allow-list of a subsystem: host NQNs, 'any', or undefined when it does not exist. */
  allowList(nqn: string): Promise<string[] | 'any' | undefined>;
  /** Every nvmet subsystem NQN in VM a's configfs. */
  subsystems(): Promise<string[]>;
  /** rds-sim's disks (`/disk print` slots) and the files under its pool (paths). */
  simInventory(): Promise<{ disks: string[]; files: string[] }>;
  /** Processes of the driver still running in a VM besides the node plugin (e.g. mkfs). */
  strayProcesses(node: NodeName): Promise<string[]>;

  /** Powers everything off. Safe to call twice. */
  stop(): Promise<void>;
}
