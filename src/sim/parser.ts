/**
 * Grammar of the CLI subset: menu path, command, arguments, `where`, `[find ...]`, `:put`
 * and `:serialize`. The whole line is parsed (and every value validated) before a command
 * object exists, so a bad line never runs in part.
 */
import type { Command, Cond, DiskArgs, ItemRef, Menu, PrintCmd, PutValue } from './ast';
import { at, CliSyntaxError, tokenize, type Token } from './lexer';
import { DISK_KEYS, DISK_SET_KEYS, DISK_SETTERS, FILE_KEYS, versionAtLeast } from './values';

export interface ParseOptions {
  /** Simulated RouterOS version; `:serialize` exists from 7.13. */
  readonly version: string;
}

type CommandName = 'print' | 'add' | 'set' | 'remove' | 'monitor-traffic';
interface MenuNode {
  readonly children?: Readonly<Record<string, MenuNode>>;
  readonly commands?: readonly CommandName[];
  readonly menu?: Menu | 'resource' | 'identity';
}

const TREE: MenuNode = {
  children: {
    disk: { menu: 'disk', commands: ['print', 'add', 'set', 'remove', 'monitor-traffic'] },
    file: { menu: 'file', commands: ['print', 'remove'] },
    system: {
      children: {
        resource: { menu: 'resource', commands: ['print'] },
        identity: { menu: 'identity', commands: ['print'] },
      },
    },
  },
};

