/** The parsed form of one CLI command; produced by parser.ts, consumed by exec.ts. */

export type Menu = 'disk' | 'file';

export interface Cond {
  readonly key: string;
  readonly op: '=' | '~';
  readonly value: string;
  /** Compiled at parse time for `~`, so a bad pattern fails before anything runs. */
  readonly regex?: RegExp;
}

/** How a command names items: `[find ...]` (may match nothing) or a name/`*id` (must exist). */
export type ItemRef =
  | { readonly kind: 'find'; readonly conds: readonly Cond[] }
  | { readonly kind: 'name'; readonly name: string };

export type PrintMode = 'detail' | 'terse' | 'table' | 'value';

export interface PrintCmd {
  readonly kind: 'print';
  readonly menu: Menu;
  readonly mode: PrintMode;
  readonly where: readonly Cond[];
}

/** Disk properties settable by add/set; absent = not given. */
export interface DiskArgs {
  readonly type?: string;
  readonly filePath?: string;
  readonly fileSize?: number;
  readonly slot?: string;
  readonly nvmeExport?: boolean;
  readonly port?: number;
  readonly nqn?: string;
  readonly allowHost?: string;
  readonly password?: string;
}

export type PutValue =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'serialize'; readonly print: PrintCmd }
  | { readonly kind: 'list'; readonly print: PrintCmd };

export type Command =
  | PrintCmd
  | { readonly kind: 'disk-add'; readonly args: DiskArgs; readonly copyFrom?: ItemRef }
  | { readonly kind: 'disk-set'; readonly target: ItemRef; readonly args: DiskArgs }
  | { readonly kind: 'remove'; readonly menu: Menu; readonly target: ItemRef }
  | { readonly kind: 'monitor'; readonly target: ItemRef; readonly once: boolean }
  | { readonly kind: 'resource' }
  | { readonly kind: 'identity' }
  | { readonly kind: 'put'; readonly value: PutValue }
  | { readonly kind: 'noop' };
