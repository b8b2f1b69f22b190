/**
 * Runs one parsed command against the store and renders its reply. Failures are thrown as
 * RosFailure and rendered by the caller as `failure: <message>`.
 */
import type { Command, Cond, ItemRef, Menu, PrintCmd, PutValue } from './ast';
import {
  compareText,
  DISK_MENU,
  DISK_TABLE_COLUMNS,
  diskItems,
  FILE_MENU,
  FILE_TABLE_COLUMNS,
  fileItems,
  itemId,
} from './model';
import type { SimDisk, SimFileEntry } from './model';
import { RosFailure } from './pool';
import {
  renderDetail,
  renderJson,
  renderTable,
  renderTerse,
  terseValue,
  type RenderItem,
} from './render';
import { identityScreen, resourceScreen, trafficScreen } from './screens';
import type { DiskStore } from './store';
import { POOL_ID } from './store';

export interface ExecContext {
  readonly store: DiskStore;
  /** Console width for wrapping detail output. */
  readonly width: number;
  readonly version: string;
  readonly identity: string;
  readonly uptimeSeconds: number;
}

export interface ExecResult {
  readonly lines: string[];
  /** Set for a monitor without `once`: the screen repeats until the client closes. */
  readonly repeat?: boolean;
}

interface Listing {
  readonly items: RenderItem[];
  readonly disks: readonly SimDisk[];
  readonly files: readonly SimFileEntry[];
}

async function listing(menu: Menu, ctx: ExecContext): Promise<Listing> {
  if (menu === 'disk') {
    const disks = ctx.store.list();
    return { items: diskItems(await ctx.store.pool(), disks), disks, files: [] };
  }
  const files = await ctx.store.files();
  return { items: fileItems(files), disks: [], files };
}

function matches(item: RenderItem, conds: readonly Cond[]): boolean {
  return conds.every((c) => {
    const p = item.props.find((q) => q.key === c.key);
    const text = p ? compareText(p.value) : '';
    return c.op === '=' ? text === c.value : (c.regex?.test(text) ?? false);
  });
}

/** `[find]` may select nothing; a name or `*id` that matches nothing is `no such item`. */
function select(menu: Menu, ref: ItemRef, items: readonly RenderItem[]): RenderItem[] {
  if (ref.kind === 'find') return items.filter((i) => matches(i, ref.conds));
  const key = menu === 'disk' ? 'slot' : 'name';
  const found = items.filter(
    (i) =>
      i.id === ref.name || i.props.some((p) => p.key === key && compareText(p.value) === ref.name),
  );
  if (found.length === 0) throw new RosFailure('no such item');
  return found;
}

function disksOf(selected: readonly RenderItem[], all: Listing): SimDisk[] {
  if (selected.some((i) => i.id === itemId(POOL_ID)))
    throw new RosFailure('not allowed for this disk');
  return all.disks.filter((d) => selected.some((i) => i.id === itemId(d.id)));
}

async function printLines(
  cmd: PrintCmd,
  ctx: ExecContext,
): Promise<{ lines: string[]; items: RenderItem[] }> {
  const all = await listing(cmd.menu, ctx);
  const items = all.items.filter((i) => matches(i, cmd.where));
  const shape = cmd.menu === 'disk' ? DISK_MENU : FILE_MENU;
  switch (cmd.mode) {
    case 'detail':
      return { lines: renderDetail(items, shape, ctx.width), items };
    case 'terse':
      return { lines: renderTerse(items, shape), items };
    case 'table': {
      const cols = cmd.menu === 'disk' ? DISK_TABLE_COLUMNS : FILE_TABLE_COLUMNS;
      return { lines: renderTable(items, shape, cols), items };
    }
    case 'value':
      return { lines: [], items };
  }
}

async function put(value: PutValue, ctx: ExecContext): Promise<string[]> {
  if (value.kind === 'text') return [value.text];
  const { lines, items } = await printLines(value.print, ctx);
  // A print without as-value writes to the console and yields nothing to :put.
  if (value.print.mode !== 'value') return [...lines, ''];
  if (value.kind === 'serialize') return [renderJson(items)];
  const pairs = items.map((i) =>
    [`.id=${i.id}`, ...i.props.map((p) => `${p.key}=${terseValue(p.value)}`)].join(';'),
  );
  return [pairs.join(';')];
}

async function monitor(
  cmd: Extract<Command, { kind: 'monitor' }>,
  ctx: ExecContext,
): Promise<ExecResult> {
  const all = await listing('disk', ctx);
  const [item] = select('disk', cmd.target, all.items);
  if (item === undefined) throw new RosFailure('no such item');
  const slot = item.props.find((p) => p.key === 'slot');
  const lines = trafficScreen({
    slot: slot ? compareText(slot.value) : '',
    readOps: 0,
    writeOps: 0,
    readBytes: 0,
    writeBytes: 0,
    readOpsPerSecond: 0,
    writeOpsPerSecond: 0,
    readBitsPerSecond: 0,
    writeBitsPerSecond: 0,
  });
  return cmd.once ? { lines } : { lines, repeat: true };
}

async function addDisk(
  cmd: Extract<Command, { kind: 'disk-add' }>,
  ctx: ExecContext,
): Promise<void> {
  let source: SimDisk | undefined;
  if (cmd.copyFrom) {
    const all = await listing('disk', ctx);
    const picked = disksOf(select('disk', cmd.copyFrom, all.items), all);
    if (picked.length === 0) throw new RosFailure('no such item');
    if (picked.length > 1) throw new RosFailure('ambiguous value of copy-from');
    source = picked[0];
  }
  await ctx.store.add(cmd.args, source);
}

export async function execute(cmd: Command, ctx: ExecContext): Promise<ExecResult> {
  switch (cmd.kind) {
    case 'noop':
      return { lines: [] };
    case 'print':
      return { lines: (await printLines(cmd, ctx)).lines };
    case 'put':
      return { lines: await put(cmd.value, ctx) };
    case 'resource':
      return {
        lines: resourceScreen({
          version: ctx.version,
          uptimeSeconds: ctx.uptimeSeconds,
          boardName: 'RDS2216',
        }),
      };
    case 'identity':
      return { lines: identityScreen(ctx.identity) };
    case 'monitor':
      return monitor(cmd, ctx);
    case 'disk-add':
      await addDisk(cmd, ctx);
      return { lines: [] };
    case 'disk-set': {
      const all = await listing('disk', ctx);
      for (const d of disksOf(select('disk', cmd.target, all.items), all))
        await ctx.store.update(d, cmd.args);
      return { lines: [] };
    }
    case 'remove': {
      const all = await listing(cmd.menu, ctx);
      const selected = select(cmd.menu, cmd.target, all.items);
      if (cmd.menu === 'disk') await ctx.store.remove(disksOf(selected, all));
      else
        await ctx.store.removeFiles(
          all.files.filter((_, i) => selected.some((s) => s.index === i)),
        );
      return { lines: [] };
    }
  }
}
