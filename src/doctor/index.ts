/** `rds-csi doctor`: the node and/or RDS checks for the configured mode, as one report. */
import type { Config } from '../config';
import { nodeChecks } from './node-checks';
import { rdsChecks, type RdsCheckOptions } from './rds-checks';
import type { CheckResult } from './report';
import { formatReport, runChecks } from './report';

export interface DoctorInput {
  readonly config: Config;
  /** Connection settings of the RDS (controller side), resolved by the caller. */
  readonly rds?: Omit<RdsCheckOptions, 'poolPath'>;
  /** Environment PATH used to find the node tools. */
  readonly path?: string;
}

export async function runDoctor(
  input: DoctorInput,
): Promise<{ report: string; failed: boolean; results: CheckResult[] }> {
  const { config } = input;
  const results: CheckResult[] = [];
  if (config.mode !== 'controller') {
    results.push(
      ...(await runChecks(
        nodeChecks({
          nodeId: config.nodeId,
          kubeletDir: config.node.kubeletDir,
          ...(input.path ? { path: input.path } : {}),
        }),
      )),
    );
  }
  if (config.mode !== 'node' && input.rds) {
    results.push(
      ...(await rdsChecks({
        ...input.rds,
        poolPath: config.rds.poolPath,
        goCompat: config.compat === 'rds-csi-go',
      })),
    );
  }
  return {
    report: formatReport(results),
    failed: results.some((r) => r.status === 'fail'),
    results,
  };
}
