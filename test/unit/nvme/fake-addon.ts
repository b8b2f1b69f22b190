/**
 * A fake rds_nvme addon over a FakeSysfs: connect parses the option string and behaves
 * like the kernel (EALREADY for the same nqn/address/hostnqn, scripted errnos per NQN),
 * disconnect removes the controller, and device nodes appear in a temp devRoot after a
 * configurable number of scans so wait loops can be exercised.
 */
import os from 'node:os';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type {
  ConnectReply,
  DeviceUsageReply,
  NativeError,
  NvmeAddon,
  Opener,
  RawBlockNode,
  RawScan,
} from '../../../src/nvme/native';
import { FakeSysfs } from '../../fakes/sysfs';

export function nativeError(
  code: string,
  syscall = 'write',
  file = '/dev/nvme-fabrics',
): NativeError {
  const errno = (os.constants.errno as Record<string, number>)[code] ?? 0;
  const err = new Error(`${code}: fake, ${syscall} '${file}'`) as Error & {
    code: string;
    errno: number;
    syscall: string;
    path: string;
  };
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  err.path = file;
  return err;
}

export function parseOptions(options: string): Record<string, string> {
  return Object.fromEntries(
    options.split(',').map((kv) => {
      const eq = kv.indexOf('=');
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
}

export class FakeKernel implements NvmeAddon {
  readonly abiVersion = 6;
  readonly sysfs = new FakeSysfs();
  /** Errno to fail a connect to this subsystem NQN with. */
  readonly connectErrors = new Map<string, string>();
  /** Errno to fail a disconnect of this instance with. */
  readonly disconnectErrors = new Map<number, string>();
  readonly connects: string[] = [];
  readonly disconnects: number[] = [];
  readonly rescans: number[] = [];
  readonly attributes: [number, string, string][] = [];
  /** Scans after a connect before its device node appears in devRoot. */
  devDelayScans = 0;
  /** State given to newly connected controllers. */
  newState = 'live';
  multipath = true;
  scans = 0;
  /** scanController() calls, by instance. */
  readonly controllerScans: number[] = [];
  private pending: { at: number; name: string }[] = [];

  constructor(readonly devRoot: string) {}

  /** Creates /dev nodes for every visible namespace now (for pre-existing topologies). */
  async syncDevices(): Promise<void> {
    for (const name of this.sysfs.visibleDevices()) {
      await fs.writeFile(path.join(this.devRoot, name), '');
    }
  }

  async connect(
    options: string,
    opts: { fabricsPath: string; sysfsRoot?: string; devRoot?: string },
  ): Promise<ConnectReply> {
    this.connects.push(options);
    const o = parseOptions(options);
    const nqn = o.nqn ?? '';
    const scripted = this.connectErrors.get(nqn);
    if (scripted !== undefined) throw nativeError(scripted, 'write', opts.fabricsPath);
    for (const c of this.sysfs.controllers.values()) {
      if (
        c.subsysnqn === nqn &&
        c.traddr === o.traddr &&
        String(c.trsvcid) === o.trsvcid &&
        c.hostnqn === o.hostnqn &&
        c.state !== 'deleting'
      ) {
        throw nativeError('EALREADY', 'write', opts.fabricsPath);
      }
    }
    let instance = 0;
    while (this.sysfs.controllers.has(instance)) instance++;
    const spec = {
      instance,
      subsysnqn: nqn,
      traddr: o.traddr ?? '',
      trsvcid: Number(o.trsvcid),
      hostnqn: o.hostnqn ?? '',
      hostid: o.hostid ?? '',
      state: this.newState,
    };
    const c = this.multipath
      ? this.sysfs.connectMultipath(spec)
      : this.sysfs.connectSinglePath(spec);
    for (const name of this.sysfs.visibleDevices()) {
      this.pending.push({ at: this.scans + this.devDelayScans, name });
    }
    const reply = { instance: c.instance, cntlid: c.cntlid };
    // like the addon: the connect's own lookup of the new controller
    if (opts.sysfsRoot === undefined) return reply;
    const lookup = await this.scanController(c.instance);
    if (opts.devRoot === undefined) return { ...reply, lookup };
    const devRoot = opts.devRoot;
    return {
      ...reply,
      lookup: {
        ...lookup,
        namespaces: lookup.namespaces.map((n) => ({
          ...n,
          devNode:
            n.hidden === '1' ? null : fsSync.existsSync(path.join(devRoot, n.name)) ? '1' : '0',
        })),
      },
    };
  }

  disconnect(instance: number): Promise<void> {
    this.disconnects.push(instance);
    const scripted = this.disconnectErrors.get(instance);
    if (scripted !== undefined)
      return Promise.reject(nativeError(scripted, 'open', `nvme${instance}`));
    if (!this.sysfs.controllers.has(instance)) {
      return Promise.reject(nativeError('ENOENT', 'open', `nvme${instance}/delete_controller`));
    }
    this.sysfs.removeController(instance);
    return Promise.resolve();
  }

  /** Device nodes come due by the number of lookups, full or targeted. */
  private async tick(): Promise<void> {
    const now = this.scans++;
    const due = this.pending.filter((p) => p.at <= now);
    this.pending = this.pending.filter((p) => p.at > now);
    for (const p of due) await fs.writeFile(path.join(this.devRoot, p.name), '');
  }

  async scan(opts: { sysfsRoot: string; brief?: boolean }): Promise<RawScan> {
    await this.tick();
    return this.sysfs.toRaw({ brief: opts.brief ?? false });
  }

  async scanController(instance: number): Promise<RawScan> {
    this.controllerScans.push(instance);
    await this.tick();
    return this.sysfs.toRawController(instance);
  }

  setAttribute(instance: number, name: string, value: string): Promise<void> {
    this.attributes.push([instance, name, value]);
    return Promise.resolve();
  }

  /** The same walk as the addon's, over a fake proc tree. */
  async findOpeners(paths: readonly string[], opts: { procRoot: string }): Promise<Opener[]> {
    const out: Opener[] = [];
    const list = (dir: string) => fs.readdir(dir).catch((): string[] => []);
    for (const pid of (await list(opts.procRoot)).filter((e) => /^\d+$/.test(e))) {
      const fdDir = path.join(opts.procRoot, pid, 'fd');
      for (const fd of await list(fdDir)) {
        const target = await fs.readlink(path.join(fdDir, fd)).catch(() => '');
        if (paths.includes(target)) out.push({ pid: Number(pid), path: target });
      }
    }
    return out;
  }

  /** The same reads as the addon's, over fake sys and proc trees. */
  async deviceUsage(
    names: readonly string[],
    opts: { sysfsRoot: string; procRoot: string },
  ): Promise<DeviceUsageReply> {
    const read = (file: string) =>
      fs.readFile(file, 'utf8').then(
        (v) => v.trim(),
        () => null,
      );
    const list = (dir: string) => fs.readdir(dir).catch((): string[] => []);
    const node = async (name: string, dir: string): Promise<RawBlockNode> => ({
      name,
      dev: await read(path.join(dir, 'dev')),
      holders: await list(path.join(dir, 'holders')),
    });
    const nodes: RawBlockNode[] = [];
    for (const name of names) {
      const base = path.join(opts.sysfsRoot, 'block', name);
      nodes.push(await node(name, base));
      for (const entry of await list(base)) {
        const dir = path.join(base, entry);
        if (entry.startsWith(name) && (await read(path.join(dir, 'partition'))) !== null) {
          nodes.push(await node(entry, dir));
        }
      }
    }
    const mountinfo = await fs.readFile(path.join(opts.procRoot, 'self', 'mountinfo'), 'utf8');
    const openers = await this.findOpeners(
      nodes.map((n) => `/dev/${n.name}`),
      opts,
    );
    return { nodes, mountinfo, openers };
  }

  rescan(instance: number): Promise<void> {
    this.rescans.push(instance);
    return Promise.resolve();
  }
}
