// The soak's test bed on QEMU: the hand-off set-up of test/vm/handoff.test.ts (two kernels,
// rds-sim with the kernel NVMe target in VM a, a node plugin per VM, the stand-in API server
// relayed into the VMs) with the controller as a child process, plus the faults of bed-types.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOST_NQN_ANNOTATION } from '../../src/kube/ports';
import { NODE_PLUGIN_NODE_FLAGS } from '../../src/runtime-flags';
import { generateSshKeyPair } from '../../src/sim/keys';
import { FakeKubeApiServer } from '../fakes/kube-apiserver';
import { csiClient, type CsiClient } from '../helpers/csi';
import { node as nodeObject } from '../integration/kube/helpers';
import { freeTcpPort } from '../vm/accel';
import { projectRoot, which } from '../vm/host-tools';
import { launchNvmetSim, suiteImage, until, vmSuiteSkipReason } from '../vm/suite-util';
import { GUEST_PORTS, startTopology, TWO_NODES, type Topology } from '../vm/topology';
import type { Bed, BedOptions, ExecResult, NodeName, SimFaultSet } from './bed-types';
import * as guest from './bed-guest';

/** Where the VMs reach the host's stand-in API server. */
const API_IN_GUEST = { address: '10.0.2.100', port: 6443 };
const KUBELET_DIR = '/tmp/kubelet';
const MiB = 1024 * 1024;
/** TCG on two shared cores: a node process takes seconds to load, more under load. */
const READY_MS = 480_000;
const EXEC_MS = 120_000;

export interface BedLogs {
  /** Host path of the controller's stdout and stderr (appended across restarts). */
  controller: string;
  /** Guest paths: each VM's node plugin log, and rds-sim's in VM a. */
  node: string;
  sim: string;
}

/** Members the soak may use beyond bed-types.ts's Bed. */
export interface RunningBed extends Bed {
  logs(): BedLogs;
  /** The last `lines` lines of every log (controller, rds-sim, both node plugins). */
  logTails(lines?: number): Promise<string>;
}

/** Why the bed cannot run on this machine, or null. */
export function bedSkipReason(): string | null {
  return (
    vmSuiteSkipReason() ??
    (which('busybox') === null
      ? 'busybox is not installed (relays the API server to the VMs)'
      : null)
  );
}

