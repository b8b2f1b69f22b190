/**
 * Output renderers for `print` in its forms (detail, terse, plain, as-value/json) and for
 * the `key: value` screens (monitor-traffic, resource, identity). Pure: items in, lines out.
 * Lines carry no terminator; the SSH layer joins them with CRLF like a RouterOS console.
 */
import { formatSize, formatTime, groupDigits, jsonFloat, quote, quoteIfNeeded } from './format';

/** A typed property value; each kind has one text form per output mode. */
export type PropValue =
  | { readonly kind: 'str'; readonly v: string } // always quoted in detail
  | { readonly kind: 'word'; readonly v: string } // bare when safe (enums, paths)
  | { readonly kind: 'bytes'; readonly v: number } // space-grouped count
  | { readonly kind: 'size'; readonly v: number } // 50.0GiB
  | { readonly kind: 'num'; readonly v: number } // plain integer
  | { readonly kind: 'percent'; readonly v: number } // 22%
  | { readonly kind: 'bool'; readonly v: boolean } // yes / no
  | { readonly kind: 'time'; readonly v: Date }; // 2026-11-21 23:10:05

export interface Prop {
  readonly key: string;
  readonly value: PropValue;
}

export interface RenderItem {
  /** Position in the menu's full list (kept when a `where` filter hides others). */
  readonly index: number;
  /** Internal id (`*1`), shown only as `.id` in as-value output. */
  readonly id: string;
  readonly flags: string;
  readonly props: readonly Prop[];
}

export interface MenuShape {
  /** The `Flags:` legend printed before detail/plain output; empty when the menu has none. */
  readonly flagsHeader: string;
  /** Width of the flag-letter column (0 when the menu has no flags). */
  readonly flagColumn: number;
}

/** The text of a value in `print detail`/plain output. */
export function detailValue(value: PropValue): string {
  switch (value.kind) {
    case 'str':
      return quote(value.v);
    case 'word':
      return value.v === '' ? '""' : quoteIfNeeded(value.v);
    case 'bytes':
      return groupDigits(value.v);
    case 'size':
      return formatSize(value.v);
    case 'num':
      return String(value.v);
    case 'percent':
      return `${value.v}%`;
    case 'bool':
      return value.v ? 'yes' : 'no';
    case 'time':
      return formatTime(value.v);
  }
}

/** Terse quotes strings only when they need it; every other format is as in detail. */
export function terseValue(value: PropValue): string {
  return value.kind === 'str'
    ? value.v === ''
      ? '""'
      : quoteIfNeeded(value.v)
    : detailValue(value);
}

/** The JSON text of a value in `:serialize to=json` output (numbers as six-decimal floats). */
export function jsonValue(value: PropValue): string {
  switch (value.kind) {
    case 'bytes':
    case 'size':
    case 'num':
    case 'percent':
      return jsonFloat(value.v);
    case 'bool':
      return value.v ? 'true' : 'false';
    case 'time':
      return JSON.stringify(formatTime(value.v));
    case 'str':
    case 'word':
      // Numeric-looking strings become floats before 7.17 (no json.no-string-conversion).
      return /^-?\d+(\.\d+)?$/.test(value.v) ? jsonFloat(Number(value.v)) : JSON.stringify(value.v);
  }
}

function prefix(item: RenderItem, shape: MenuShape): string {
  const idx = String(item.index).padStart(2);
  return shape.flagColumn > 0 ? `${idx} ${item.flags.padEnd(shape.flagColumn)}` : `${idx} `;
}

/**
 * Word-wrap `tokens` after `first` at `width` columns, continuation lines indented to
 * `first.length`. A token longer than a whole line is cut at the width and continues at the
 * indent of the next line (the value itself carries on; no key is repeated).
 */
export function wrapTokens(first: string, tokens: readonly string[], width: number): string[] {
  const indent = ' '.repeat(first.length);
  const room = Math.max(1, width - indent.length);
  const lines: string[] = [];
  let line = first;
  let fresh = true;
  for (const token of tokens) {
    const needed = (fresh ? 0 : 1) + token.length;
    if (line.length + needed <= width) {
      line += (fresh ? '' : ' ') + token;
      fresh = false;
      continue;
    }
    if (!fresh) {
      lines.push(line);
      line = indent;
    }
    let rest = token;
    while (rest.length > room) {
      lines.push(line + rest.slice(0, room));
      rest = rest.slice(room);
      line = indent;
    }
    line += rest;
    fresh = rest.length === 0;
  }
  if (!fresh || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** Wrap a `Flags:` legend between its entries (`X - disabled,`), no continuation indent. */
function wrapHeader(header: string, width: number): string[] {
  if (header === '') return [];
  const lines: string[] = [];
  let line = 'Flags:';
  for (const entry of header.slice(line.length).match(/[^ ]+ - [^,;]+[,;]?/g) ?? []) {
    if (line !== '' && line.length + 1 + entry.length > width) {
      lines.push(line);
      line = entry;
    } else {
      line = line === '' ? entry : `${line} ${entry}`;
    }
  }
  lines.push(line);
  return lines;
}

export function renderDetail(
  items: readonly RenderItem[],
  shape: MenuShape,
  width: number,
): string[] {
  const lines = wrapHeader(shape.flagsHeader, width);
  for (const item of items) {
    const tokens = item.props.map((p) => `${p.key}=${detailValue(p.value)}`);
    lines.push(...wrapTokens(prefix(item, shape), tokens, width));
  }
  return lines;
}

/** One line per item, never wrapped, no header. */
export function renderTerse(items: readonly RenderItem[], shape: MenuShape): string[] {
  return items.map((item) => {
    const idx = String(item.index).padStart(2);
    const head = shape.flagColumn > 0 ? `${idx} ${item.flags} ` : `${idx} `;
    return head + item.props.map((p) => `${p.key}=${terseValue(p.value)}`).join(' ');
  });
}

/** `print` without detail: a Columns legend, a heading row and one row per item. */
export function renderTable(
  items: readonly RenderItem[],
  shape: MenuShape,
  columns: readonly string[],
): string[] {
  const heads = ['#', ...columns.map((c) => c.toUpperCase())];
  const rows = items.map((item) => {
    const cells = columns.map((c) => {
      const p = item.props.find((q) => q.key === c);
      return p ? terseValue(p.value) : '';
    });
    const idx = String(item.index) + (shape.flagColumn > 0 ? ' ' + item.flags : '');
    return [idx, ...cells];
  });
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = shape.flagsHeader ? [shape.flagsHeader] : [];
  lines.push(`Columns: ${columns.map((c) => c.toUpperCase()).join(', ')}`);
  lines.push(fmt(heads));
  for (const r of rows) lines.push(fmt(r));
  return lines;
}

/** The compact JSON array `:serialize to=json [... print as-value]` yields. */
export function renderJson(items: readonly RenderItem[]): string {
  const objs = items.map((item) => {
    const fields = [`".id":${JSON.stringify(item.id)}`];
    for (const p of item.props) fields.push(`${JSON.stringify(p.key)}:${jsonValue(p.value)}`);
    return `{${fields.join(',')}}`;
  });
  return `[${objs.join(',')}]`;
}

/** `key: value` screens, keys right-aligned two columns past the longest key. */
export function renderKeyValues(pairs: readonly (readonly [string, string])[]): string[] {
  const w = Math.max(0, ...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${k.padStart(w)}: ${v}`);
}