interface Arg {
  readonly name: string;
  readonly col: number;
  readonly value?: string;
  readonly find?: ItemRef;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly toks: readonly Token[],
    private readonly opts: ParseOptions,
  ) {}

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }

  private endCol(): number {
    const last = this.toks[this.toks.length - 1];
    return last ? last.col + last.text.length : 1;
  }

  /** True at the end of input or at the `]` closing the current sub-command. */
  private atEnd(nested: boolean): boolean {
    const t = this.peek();
    return t === undefined || (nested && t.kind === ']');
  }

  private expectEnd(nested: boolean): void {
    const t = this.peek();
    if (!this.atEnd(nested)) throw at('expected end of command', t!.col);
  }

  parseLine(): Command {
    const cmd = this.parseCommand(false);
    if (this.peek() !== undefined) throw at('expected end of command', this.peek()!.col);
    return cmd;
  }

  private parseCommand(nested: boolean): Command {
    const first = this.peek();
    if (first === undefined || (nested && first.kind === ']')) return { kind: 'noop' };
    if (first.kind === 'word' && first.text.startsWith(':')) return this.parseScript(nested);
    let node = TREE;
    while (!this.atEnd(nested)) {
      const t = this.peek()!;
      if (t.kind !== 'word') throw at('expected end of command', t.col);
      this.pos += 1;
      let offset = 0;
      const segments = t.text.split('/');
      for (const [i, seg] of segments.entries()) {
        const col = t.col + offset;
        offset += seg.length + 1;
        if (seg === '' && (i === 0 || i === segments.length - 1)) continue;
        const child = node.children?.[seg];
        if (child) {
          node = child;
          continue;
        }
        const name = node.commands?.find((c) => c === seg);
        if (name === undefined || node.menu === undefined) throw at(`bad command name ${seg}`, col);
        if (i < segments.length - 1) throw at('expected end of command', col + seg.length);
        return this.parseArgs(node.menu, name, nested);
      }
    }
    return { kind: 'noop' };
  }

  private parseScript(nested: boolean): Command {
    const t = this.peek()!;
    this.pos += 1;
    if (t.text === ':put') {
      const value = this.parsePutValue(nested);
      this.expectEnd(nested);
      return { kind: 'put', value };
    }
    if (t.text === ':serialize' && versionAtLeast(this.opts.version, '7.13')) {
      // A bare :serialize computes a value nobody prints.
      this.parseSerialize(t);
      this.expectEnd(nested);
      return { kind: 'noop' };
    }
    throw at(`bad command name ${t.text.slice(1)}`, t.col + 1);
  }

  private parsePutValue(nested: boolean): PutValue {
    const t = this.peek();
    if (t === undefined || (nested && t.kind === ']')) return { kind: 'text', text: '' };
    if (t.kind === 'word' || t.kind === 'string') {
      this.pos += 1;
      return { kind: 'text', text: t.text };
    }
    if (t.kind !== '[') throw at('expected end of command', t.col);
    this.pos += 1;
    const inner = this.peek();
    let value: PutValue;
    if (inner?.kind === 'word' && inner.text === ':serialize') {
      if (!versionAtLeast(this.opts.version, '7.13')) {
        throw at('bad command name serialize', inner.col + 1);
      }
      this.pos += 1;
      value = { kind: 'serialize', print: this.parseSerialize(inner) };
    } else {
      const cmd = this.parseCommand(true);
      if (cmd.kind !== 'print') throw at('expected end of command', inner?.col ?? t.col);
      value = { kind: 'list', print: cmd };
    }
    this.closeBracket(t);
    return value;
  }

  /** `to=json [<print ... as-value>]` after `:serialize`. */
  private parseSerialize(kw: Token): PrintCmd {
    const to = this.peek();
    if (to?.kind !== 'word' || to.text !== 'to')
      throw at('expected end of command', to?.col ?? this.endCol());
    this.pos += 1;
    const value = this.readAssigned(to);
    if (value !== 'json') throw new CliSyntaxError('invalid value for argument to');
    const open = this.peek();
    if (open?.kind !== '[') throw at('expected end of command', open?.col ?? kw.col);
    this.pos += 1;
    const cmd = this.parseCommand(true);
    if (cmd.kind !== 'print') throw at('expected end of command', open.col + 1);
    this.closeBracket(open);
    return cmd;
  }

  private closeBracket(open: Token): void {
    const t = this.peek();
    if (t === undefined) throw at('syntax error', open.col);
    if (t.kind !== ']') throw at('expected end of command', t.col);
    this.pos += 1;
  }

  /** After `name`: `=` then a value; a value must touch the `=` (`a= b=c` gives `a` ""). */
  private readAssigned(name: Token): string {
    const eq = this.peek();
    if (eq?.kind !== '=' || eq.col !== name.col + name.text.length) {
      throw at('expected end of command', eq?.col ?? name.col + name.text.length);
    }
    this.pos += 1;
    const v = this.peek();
    if (v && (v.kind === 'word' || v.kind === 'string') && v.col === eq.col + 1) {
      this.pos += 1;
      return v.text;
    }
    return '';
  }

  private parseFind(menu: Menu, open: Token): ItemRef {
    const kw = this.peek();
    if (kw?.kind !== 'word' || kw.text !== 'find') {
      if (kw === undefined) throw at('syntax error', open.col);
      throw at(
        kw.kind === 'word' ? `bad command name ${kw.text}` : 'expected end of command',
        kw.col,
      );
    }
    this.pos += 1;
    const hasWhere = this.peek()?.kind === 'word' && this.peek()!.text === 'where';
    if (hasWhere) this.pos += 1;
    const conds = this.parseConds(menu, true, !hasWhere);
    this.closeBracket(open);
    return { kind: 'find', conds };
  }

  /** `key=value` / `key~"regex"` joined by `and` (juxtaposition allowed inside `find`). */
  private parseConds(menu: Menu, nested: boolean, juxtapose: boolean): Cond[] {
    const keys = menu === 'disk' ? DISK_KEYS : FILE_KEYS;
    const conds: Cond[] = [];
    while (!this.atEnd(nested)) {
      if (conds.length > 0) {
        const t = this.peek()!;
        if (t.kind === 'word' && t.text === 'and') this.pos += 1;
        else if (!juxtapose) throw at('expected end of command', t.col);
      }
      const key = this.peek();
      if (key?.kind !== 'word' || !keys.has(key.text)) {
        throw at('expected end of command', key?.col ?? this.endCol());
      }
      this.pos += 1;
      const op = this.peek();
      if (op?.kind !== '=' && op?.kind !== '~')
        throw at('expected end of command', op?.col ?? this.endCol());
      this.pos += 1;
      const v = this.peek();
      if (v?.kind !== 'word' && v?.kind !== 'string')
        throw at('expected end of command', v?.col ?? this.endCol());
      this.pos += 1;
      if (op.kind === '=') {
        conds.push({ key: key.text, op: '=', value: v.text });
        continue;
      }
      try {
        conds.push({ key: key.text, op: '~', value: v.text, regex: new RegExp(v.text) });
      } catch {
        throw at('syntax error', v.col);
      }
    }
    return conds;
  }

  private readArgs(
    menu: Menu,
    nested: boolean,
    allowWhere: boolean,
  ): { args: Arg[]; where: Cond[] } {
    const args: Arg[] = [];
    let where: Cond[] = [];
    while (!this.atEnd(nested)) {
      const t = this.peek()!;
      this.pos += 1;
      if (t.kind === '[') {
        args.push({ name: '', col: t.col, find: this.parseFind(menu, t) });
      } else if (t.kind === 'string') {
        args.push({ name: '', col: t.col, value: t.text });
      } else if (t.kind !== 'word') {
        throw at('expected end of command', t.col);
      } else if (t.text === 'where' && allowWhere) {
        if (this.atEnd(nested)) throw at('expected end of command', t.col + t.text.length);
        where = this.parseConds(menu, nested, false);
      } else if (this.peek()?.kind === '=') {
        const next = this.toks[this.pos + 1];
        if (next?.kind === '[' && next.col === this.peek()!.col + 1) {
          this.pos += 2;
          args.push({ name: t.text, col: t.col, find: this.parseFind(menu, next) });
        } else {
          args.push({ name: t.text, col: t.col, value: this.readAssigned(t) });
        }
      } else {
        args.push({ name: '', col: t.col, value: t.text });
      }
    }
    return { args, where };
  }

  private parseArgs(
    menu: Menu | 'resource' | 'identity',
    name: CommandName,
    nested: boolean,
  ): Command {
    if (menu === 'resource' || menu === 'identity') {
      const { args } = this.readArgs('disk', nested, false);
      for (const a of args) {
        if (a.name !== '' || a.value !== 'without-paging')
          throw at('expected end of command', a.col);
      }
      return { kind: menu };
    }
    const { args, where } = this.readArgs(menu, nested, name === 'print');
    switch (name) {
      case 'print':
        return buildPrint(menu, args, where);
      case 'add':
        return buildAdd(args);
      case 'set':
        return {
          kind: 'disk-set',
          target: onlyTarget(args, 1),
          args: diskArgs(args.slice(1), DISK_SET_KEYS),
        };
      case 'remove':
        return { kind: 'remove', menu, target: onlyTarget(args, args.length) };
      case 'monitor-traffic':
        return buildMonitor(args);
    }
  }
}

