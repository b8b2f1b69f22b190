/**
 * A fake NVMe sysfs: an in-memory model of controllers, subsystems and namespaces that can
 * be rendered two ways, kept equal by a test: `toRaw()` (what the addon's scan() returns,
 * for fakes of the addon; `toRawController()` for scanController()) and `writeTo(root)` (a
 * real directory tree the addon scans).
 * Layouts follow NVME-KERNEL.md: native multipath puts the visible head under
 * class/nvme-subsystem/nvme-subsysN/ and hidden per-path nodes nvmeXcYnZ under each
 * controller; with multipath=N the namespace sits under the controller itself.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RawController, RawNamespace, RawScan, RawSubsystem } from '../../src/nvme/native';

export interface FakeNamespace {
  name: string;
  nsid: number;
  /** 512-byte sectors. */
  sizeSectors: number;
  uuid?: string;
  nguid?: string;
  wwid?: string;
  hidden: boolean;
  /** 'major:minor' */
  dev: string;
}

export interface FakeController {
  instance: number;
  state: string;
  transport: string;
  traddr: string;
  trsvcid: number;
  subsysnqn: string;
  hostnqn: string;
  hostid: string;
  cntlid: number;
  ctrlLossTmo: string;
  reconnectDelay: string;
  fastIoFailTmo: string;
  kato: string;
  namespaces: FakeNamespace[];
}

export interface FakeSubsystem {
  index: number;
  subsysnqn: string;
  members: number[];
  heads: FakeNamespace[];
}

export type ControllerSpec = Partial<Omit<FakeController, 'namespaces'>> &
  Pick<FakeController, 'instance' | 'subsysnqn'>;

export const DEFAULT_HOSTNQN =
  'nqn.2014-08.org.nvmexpress:uuid:0f7d3a52-1c4e-4b7a-9f0d-2e6c8b5a1d34';
export const DEFAULT_HOSTID = '0f7d3a52-1c4e-4b7a-9f0d-2e6c8b5a1d34';

export class FakeSysfs {
  readonly controllers = new Map<number, FakeController>();
  readonly subsystems = new Map<number, FakeSubsystem>();
  private nextMinor = 0;

  addController(spec: ControllerSpec): FakeController {
    const c: FakeController = {
      state: 'live',
      transport: 'tcp',
      traddr: '127.0.0.1',
      trsvcid: 4420,
      hostnqn: DEFAULT_HOSTNQN,
      hostid: DEFAULT_HOSTID,
      cntlid: spec.instance + 1,
      ctrlLossTmo: 'off',
      reconnectDelay: '2',
      fastIoFailTmo: 'off',
      kato: '5',
      ...spec,
      namespaces: [],
    };
    this.controllers.set(c.instance, c);
    return c;
  }

  /** The subsystem for `nqn`, created (lowest free index) when missing. */
  subsystemFor(nqn: string): FakeSubsystem {
    for (const s of this.subsystems.values()) if (s.subsysnqn === nqn) return s;
    let index = 0;
    while (this.subsystems.has(index)) index++;
    const s: FakeSubsystem = { index, subsysnqn: nqn, members: [], heads: [] };
    this.subsystems.set(index, s);
    return s;
  }

  namespace(name: string, nsid: number, opts: Partial<FakeNamespace> = {}): FakeNamespace {
    return {
      name,
      nsid,
      sizeSectors: 2097152,
      uuid: `00000000-0000-4000-8000-${String(nsid).padStart(12, '0')}`,
      hidden: false,
      dev: `259:${this.nextMinor++}`,
      ...opts,
    };
  }

  /**
   * What the kernel does on a connect with native multipath: a controller joins the
   * subsystem; the first one creates the visible head nvme<subsys>n<k>, every one gets a
   * hidden per-path node nvme<subsys>c<instance>n<k>.
   */
  connectMultipath(spec: ControllerSpec, nsids: readonly number[] = [1]): FakeController {
    const c = this.addController(spec);
    const s = this.subsystemFor(spec.subsysnqn);
    s.members.push(c.instance);
    nsids.forEach((nsid, k) => {
      const headName = `nvme${s.index}n${k + 1}`;
      if (!s.heads.some((h) => h.name === headName)) s.heads.push(this.namespace(headName, nsid));
      c.namespaces.push(
        this.namespace(`nvme${s.index}c${c.instance}n${k + 1}`, nsid, { hidden: true }),
      );
    });
    return c;
  }

  /** multipath=N: the namespace nvme<instance>n<k> lives under the controller. */
  connectSinglePath(spec: ControllerSpec, nsids: readonly number[] = [1]): FakeController {
    const c = this.addController(spec);
    this.subsystemFor(spec.subsysnqn).members.push(c.instance);
    nsids.forEach((nsid, k) =>
      c.namespaces.push(this.namespace(`nvme${c.instance}n${k + 1}`, nsid)),
    );
    return c;
  }

  /** Removes a controller as delete_controller does (and a subsystem left empty). */
  removeController(instance: number): void {
    this.controllers.delete(instance);
    for (const [index, s] of this.subsystems) {
      s.members = s.members.filter((m) => m !== instance);
      if (s.members.length === 0) this.subsystems.delete(index);
    }
  }

  /** Visible block devices (the ones with a /dev node). */
  visibleDevices(): string[] {
    const heads = [...this.subsystems.values()].flatMap((s) => s.heads);
    const own = [...this.controllers.values()].flatMap((c) => c.namespaces);
    return [...heads, ...own].filter((n) => !n.hidden).map((n) => n.name);
  }

