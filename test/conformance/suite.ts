/** Runs conformance cases as tap subtests and prints a summary table per group. */
import type { Test } from 'tap';
import type { CsiClient } from '../helpers/csi';
import type { Case, CaseContext, Group, SuiteParams } from './framework';
import { identityCases } from './identity-cases';
import { controllerCases } from './controller-cases';
import { snapshotCases } from './snapshot-cases';
import { nodeCases } from './node-cases';
import { nodePathCases } from './node-path-cases';
import { publishCases } from './publish-cases';
import { volumeCases } from './volume-cases';

export const ALL_CASES: readonly Case[] = [
  ...identityCases,
  ...controllerCases,
  ...volumeCases,
  ...publishCases,
  ...snapshotCases,
  ...nodeCases,
  ...nodePathCases,
];

export interface CaseResult {
  readonly ok: boolean;
  readonly skipped?: string;
  readonly error?: Error;
}

let counter = 0;

/** Runs one case with its cleanups; never throws. */
export async function runCase(
  c: Case,
  client: CsiClient,
  params: SuiteParams,
): Promise<CaseResult> {
  const skipped = c.skip?.(params);
  if (skipped) return { ok: true, skipped };
  const cleanups: (() => Promise<unknown>)[] = [];
  const ctx: CaseContext = {
    client,
    params,
    unique: (prefix) => `${prefix}-${process.pid}-${++counter}`,
    defer: (fn) => cleanups.push(fn),
  };
  try {
    await c.run(ctx);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err as Error };
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  }
}

export async function runSuite(
  t: Test,
  client: CsiClient,
  params: SuiteParams,
  cases: readonly Case[] = ALL_CASES,
): Promise<void> {
  const table = new Map<Group, { passed: number; failed: number; skipped: number }>();
  for (const c of cases) {
    const row = table.get(c.group) ?? { passed: 0, failed: 0, skipped: 0 };
    table.set(c.group, row);
    await t.test(`${c.group}: ${c.name}`, async (t) => {
      const r = await runCase(c, client, params);
      if (r.skipped) {
        row.skipped++;
        t.pass(`${c.rule} — skipped: ${r.skipped}`, { skip: r.skipped });
      } else if (r.ok) {
        row.passed++;
        t.pass(c.rule);
      } else {
        row.failed++;
        t.fail(`${c.rule}\n${r.error?.message ?? ''}`);
      }
    });
  }
  const lines = ['group        passed  failed  skipped'];
  for (const [group, r] of table) {
    lines.push(
      `${group.padEnd(12)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}`,
    );
  }
  t.comment(
    `conformance summary (node cases on ${params.realKernel ? 'a real kernel' : 'fake kernel interfaces'}):\n${lines.join('\n')}`,
  );
}
