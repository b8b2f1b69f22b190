/**
 * Pure parsers for RouterOS's text output: `print detail` (with wrapping), `print terse`,
 * and the `key: value` screens of `/system ... print`. Values come back as strings exactly
 * as the device wrote them (quotes and escapes removed); turning them into numbers and
 * booleans is the caller's business (see values.ts).
 */

/** One printed item: property name → value, plus `.flags` (the flag letters) and `.index`. */
export type RosRecord = Record<string, RosValue>;
export type RosValue = string | number | boolean | null | readonly RosValue[];

const KEY_START = /^[a-z.][a-z0-9.-]*=/;
const KEY_HEAD = /^[a-z][a-z0-9-]*$/;
const INDEX = /^(\s*)(\d+)(?=\s|$)/;

/**
 * Scanner state at the end of the text joined so far, used to decide how a continuation
 * line attaches: inside quotes it is verbatim, between properties it is a new property,
 * and in the middle of a key or bare value it is glued on directly (a wrapped value).
 */
class JoinState {
  inQuote = false;
  escape = false;
  /** Characters of the current unquoted token (since the last unquoted space). */
  token = '';
  tokenHasEq = false;
  seenEq = false;

  feed(s: string): void {
    for (const c of s) {
      if (this.inQuote) {
        if (this.escape) this.escape = false;
        else if (c === '\\') this.escape = true;
        else if (c === '"') this.inQuote = false;
        this.token += c;
        continue;
      }
      if (c === ' ' || c === '\t') {
        this.token = '';
        this.tokenHasEq = false;
        continue;
      }
      if (c === '"') this.inQuote = true;
      else if (c === '=') {
        this.tokenHasEq = true;
        this.seenEq = true;
      }
      this.token += c;
    }
  }

  /** How to attach the continuation `content` (indentation already removed). */
  join(content: string): string {
    if (this.inQuote) return content;
    const t = content.trimStart();
    if (this.token === '' || !this.seenEq) return ' ' + t;
    if (!this.tokenHasEq && KEY_HEAD.test(this.token)) return t; // a key split in two
    return KEY_START.test(t) ? ' ' + t : t;
  }
}

/** Split one logical property line into a record (grouped numbers and dates rejoined). */
export function tokenize(s: string): RosRecord {
  const rec: RosRecord = {};
  const flags: string[] = [];
  let lastKey: string | undefined;
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && s[j] !== ' ' && s[j] !== '\t' && s[j] !== '=' && s[j] !== '"') j++;
    if (s[j] === '=' && j > i) {
      const key = s.slice(i, j);
      const [value, next] = readValue(s, j + 1);
      rec[key] = value;
      lastKey = key;
      i = next;
      continue;
    }
    const [word, next] = readValue(s, i);
    if (lastKey === undefined) flags.push(word);
    else rec[lastKey] = `${String(rec[lastKey])} ${word}`;
    i = next;
  }
  if (flags.length > 0) rec['.flags'] = flags.join('');
  return rec;
}

/** Read a quoted or bare value starting at `i`; returns the value and the index after it. */
function readValue(s: string, i: number): [string, number] {
  if (s[i] !== '"') {
    let j = i;
    while (j < s.length && s[j] !== ' ' && s[j] !== '\t') j++;
    return [s.slice(i, j), j];
  }
  let out = '';
  let j = i + 1;
  while (j < s.length && s[j] !== '"') {
    if (s[j] === '\\' && j + 1 < s.length) {
      const hex = /^[0-9A-F]{2}/.exec(s.slice(j + 1, j + 3));
      if (hex !== null) {
        out += String.fromCharCode(parseInt(hex[0], 16));
        j += 3;
        continue;
      }
      j++;
    }
    out += s[j];
    j++;
  }
  return [out, j + 1];
}

interface Entry {
  index: string;
  indent: number;
  text: string;
  state: JoinState;
}

function startEntry(line: string, m: RegExpExecArray): Entry {
  const rest = line.slice(m[0].length);
  const firstKey = rest.search(/[^\s]/);
  const indent = m[0].length + (firstKey < 0 ? rest.length : firstKey);
  const state = new JoinState();
  state.feed(rest);
  return { index: m[2] ?? '', indent, text: rest, state };
}

function finish(e: Entry): RosRecord {
  const rec = tokenize(e.text);
  rec['.index'] = e.index;
  return rec;
}

/**
 * `print detail`: optional `Flags:` header (possibly wrapped), entries starting with an
 * index number, continuation lines indented to the property column, values wrapped at any
 * position, `;;;` comment lines, blank separator lines. Empty output = no items.
 */
export function parseDetail(output: string): RosRecord[] {
  const out: RosRecord[] = [];
  let cur: Entry | undefined;
  let inHeader = false;
  for (const raw of output.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    if (cur === undefined && /^\s*(Flags|Columns):/.test(line)) {
      inHeader = true;
      continue;
    }
    const m = INDEX.exec(line);
    if (m !== null && (cur === undefined || (m[1] ?? '').length < cur.indent)) {
      if (cur !== undefined) out.push(finish(cur));
      cur = startEntry(line, m);
      inHeader = false;
      continue;
    }
    if (/^\s*;;;/.test(line) || inHeader || cur === undefined) continue;
    const lead = line.length - line.trimStart().length;
    const content = line.slice(Math.min(lead, cur.indent));
    const piece = cur.state.join(content);
    cur.state.feed(piece);
    cur.text += piece;
  }
  if (cur !== undefined) out.push(finish(cur));
  return out;
}

/** `print terse`: one line per item (`<index> <flags> key=value ...`), never wrapped. */
export function parseTerse(output: string): RosRecord[] {
  const out: RosRecord[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^(Flags|Columns):/.test(line)) continue;
    const m = INDEX.exec(line);
    if (m === null) continue;
    const rec = tokenize(line.slice(m[0].length));
    rec['.index'] = m[2] ?? '';
    out.push(rec);
  }
  return out;
}

/** `key: value` screens such as `/system resource print` (keys are trimmed, values too). */
export function parseKeyValues(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of output.split('\n')) {
    const m = /^\s*([A-Za-z0-9.-]+):\s?(.*)$/.exec(raw.replace(/\r$/, ''));
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2].trim();
  }
  return out;
}
