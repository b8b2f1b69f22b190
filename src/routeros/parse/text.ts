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
  /** The joined text so far, and where its current unquoted token starts. */
  text = '';
  tokenStart = 0;
  tokenHasEq = false;
  seenEq = false;

  /** Append `piece` to the text, advancing the scanner over it. */
  feed(piece: string): void {
    const base = this.text.length;
    this.text += piece;
    for (let k = 0; k < piece.length; k++) {
      const c = piece.charCodeAt(k);
      if (this.inQuote) {
        if (this.escape) this.escape = false;
        else if (c === 92 /* \\ */) this.escape = true;
        else if (c === 34 /* " */) this.inQuote = false;
      } else if (c === 32 || c === 9) {
        this.tokenStart = base + k + 1;
        this.tokenHasEq = false;
      } else if (c === 34) {
        this.inQuote = true;
      } else if (c === 61 /* = */) {
        this.tokenHasEq = true;
        this.seenEq = true;
      }
    }
  }

  /** How to attach the continuation `content` (indentation already removed). */
  join(content: string): string {
    if (this.inQuote) return content;
    const t = content.trimStart();
    if (this.tokenStart >= this.text.length || !this.seenEq) return ' ' + t;
    // A key split in two: the line ended inside a key.
    if (!this.tokenHasEq && KEY_HEAD.test(this.text.slice(this.tokenStart))) return t;
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
  let start = i + 1;
  let j = start;
  for (;;) {
    // Copy runs between escapes in one slice: char-by-char concatenation is GC-bound.
    while (j < s.length && s[j] !== '"' && s[j] !== '\\') j++;
    out += s.slice(start, j);
    if (j >= s.length || s[j] === '"') break;
    const hex = HEX_ESCAPE.exec(s.slice(j + 1, j + 3));
    if (hex !== null) {
      out += String.fromCharCode(parseInt(hex[0], 16));
      j += 3;
    } else {
      out += s.slice(j + 1, j + 2);
      j += 2;
    }
    start = j;
  }
  return [out, j + 1];
}

const HEX_ESCAPE = /^[0-9A-F]{2}$/;

interface Entry {
  index: string;
  indent: number;
  state: JoinState;
}

function startEntry(line: string, m: RegExpExecArray): Entry {
  const rest = line.slice(m[0].length);
  // Continuation lines are indented to the first property (past any flag letters).
  let firstKey = rest.search(/(?<=^|\s)[^\s"=]+=/);
  if (firstKey < 0) firstKey = rest.search(/[^\s]/);
  const indent = m[0].length + (firstKey < 0 ? rest.length : firstKey);
  const state = new JoinState();
  state.feed(rest);
  return { index: m[2] ?? '', indent, state };
}

function finish(e: Entry): RosRecord {
  const rec = tokenize(e.state.text);
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
    cur.state.feed(cur.state.join(content));
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
