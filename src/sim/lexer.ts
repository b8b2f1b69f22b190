/**
 * Tokenizer for the RouterOS CLI subset. One exec carries exactly one command, so anything
 * that would make a second command, expand a variable or that a shell would interpret
 * (`; | & $ \` < > ( ) { } # ' !`, a backslash outside quotes, a newline, control bytes)
 * is a syntax error for the whole line. Nothing is executed until the whole line has been
 * tokenized and parsed.
 */

export type TokenKind = 'word' | 'string' | '=' | '~' | '[' | ']';

export interface Token {
  readonly kind: TokenKind;
  /** Decoded text (for strings, without quotes and with escapes resolved). */
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly col: number;
}

/** An error RouterOS reports about the command text itself (before anything runs). */
export class CliSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliSyntaxError';
  }
}

export function at(what: string, col: number): CliSyntaxError {
  return new CliSyntaxError(`${what} (line 1 column ${col})`);
}

const WORD_CHAR = /[A-Za-z0-9._:*+@,/-]/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  $: '$',
  '?': '?',
  _: ' ',
  n: '\n',
  r: '\r',
  t: '\t',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function readString(line: string, start: number): { text: string; end: number } {
  const bytes: number[] = [];
  let i = start + 1;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '"') return { text: Buffer.from(bytes).toString('utf8'), end: i + 1 };
    if (ch === '$') throw at('syntax error', i + 1);
    if (ch.charCodeAt(0) < 0x20 || ch === '\x7f') throw at('syntax error', i + 1);
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += 1;
      continue;
    }
    const next = line[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      bytes.push(simple.charCodeAt(0));
      i += 2;
    } else if (/^[0-9A-Fa-f]{2}$/.test(line.slice(i + 1, i + 3))) {
      bytes.push(parseInt(line.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      throw at('syntax error', i + 1);
    }
  }
  throw at('syntax error', start + 1);
}

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t') {
      i += 1;
    } else if (ch === '"') {
      const { text, end } = readString(line, i);
      tokens.push({ kind: 'string', text, col: i + 1 });
      i = end;
    } else if (ch === '=' || ch === '~' || ch === '[' || ch === ']') {
      tokens.push({ kind: ch, text: ch, col: i + 1 });
      i += 1;
    } else if (WORD_CHAR.test(ch)) {
      const start = i;
      while (i < line.length && WORD_CHAR.test(line[i]!)) i += 1;
      tokens.push({ kind: 'word', text: line.slice(start, i), col: start + 1 });
    } else {
      throw at('syntax error', i + 1);
    }
  }
  return tokens;
}
