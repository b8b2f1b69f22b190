/**
 * Parser for `:put [:serialize to=json [... print detail as-value ...]]` output. RouterOS
 * may print one object instead of an array, may break a long line, and (before
 * `json.no-string-conversion`) turns numeric-looking strings into floats (`443.000000`);
 * values.ts reads numbers and strings defensively for that reason.
 */
import type { RosRecord, RosValue } from './text';

export class OutputParseError extends Error {}

function toRecords(v: unknown): RosRecord[] {
  if (v === null || v === undefined || v === '') return [];
  if (Array.isArray(v)) {
    return v.filter(
      (x): x is RosRecord => typeof x === 'object' && x !== null && !Array.isArray(x),
    );
  }
  if (typeof v === 'object') return [v as RosRecord];
  throw new OutputParseError('JSON output is not an object or a list of objects');
}

export function parseJson(output: string): RosRecord[] {
  const trimmed = output.trim();
  if (trimmed === '') return [];
  try {
    return toRecords(JSON.parse(trimmed));
  } catch (err) {
    if (err instanceof OutputParseError) throw err;
  }
  // A console line break inside a string: the JSON has no raw newlines of its own.
  try {
    return toRecords(JSON.parse(trimmed.replace(/\r?\n/g, '')));
  } catch {
    throw new OutputParseError('output is not valid JSON');
  }
}

export type { RosValue };
