/**
 * Doctor checks: each is a named probe that passes, warns or fails, and a failure always
 * says how to fix it. The report is a plain table for people; the exit status is non-zero
 * when anything failed.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do about a warn or fail. */
  readonly fix?: string;
}

export interface Check {
  readonly name: string;
  run(): Promise<Omit<CheckResult, 'name'>>;
}

export async function runChecks(checks: readonly Check[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    try {
      out.push({ name: c.name, ...(await c.run()) });
    } catch (err) {
      out.push({
        name: c.name,
        status: 'fail',
        detail: `check crashed: ${(err as Error).message}`,
        fix: 'report this as a bug in rds-csi doctor',
      });
    }
  }
  return out;
}

export function formatReport(results: readonly CheckResult[]): string {
  const w = Math.max(5, ...results.map((r) => r.name.length));
  const lines = [`${'check'.padEnd(w)}  result  detail`];
  for (const r of results) {
    lines.push(`${r.name.padEnd(w)}  ${r.status.toUpperCase().padEnd(6)}  ${r.detail}`);
    if (r.status !== 'pass' && r.fix) lines.push(`${''.padEnd(w)}  ${''.padEnd(6)}  fix: ${r.fix}`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push(
    '',
    `${results.length} checks: ${results.length - failed - warned} passed, ${warned} warnings, ${failed} failed`,
  );
  return lines.join('\n') + '\n';
}

export const pass = (detail: string): Omit<CheckResult, 'name'> => ({ status: 'pass', detail });
export const warn = (detail: string, fix: string): Omit<CheckResult, 'name'> => ({
  status: 'warn',
  detail,
  fix,
});
export const fail = (detail: string, fix: string): Omit<CheckResult, 'name'> => ({
  status: 'fail',
  detail,
  fix,
});