function buildPrint(menu: Menu, args: readonly Arg[], where: Cond[]): PrintCmd {
  const flags = new Set<string>();
  for (const a of args) {
    const ok =
      a.name === '' && ['detail', 'terse', 'as-value', 'without-paging'].includes(a.value ?? '');
    if (!ok) throw at('expected end of command', a.col);
    flags.add(a.value!);
  }
  const mode = flags.has('as-value')
    ? 'value'
    : flags.has('terse')
      ? 'terse'
      : flags.has('detail')
        ? 'detail'
        : 'table';
  return { kind: 'print', menu, mode, where };
}

function buildAdd(args: readonly Arg[]): Command {
  const copy = args.find((a) => a.name === 'copy-from');
  let copyFrom: ItemRef | undefined;
  if (copy) {
    copyFrom = copy.find ?? { kind: 'name', name: copy.value ?? '' };
  }
  const rest = args.filter((a) => a !== copy);
  const parsed = diskArgs(rest, new Set(Object.keys(DISK_SETTERS)));
  return copyFrom
    ? { kind: 'disk-add', args: parsed, copyFrom }
    : { kind: 'disk-add', args: parsed };
}

function buildMonitor(args: readonly Arg[]): Command {
  const target = args[0];
  if (target === undefined || target.name !== '') {
    throw new CliSyntaxError('missing value(s) of argument(s) numbers');
  }
  let once = false;
  for (const a of args.slice(1)) {
    if (a.name !== '' || a.value !== 'once' || once) throw at('expected end of command', a.col);
    once = true;
  }
  return { kind: 'monitor', target: refOf(target), once };
}

function refOf(a: Arg): ItemRef {
  return a.find ?? { kind: 'name', name: a.value ?? '' };
}

/** The first `count` args must be exactly one positional item reference. */
function onlyTarget(args: readonly Arg[], count: number): ItemRef {
  const target = args[0];
  if (target === undefined || target.name !== '') {
    throw new CliSyntaxError('missing value(s) of argument(s) numbers');
  }
  const extra = args.slice(1, count)[0];
  if (extra) throw at('expected end of command', extra.col);
  return refOf(target);
}

function diskArgs(args: readonly Arg[], allowed: ReadonlySet<string>): DiskArgs {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const a of args) {
    const setter = DISK_SETTERS[a.name];
    if (a.name === '' || !allowed.has(a.name) || !setter || seen.has(a.name) || a.find) {
      throw at('expected end of command', a.col);
    }
    seen.add(a.name);
    setter(out, a.value ?? '');
  }
  return out;
}

/** Parse one command line; throws CliSyntaxError with RouterOS's message on any error. */
export function parseCommand(line: string, opts: ParseOptions): Command {
  return new Parser(tokenize(line), opts).parseLine();
}