  /** `brief`: only the attributes the addon's brief scan reads, the rest null. */
  toRaw(opts: { brief?: boolean } = {}): RawScan {
    const controllers: RawController[] = [...this.controllers.values()].map((c) => ({
      name: `nvme${c.instance}`,
      state: c.state,
      transport: c.transport,
      address: `traddr=${c.traddr},trsvcid=${c.trsvcid},src_addr=127.0.0.1`,
      subsysnqn: c.subsysnqn,
      hostnqn: c.hostnqn,
      hostid: c.hostid,
      cntlid: String(c.cntlid),
      ctrlLossTmo: c.ctrlLossTmo,
      reconnectDelay: c.reconnectDelay,
      fastIoFailTmo: c.fastIoFailTmo,
      kato: c.kato,
    }));
    const subsystems: RawSubsystem[] = [...this.subsystems.values()].map((s) => ({
      name: `nvme-subsys${s.index}`,
      subsysnqn: s.subsysnqn,
      iopolicy: 'numa',
      members: s.members.map((m) => `nvme${m}`),
    }));
    const raw = (n: FakeNamespace, parent: string): RawNamespace => ({
      name: n.name,
      parent,
      nsid: String(n.nsid),
      size: String(n.sizeSectors),
      uuid: n.uuid ?? null,
      nguid: n.nguid ?? null,
      wwid: n.wwid ?? null,
      hidden: n.hidden ? '1' : '0',
      dev: n.dev,
    });
    const namespaces = [
      ...[...this.controllers.values()].flatMap((c) =>
        c.namespaces.map((n) => raw(n, `nvme${c.instance}`)),
      ),
      ...[...this.subsystems.values()].flatMap((s) =>
        s.heads.map((n) => raw(n, `nvme-subsys${s.index}`)),
      ),
    ];
    if (opts.brief !== true) return { controllers, subsystems, namespaces, truncated: false };
    const none = { transport: null, address: null, hostnqn: null, hostid: null, cntlid: null };
    const tmos = { ctrlLossTmo: null, reconnectDelay: null, fastIoFailTmo: null, kato: null };
    const blank = { size: null, uuid: null, nguid: null, wwid: null, dev: null, hidden: null };
    // A per-path entry's name says it is hidden; a brief scan reads nothing of it.
    const perPath = (name: string): boolean => /^nvme\d+c\d+n\d+$/.test(name);
    return {
      controllers: controllers.map((c) => ({ ...c, ...none, ...tmos })),
      subsystems: subsystems.map((s) => ({ ...s, iopolicy: null })),
      namespaces: namespaces.map((n) => ({
        ...n,
        ...blank,
        ...(perPath(n.name) ? { nsid: null } : {}),
      })),
      truncated: false,
    };
  }

  /**
   * What the addon's scanController(instance) returns: the controller, its namespaces, and
   * the subsystem it is a member of with that subsystem's heads (empty when it is gone),
   * with only the attributes a device wait needs (the others null).
   */
  toRawController(instance: number): RawScan {
    const raw = this.toRaw({ brief: true });
    const name = `nvme${instance}`;
    const subsystem = raw.subsystems.find((s) => s.members.includes(name));
    return {
      controllers: raw.controllers.filter((c) => c.name === name),
      subsystems: subsystem === undefined ? [] : [subsystem],
      namespaces: raw.namespaces.filter(
        (n) => n.parent === name || (subsystem !== undefined && n.parent === subsystem.name),
      ),
      truncated: false,
    };
  }

  /** Renders the model as files under `root` (class/nvme, class/nvme-subsystem, block). */
  async writeTo(root: string): Promise<void> {
    const raw = this.toRaw();
    const write = async (file: string, value: string | null): Promise<void> => {
      if (value === null) return;
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, `${value}\n`);
    };
    const attrFiles: Record<string, string> = {
      ctrlLossTmo: 'ctrl_loss_tmo',
      reconnectDelay: 'reconnect_delay',
      fastIoFailTmo: 'fast_io_fail_tmo',
    };
    for (const c of raw.controllers) {
      const dir = path.join(root, 'class', 'nvme', c.name);
      for (const [key, value] of Object.entries(c)) {
        if (key !== 'name') await write(path.join(dir, attrFiles[key] ?? key), value as string);
      }
      await write(path.join(dir, 'delete_controller'), '');
      await write(path.join(dir, 'rescan_controller'), '');
    }
    for (const s of raw.subsystems) {
      const dir = path.join(root, 'class', 'nvme-subsystem', s.name);
      await write(path.join(dir, 'subsysnqn'), s.subsysnqn);
      await write(path.join(dir, 'iopolicy'), s.iopolicy);
      for (const m of s.members)
        await fs.symlink(path.join('..', '..', 'nvme', m), path.join(dir, m));
    }
    for (const n of raw.namespaces) {
      const parentDir = n.parent.startsWith('nvme-subsys') ? 'nvme-subsystem' : 'nvme';
      const dir = path.join(root, 'class', parentDir, n.parent, n.name);
      for (const key of ['nsid', 'size', 'uuid', 'nguid', 'wwid', 'hidden', 'dev'] as const) {
        await write(path.join(dir, key), n[key]);
      }
      await fs.mkdir(path.join(root, 'block'), { recursive: true });
      await fs.symlink(dir, path.join(root, 'block', n.name));
    }
  }
}
