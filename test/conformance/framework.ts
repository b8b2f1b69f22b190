/**
 * The conformance framework: a case is one rule of the CSI specification, checked against
 * a running driver through a real gRPC client. Cases throw (node:assert) on violation.
 */
import assert from 'node:assert/strict';
import type { status } from '@grpc/grpc-js';
import type { CsiClient } from '../helpers/csi';
import { codeOf } from '../helpers/csi';

export type Group = 'Identity' | 'Controller' | 'Snapshots' | 'Node';

export interface SuiteParams {
  /** Size of test volumes in bytes. */
  readonly sizeBytes: number;
  /** Access type of the volumes the Node cases stage and publish. */
  readonly accessType: 'mount' | 'block';
  /** Directories under which staging and target paths are created. */
  readonly stagingRoot: string;
  readonly targetRoot: string;
  /** StorageClass parameters for CreateVolume. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Whether the node cases drive a real kernel (false: fake kernel interfaces). */
  readonly realKernel: boolean;
  /**
   * A second node id the controller accepts, for the rules about a volume on two nodes.
   * Absent (e.g. `--mode all` without Kubernetes, where only the local node exists):
   * those cases are skipped.
   */
  readonly otherNodeId?: string;
  /** Whether the operator opted in to advertising the alpha GET_SNAPSHOT capability. */
  readonly getSnapshotAdvertised?: boolean;
}

export interface CaseContext {
  readonly client: CsiClient;
  readonly params: SuiteParams;
  /** A unique name for this case's objects. */
  readonly unique: (prefix: string) => string;
  /** Registers cleanup that runs after the case, pass or fail. */
  readonly defer: (fn: () => Promise<unknown>) => void;
}

export interface Case {
  readonly group: Group;
  readonly name: string;
  /** The rule of the CSI spec this case checks, in the spec's terms. */
  readonly rule: string;
  /** Why the case cannot run in this setup (printed as the skip reason). */
  readonly skip?: (params: SuiteParams) => string | undefined;
  run(ctx: CaseContext): Promise<void>;
}

/** Asserts that `p` fails with exactly `expected`. */
export async function expectCode(
  p: Promise<unknown>,
  expected: status,
  what: string,
): Promise<void> {
  const got = await codeOf(p);
  assert.equal(got, expected, `${what}: expected gRPC code ${expected}, got ${String(got)}`);
}

export async function expectOk<T>(p: Promise<T>, what: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    assert.fail(
      `${what}: expected OK, got code ${String((err as { code?: number }).code)} (${(err as Error).message})`,
    );
  }
}