/** The controller as a killable child process (the production entry point). */
class ControllerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly argv: string[],
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    if (this.child !== undefined) return;
    fs.appendFileSync(
      this.logFile,
      `---- bed: controller starting at ${new Date().toISOString()}\n`,
    );
    const fd = fs.openSync(this.logFile, 'a');
    // pdeathsig: the controller dies with this process even when it is killed itself.
    const setpriv = which('setpriv');
    const [cmd, args] =
      setpriv === null
        ? [process.execPath, this.argv]
        : [setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, ...this.argv]];
    try {
      const child = spawn(cmd, args, { env: this.env, stdio: ['ignore', fd, fd] });
      this.child = child;
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
      void this.exited.then(() => {
        if (this.child === child) this.child = undefined;
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}

export async function startBed(opts: BedOptions): Promise<RunningBed> {
  const log = opts.log;
  const closers: Array<() => Promise<void> | void> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          log(`bed: stop: ${(err as Error).message}`);
        }
      }
    })());
  try {
    return { ...(await build(opts, closers)), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function build(
  opts: BedOptions,
  closers: Array<() => Promise<void> | void>,
): Promise<Omit<RunningBed, 'stop'>> {
  const log = opts.log;
  const started = Date.now();
  const busybox = which('busybox');
  if (busybox === null) throw new Error(bedSkipReason() ?? 'busybox is not installed');
  const root = projectRoot();

  const api = new FakeKubeApiServer();
  await api.start();
  closers.push(() => api.stop());
  const guestKubeconfig = api
    .kubeconfig()
    .replace(api.url, `http://${API_IN_GUEST.address}:${API_IN_GUEST.port}`);
  for (const name of ['a', 'b']) api.put('nodes', nodeObject(name));

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-soak-bed-'));
  closers.push(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const image = await suiteImage(log);
  const topo: Topology = await startTopology(TWO_NODES, {
    image,
    hostServices: [
      {
        guestAddress: API_IN_GUEST.address,
        guestPort: API_IN_GUEST.port,
        hostPort: Number(new URL(api.url).port),
        relay: [busybox, 'nc'],
      },
    ],
  });
  closers.push(() => topo.stop());
  const vmOf = (n: NodeName) => topo.get(n).vm;
  const a = topo.get('a');
  const linkA = a.linkAddress ?? '';
  log(`bed: booted a in ${a.vm.bootMs} ms, b in ${topo.get('b').vm.bootMs} ms (${a.vm.accel})`);

  const exec = async (n: NodeName, script: string, timeoutMs = EXEC_MS): Promise<ExecResult> => {
    const r = await vmOf(n).exec(script, { timeoutMs });
    return { exitCode: r.exitCode, output: r.output };
  };
  /** exec that must succeed: the bed's own steps. */
  const run = async (n: NodeName, script: string, timeoutMs = EXEC_MS): Promise<string> => {
    const r = await exec(n, script, timeoutMs);
    if (r.exitCode !== 0) {
      throw new Error(`${n}: exit ${r.exitCode}: ${script.split('\n')[0]}\n${r.output}`);
    }
    return r.output;
  };

  const key = generateSshKeyPair('ed25519', 'soak-bed');
  const fingerprint = await launchNvmetSim(a.vm, linkA, key.public, GUEST_PORTS.rdsSsh);
  log(`bed: rds-sim up in VM a (${Date.now() - started} ms)`);

  // ---- node plugins ----
  const nodeArgv = (n: NodeName) => [
    'node',
    // As the chart's DaemonSet runs it.
    ...NODE_PLUGIN_NODE_FLAGS,
    path.join(root, 'dist/src/main.js'),
    'serve',
    '--mode=node',
    `--node-id=${n}`,
    `--endpoint=tcp://0.0.0.0:${GUEST_PORTS.csi}`,
    `--kubelet-dir=${KUBELET_DIR}`,
    '--metrics-address=',
    '--kubeconfig=/tmp/kubeconfig',
    '--log-level=debug',
    ...(opts.nodeArgs ?? []),
  ];
  const nodeClients = new Map<NodeName, CsiClient>();
  closers.push(() => {
    nodeClients.forEach((c) => c.close());
    nodeClients.clear();
  });
  const nodeClient = (n: NodeName): CsiClient => {
    let c = nodeClients.get(n);
    if (c === undefined) {
      c = csiClient(`127.0.0.1:${vmOf(n).hostPort(GUEST_PORTS.csi)}`);
      nodeClients.set(n, c);
    }
    return c;
  };
  const launchNodePlugin = (n: NodeName) =>
    run(n, guest.startNodePluginScript(nodeArgv(n), KUBELET_DIR, guestKubeconfig));
  const nodeAnswers = async (n: NodeName): Promise<void> => {
    nodeClients.get(n)?.close();
    nodeClients.delete(n);
    await until(
      `node plugin ${n} answers NodeGetInfo`,
      async () => {
        const info = await nodeClient(n).node<{ node_id: string }>('NodeGetInfo', {}, {});
        return info.node_id === n ? true : undefined;
      },
      READY_MS,
    );
  };

  // ---- the controller ----
  const keyFile = path.join(tmp, 'rds_key');
  fs.writeFileSync(keyFile, key.private, { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, 'kubeconfig'), api.kubeconfig());
  const endpoint = `127.0.0.1:${await freeTcpPort()}`;
  const metricsAddress = `127.0.0.1:${await freeTcpPort()}`;
  const ctl = new ControllerProcess(
    [
      path.join(root, 'dist/src/main.js'),
      'serve',
      '--mode=controller',
      `--endpoint=tcp://${endpoint}`,
      `--rds-address=127.0.0.1:${a.vm.hostPort(GUEST_PORTS.rdsSsh)}`,
      `--rds-key-file=${keyFile}`,
      `--rds-host-key-fingerprint=${fingerprint}`,
      `--rds-nvme-address=${linkA}`,
      `--metrics-address=${metricsAddress}`,
      `--kubeconfig=${path.join(tmp, 'kubeconfig')}`,
      `--min-volume-size=${64 * MiB}`,
      '--log-level=debug',
      ...(opts.controllerArgs ?? []),
    ],
    { ...process.env, POD_NAME: 'soak-controller' },
    path.join(tmp, 'controller.log'),
  );
  closers.push(() => ctl.kill());
  let controllerClient: CsiClient | undefined;
  closers.push(() => {
    controllerClient?.close();
    controllerClient = undefined;
  });
  const controller = (): CsiClient => (controllerClient ??= csiClient(endpoint));
  const startController = async (): Promise<void> => {
    controllerClient?.close();
    controllerClient = undefined;
    ctl.start();
    const state = await until(
      'controller Probe ready',
      async () => {
        if (!ctl.running) return 'exited';
        const r = await controller().identity<{ ready?: { value: boolean } }>('Probe');
        return r.ready?.value === true ? 'ready' : undefined;
      },
      READY_MS,
    );
    if (state === 'exited') {
      const tail = fs.readFileSync(ctl.logFile, 'utf8').split('\n').slice(-30).join('\n');
      throw new Error(`the controller exited while starting:\n${tail}`);
    }
  };

  await Promise.all([launchNodePlugin('a'), launchNodePlugin('b')]);
  await startController();
  log(`bed: controller ready (${Date.now() - started} ms)`);
  await Promise.all((['a', 'b'] as const).map(nodeAnswers));
  for (const n of ['a', 'b'] as const) {
    const want = topo.get(n).hostNqn;
    await until(
      `node ${n}'s host NQN annotation`,
      () =>
        api.get('nodes', n)?.metadata.annotations?.[HOST_NQN_ANNOTATION] === want
          ? true
          : undefined,
      READY_MS,
    );
  }
  log(`bed: ready (${Date.now() - started} ms)`);

  // ---- target outage ----
  const down = new Map<string, guest.DownPort>();

  let simGeneration = 0;
  const simFaults = async (set: SimFaultSet): Promise<void> => {
    // The generation makes every call a new file: rds-sim restarts rule counts (nth, times)
    // only when the file's content changes.
    simGeneration += 1;
    const rules = (set.rules ?? []).map((r) =>
      r.match instanceof RegExp ? { ...r, match: r.match.source } : r,
    );
    const body = { generation: simGeneration, rules, refuseLogins: set.refuseLogins === true };
    await run('a', guest.simFaultsScript(JSON.stringify(body)));
  };

  const logs = (): BedLogs => ({
    controller: ctl.logFile,
    node: guest.NODE_LOG,
    sim: guest.SIM_LOG,
  });

  const bed: Omit<RunningBed, 'stop'> = {
    api,
    kubeletDir: KUBELET_DIR,
    hostNqn: (n) => topo.get(n).hostNqn ?? '',
    controller,
    node: nodeClient,
    async metrics() {
      const res = await fetch(`http://${metricsAddress}/metrics`, {
        signal: AbortSignal.timeout(30_000),
      });
      if (!res.ok) throw new Error(`/metrics: HTTP ${res.status}`);
      return res.text();
    },
    exec,
    simFaults,
    killController: () => ctl.kill(),
    startController,
    async killNodePlugin(n) {
      await run(n, guest.KILL_NODE_PLUGIN_SCRIPT);
    },
    async startNodePlugin(n) {
      await launchNodePlugin(n);
      await nodeAnswers(n);
    },
    async targetDown() {
      guest.parseTargetDown(await run('a', guest.TARGET_DOWN_SCRIPT), down);
    },
    async targetUp() {
      if (down.size === 0) return;
      const out = await run('a', guest.targetUpScript(down));
      down.clear();
      log(`bed: target up: ${out.trim()}`);
    },
    async removeNode(n) {
      api.remove('nodes', n);
    },
    async restoreNode(n) {
      // kubelet registers a Node that is not there; it knows nothing of the plugin's annotation.
      if (api.get('nodes', n) === undefined) api.put('nodes', nodeObject(n));
    },
    async apiDown() {
      api.setDown(true);
    },
    async apiUp() {
      api.setDown(false);
    },
    async controllers(n) {
      return guest.parseControllers(await run(n, guest.CONTROLLERS_SCRIPT));
    },
    async mounts(n) {
      return guest.parseMounts(await run(n, 'cat /proc/mounts'), KUBELET_DIR);
    },
    async allowList(nqn) {
      return guest.parseAllowList(await run('a', guest.allowListScript(nqn)));
    },
    async subsystems() {
      return guest.words(await run('a', guest.SUBSYSTEMS_SCRIPT)).sort();
    },
    async simInventory() {
      return guest.parseInventory(await run('a', guest.INVENTORY_SCRIPT));
    },
    async strayProcesses(n) {
      return guest.parseStray(await run(n, guest.PROCESSES_SCRIPT));
    },
    logs,
    async logTails(lines = 60) {
      const parts: string[] = [];
      const tail = (file: string) => `tail -n ${lines} ${file} 2>&1`;
      const guestTail = async (n: NodeName, file: string) => {
        const out = await exec(n, tail(file), 30_000).catch((e: unknown) => ({
          output: String(e),
        }));
        parts.push(`---- ${n}:${file}\n${out.output}`);
      };
      await guestTail('a', guest.SIM_LOG);
      await guestTail('a', guest.NODE_LOG);
      await guestTail('b', guest.NODE_LOG);
      const ctlLog = fs.existsSync(ctl.logFile) ? fs.readFileSync(ctl.logFile, 'utf8') : '';
      parts.push(`---- controller ${ctl.logFile}\n${ctlLog.split('\n').slice(-lines).join('\n')}`);
      return parts.join('\n');
    },
  };
  return bed;
}
