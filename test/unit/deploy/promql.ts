/**
 * Metric names referenced by a PromQL expression, for checking dashboards and alert rules
 * against the driver's registry. Not a PromQL parser: it removes what cannot be a metric
 * name (strings, label matchers, range/offset brackets, grouping label lists, Grafana
 * variables), then takes identifiers that are not functions, keywords or numbers.
 */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(
    /(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:])(\s*\()?/g,
  )) {
    const name = m[0].replace(/\s*\($/, '');
    if (m[1] !== undefined) continue; // a function call
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (/^\d/.test(name) || /^\d+(\.\d+)?(e\d+)?$/i.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}
