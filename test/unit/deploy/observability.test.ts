/**
 * The Grafana dashboard and the Prometheus alert rules: they parse, have the shape Grafana
 * and Prometheus expect, and reference only metrics the driver exports (the names come from
 * createMetrics' own registry; histograms add _bucket/_sum/_count).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { packageRoot } from '../../../src/paths';
import { createMetrics } from '../../../src/observability/metrics';
import { metricNames } from './promql';
import { isRecord } from './k8s';

const root = packageRoot();

async function exportedNames(): Promise<Set<string>> {
  const m = createMetrics({ version: '0.0.0', commit: 'test' });
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

interface Panel {
  type: string;
  title?: string;
  id?: number;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

function dashboard(): {
  panels: Panel[];
  templating: { list: { name: string; query?: unknown }[] };
} {
  return JSON.parse(readFileSync(join(root, 'deploy/dashboards/rds-csi.json'), 'utf8')) as never;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function rules(): Rule[] {
  const doc = parseDocument(readFileSync(join(root, 'deploy/alerts/rds-csi-rules.yaml'), 'utf8'), {
    uniqueKeys: true,
    strict: true,
  });
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    throw new Error([...doc.errors, ...doc.warnings].map((e) => e.message).join('\n'));
  }
  const value = doc.toJS() as { groups: { name: string; rules: Rule[] }[] };
  return value.groups.flatMap((g) => g.rules);
}

t.test(
  'metricNames finds metrics and skips functions, labels, keywords and variables',
  async (t) => {
    t.same(
      metricNames(
        'histogram_quantile(0.99, sum by (le, method) (rate(rds_csi_x_bucket{code!="OK",a=~"$ns"}[$__rate_interval])))',
      ),
      ['rds_csi_x_bucket'],
    );
    t.same(metricNames('a_total / on(instance) group_left(node) b > bool 0.5 unless c offset 5m'), [
      'a_total',
      'b',
      'c',
    ]);
    t.same(metricNames('max without (pod) (up{job="x"}) == 0'), ['up']);
    t.same(metricNames('sum(rate(x[5m])) by (y)'), ['x']);
  },
);

t.test('the dashboard is a Grafana dashboard over existing metrics only', async (t) => {
  const names = await exportedNames();
  t.ok(names.has('rds_csi_csi_rpc_duration_seconds_bucket'), 'histogram series are listed');
  const d = dashboard();
  const panels = allPanels(d.panels);
  const ids = panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((x) => ({ p, expr: x.expr ?? '' })));
  t.ok(exprs.length >= 20, `${exprs.length} queries`);
  const used = new Set<string>();
  for (const { p, expr } of exprs) {
    t.ok(expr.trim(), `${p.title}: has a query`);
    for (const name of metricNames(expr)) {
      used.add(name);
      t.ok(names.has(name), `${p.title}: ${name} is exported by createMetrics`);
    }
  }
  for (const v of d.templating.list) {
    const q = isRecord(v.query) ? String(v.query.query) : '';
    const m = /label_values\((\w+)/.exec(q);
    if (m) t.ok(names.has(m[1]!), `variable ${v.name}: ${m[1]} exists`);
  }
  // What the dashboard is for (issue 10): each of these topics has a panel.
  for (const want of [
    'rds_csi_csi_rpc_duration_seconds_count',
    'rds_csi_csi_rpc_duration_seconds_bucket',
    'rds_csi_attachment_operation_duration_seconds_bucket',
    'rds_csi_migration_active_migrations',
    'rds_csi_migration_migrations_total',
    'rds_csi_attachment_conflicts_total',
    'rds_csi_attachment_reconcile_total',
    'rds_csi_rds_connection_state',
    'rds_csi_rds_reconnect_total',
  ]) {
    t.ok(used.has(want), `a panel shows ${want}`);
  }
  for (const p of panels) {
    if (p.type === 'row') continue;
    t.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: fits the 24-column grid`);
  }
});

t.test('the alert rules are valid rules over existing metrics only', async (t) => {
  const names = await exportedNames();
  const all = rules();
  const alerts = all.map((r) => r.alert);
  t.equal(new Set(alerts).size, alerts.length, 'alert names are unique');
  for (const r of all) {
    t.match(r.alert, /^RdsCsi[A-Z]\w+$/, 'alerts are named RdsCsi*');
    t.ok(
      ['critical', 'warning', 'info'].includes(r.labels?.severity ?? ''),
      `${r.alert}: severity`,
    );
    t.ok(r.annotations?.summary, `${r.alert}: summary`);
    t.ok(r.annotations?.description, `${r.alert}: description`);
    if (r.for !== undefined) t.match(r.for, /^\d+[smh]$/, `${r.alert}: for`);
    const used = metricNames(r.expr);
    t.ok(used.length > 0, `${r.alert}: references a metric`);
    for (const name of used)
      t.ok(names.has(name), `${r.alert}: ${name} is exported by createMetrics`);
    const open = (r.expr.match(/\(/g) ?? []).length;
    t.equal(open, (r.expr.match(/\)/g) ?? []).length, `${r.alert}: balanced parentheses`);
  }
  // What the alerts are for (issue 10).
  const byMetric = (m: string) => all.some((r) => metricNames(r.expr).includes(m));
  t.ok(byMetric('rds_csi_rds_connection_state'), 'RDS unreachable');
  t.ok(byMetric('rds_csi_migration_active_migrations'), 'migration stuck');
  t.ok(byMetric('rds_csi_volume_operations_total'), 'stage/publish failure ratio');
  t.ok(byMetric('rds_csi_stale_mounts_detected_total'), 'stale mounts');
});

t.test('a reference to a metric that does not exist is caught', async (t) => {
  const names = await exportedNames();
  t.notOk(names.has('rds_csi_volume_operations'), 'counter names carry _total');
  t.same(
    metricNames('rate(rds_csi_no_such_metric_total[5m])').filter((n) => !names.has(n)),
    ['rds_csi_no_such_metric_total'],
  );
});
