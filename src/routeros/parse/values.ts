/**
 * Reading typed values out of parsed records, whatever form they came in: text output
 * (`53 687 091 200`, `50.0GiB`, `yes`), or JSON (`53687091200.000000`, `true`, `"yes"`).
 * Every reader returns undefined for a missing or unreadable value; callers decide.
 */
import type { RosRecord, RosValue } from './text';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  K: 1024,
  KI: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MI: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GI: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TI: 1024 ** 4,
  TIB: 1024 ** 4,
  P: 1024 ** 5,
  PIB: 1024 ** 5,
};

/**
 * A byte count: plain or space-grouped integers are exact; `50.0GiB`-style sizes are
 * rounded to the nearest byte (they are approximate by nature: one decimal).
 */
export function parseBytes(v: RosValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\s+/g, '');
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(s);
  if (m === null || m[1] === undefined) return undefined;
  const unit = UNITS[(m[2] ?? '').toUpperCase()];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

export function parseInteger(v: RosValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\s+/g, '');
  if (/^\d+$/.test(s)) return Number(s);
  if (/^\d+\.0+$/.test(s)) return Number(s.split('.')[0]);
  return undefined;
}

export function parseBool(v: RosValue | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  return undefined;
}

/** A string value; JSON numbers (float-converted strings) are turned back into integers. */
export function parseString(v: RosValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A RouterOS list: comma-separated in text, an array or a comma string in JSON. */
export function parseList(v: RosValue | undefined): string[] {
  if (Array.isArray(v)) {
    return v.map((x) => parseString(x as RosValue)).filter((x): x is string => !!x);
  }
  const s = parseString(v);
  if (s === undefined) return [];
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** `YYYY-MM-DD HH:MM:SS` (RouterOS 7.10+) or `mon/dd/yyyy HH:MM:SS`; read as UTC. */
export function parseDate(v: RosValue | undefined): Date | undefined {
  if (typeof v !== 'string') return undefined;
  let m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(v.trim());
  if (m !== null) {
    return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  }
  m = /^([a-z]{3})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/i.exec(v.trim());
  if (m === null) return undefined;
  const month = 'janfebmaraprmayjunjulaugsepoctnovdec'.indexOf(m[1]!.toLowerCase()) / 3;
  if (!Number.isInteger(month) || month < 0) return undefined;
  return new Date(Date.UTC(+m[3]!, month, +m[2]!, +m[4]!, +m[5]!, +m[6]!));
}

export function field(rec: RosRecord, key: string): RosValue | undefined {
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}
