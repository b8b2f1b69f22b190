/**
 * The wiring between the chart's objects that Kubernetes itself never checks until a pod
 * misbehaves: sockets the sidecars and kubelet expect, the driver's own flags, probes,
 * labels and selectors, RBAC coverage. Each check returns problems (empty = fine) so the
 * tests can also prove that a broken object is caught.
 */
import { posix } from 'node:path';
import { loadConfig, SERVE_FLAGS } from '../../../src/config';
import type { K8sObject } from './k8s';
import { isRecord } from './k8s';

export interface Expect {
  readonly driverName: string;
  readonly kubeletDir: string;
  readonly namespace: string;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Mount {
  name: string;
  mountPath: string;
  mountPropagation?: string;
  readOnly?: boolean;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: Mount[];
  livenessProbe?: Probe;
  securityContext?: { privileged?: boolean; runAsUser?: number };
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: object;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  serviceAccountName?: string;
  hostNetwork?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

export function find(objs: readonly K8sObject[], kind: string, pred?: (o: K8sObject) => boolean) {
  return objs.filter((o) => o.kind === kind && (!pred || pred(o)));
}

export function workload(objs: readonly K8sObject[], kind: 'Deployment' | 'DaemonSet'): Workload {
  const all = find(objs, kind);
  if (all.length !== 1) throw new Error(`expected one ${kind}, found ${all.length}`);
  return all[0] as Workload;
}

export function container(pod: PodSpec, name: string): Container | undefined {
  return pod.containers.find((c) => c.name === name);
}

/** A container's args with `$(VAR)` replaced by its env values (as kubelet does). */
export function expandedArgs(c: Container): string[] {
  const env = new Map(
    (c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
  );
  return (c.args ?? []).map((a) => a.replace(/\$\((\w+)\)/g, (w, n: string) => env.get(n) ?? w));
}

/** Value of `--name=value` (or `--name value`) in args; undefined when absent. */
export function flag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}`) return args[i + 1]?.startsWith('--') === false ? args[i + 1] : '';
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** The mount (and its volume) that contains `file` inside container `c`. */
function mountOf(pod: PodSpec, c: Container, file: string) {
  const mounts = (c.volumeMounts ?? [])
    .filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const m = mounts[0];
  return m && { mount: m, volume: pod.volumes?.find((v) => v.name === m.name) };
}

const KNOWN_FLAGS = new Set(SERVE_FLAGS.map((f) => f.name));
const KNOWN_ENV = new Set(SERVE_FLAGS.map((f) => f.env));

/**
 * The driver container's command line must be one the driver accepts: `serve`, known flags
 * only, and loadConfig (the driver's own parser) must accept it with the env the pod gives.
 */
export function checkDriverArgs(c: Container, sampleEnv: Record<string, string>): string[] {
  const problems: string[] = [];
  const args = c.args ?? [];
  if (args[0] !== 'serve') problems.push(`${c.name}: first argument must be serve`);
  for (const a of args.slice(1)) {
    const m = /^--([a-z0-9-]+)/.exec(a);
    if (!m) problems.push(`${c.name}: stray argument ${a}`);
    else if (!KNOWN_FLAGS.has(m[1]!)) problems.push(`${c.name}: unknown driver flag --${m[1]}`);
  }
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.name.startsWith('RDS_CSI_') || e.name === 'CSI_ENDPOINT') {
      if (!KNOWN_ENV.has(e.name)) problems.push(`${c.name}: unknown driver env ${e.name}`);
    }
    const v = e.value ?? sampleEnv[e.name];
    if (v !== undefined) env[e.name] = v;
  }
  // The kubelet gives every container the API server's address (in-cluster config).
  const apiHost = sampleEnv.KUBERNETES_SERVICE_HOST;
  if (apiHost !== undefined) env.KUBERNETES_SERVICE_HOST = apiHost;
  const argv = args.slice(1).map((a) => a.replace(/\$\((\w+)\)/g, (w, n: string) => env[n] ?? w));
  try {
    loadConfig(argv, env);
  } catch (err) {
    problems.push(`${c.name}: the driver rejects its arguments: ${(err as Error).message}`);
  }
  return problems;
}

/** The CSI socket: the driver listens where every sidecar connects, on a shared volume. */
export function checkSocketWiring(
  pod: PodSpec,
  driver: string,
  sidecars: readonly string[],
): string[] {
  const problems: string[] = [];
  const d = container(pod, driver);
  if (!d) return [`no ${driver} container`];
  const endpoint = flag(d.args ?? [], 'endpoint') ?? '';
  if (!endpoint.startsWith('unix:///'))
    return [`${driver}: --endpoint ${endpoint} is not unix:///`];
  const socket = endpoint.slice('unix://'.length);
  const dm = mountOf(pod, d, socket);
  if (!dm?.volume) problems.push(`${driver}: socket ${socket} is not on a volume`);
  for (const name of sidecars) {
    const s = container(pod, name);
    if (!s) {
      problems.push(`no ${name} container`);
      continue;
    }
    const address = flag(expandedArgs(s), 'csi-address');
    if (address !== socket)
      problems.push(`${name}: --csi-address ${address} != driver socket ${socket}`);
    const sm = address === undefined ? undefined : mountOf(pod, s, address);
    if (!sm || sm.volume?.name !== dm?.volume?.name) {
      problems.push(`${name}: socket not on the driver's volume ${dm?.volume?.name}`);
    } else if (
      posix.relative(sm.mount.mountPath, address!) !== posix.relative(dm!.mount.mountPath, socket)
    ) {
      problems.push(`${name}: socket at a different place inside the shared volume`);
    }
  }
  return problems;
}

/** livenessProbe of `name` must hit a port some container of the pod declares. */
export function checkLivenessProbe(pod: PodSpec, name: string): string[] {
  const c = container(pod, name);
  const probe = c?.livenessProbe?.httpGet;
  if (!probe) return [`${name}: no httpGet livenessProbe`];
  const ports = pod.containers.flatMap((x) => (x.ports ?? []).map((p) => ({ c: x, p })));
  const hit = ports.find((x) => x.p.name === probe.port || x.p.containerPort === probe.port);
  if (!hit) return [`${name}: livenessProbe port ${probe.port} is declared by no container`];
  if (hit.c.name === 'liveness-probe') {
    const port = flag(hit.c.args ?? [], 'health-port') ?? flag(hit.c.args ?? [], 'http-endpoint');
    if (port?.replace(/^.*:/, '') !== String(hit.p.containerPort)) {
      return [`liveness-probe listens on ${port}, declares ${hit.p.containerPort}`];
    }
  }
  if (probe.path !== '/healthz') return [`${name}: livenessProbe path ${probe.path}`];
  return [];
}

/** What kubelet expects of the node plugin: registration, plugin dir, mounts, privileges. */
export function checkNodePlugin(pod: PodSpec, want: Expect): string[] {
  const problems: string[] = [];
  const pluginDir = `${want.kubeletDir}/plugins/${want.driverName}`;
  const reg = container(pod, 'node-driver-registrar');
  const d = container(pod, 'rds-csi');
  if (!reg || !d) return ['node plugin needs rds-csi and node-driver-registrar containers'];
  const regPath = flag(expandedArgs(reg), 'kubelet-registration-path');
  if (regPath !== `${pluginDir}/csi.sock`) {
    problems.push(`registrar: --kubelet-registration-path ${regPath} != ${pluginDir}/csi.sock`);
  }
  const socket = (flag(d.args ?? [], 'endpoint') ?? '').replace('unix://', '');
  const sock = mountOf(pod, d, socket);
  if (sock?.volume?.hostPath?.path !== pluginDir) {
    problems.push(
      `driver socket volume is ${sock?.volume?.hostPath?.path}, kubelet looks in ${pluginDir}`,
    );
  } else if (posix.relative(sock.mount.mountPath, socket) !== 'csi.sock') {
    problems.push(`driver socket is not csi.sock at the top of the plugin dir`);
  }
  const regDir = mountOf(pod, reg, '/registration/x');
  if (regDir?.volume?.hostPath?.path !== `${want.kubeletDir}/plugins_registry`) {
    problems.push(`registrar: /registration is not ${want.kubeletDir}/plugins_registry`);
  }
  if (flag(d.args ?? [], 'kubelet-dir') !== want.kubeletDir) problems.push('driver --kubelet-dir');
  for (const sub of ['pods', 'plugins']) {
    const path = `${want.kubeletDir}/${sub}`;
    const m = (d.volumeMounts ?? []).find((x) => x.mountPath === path);
    const v = pod.volumes?.find((x) => x.name === m?.name);
    if (!m || v?.hostPath?.path !== path)
      problems.push(`driver: ${path} not mounted from the host`);
    else if (m.mountPropagation !== 'Bidirectional')
      problems.push(`driver: ${path} not Bidirectional`);
  }
  for (const path of ['/dev', '/sys', '/lib/modules']) {
    const m = (d.volumeMounts ?? []).find((x) => x.mountPath === path);
    const v = pod.volumes?.find((x) => x.name === m?.name);
    if (v?.hostPath?.path !== path) problems.push(`driver: host ${path} not mounted`);
  }
  if (d.securityContext?.privileged !== true) problems.push('driver: not privileged');
  for (const c of pod.containers) {
    const bidi = (c.volumeMounts ?? []).some((m) => m.mountPropagation === 'Bidirectional');
    if (bidi && c.securityContext?.privileged !== true) {
      problems.push(`${c.name}: Bidirectional propagation needs a privileged container`);
    }
  }
  const nodeId = flag(d.args ?? [], 'node-id');
  const ref = nodeId?.match(/^\$\((\w+)\)$/)?.[1];
  const env = d.env?.find((e) => e.name === ref);
  if (env?.valueFrom?.fieldRef?.fieldPath !== 'spec.nodeName') {
    problems.push(`driver: --node-id ${nodeId} is not the downward API spec.nodeName`);
  }
  return problems;
}

/** A selector must select the pods of the workload it is paired with. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

/** The (group, resource, verb) triples a set of rules grants that `need` lists but lacks. */
export function missingGrants(rules: readonly Rule[], need: readonly string[]): string[] {
  return need.filter((triple) => {
    const [group, resource, verb] = triple.split(' ') as [string, string, string];
    return !rules.some(
      (r) =>
        (r.apiGroups ?? []).includes(group === 'core' ? '' : group) &&
        (r.resources ?? []).includes(resource) &&
        r.verbs.includes(verb),
    );
  });
}

export function wildcardGrants(rules: readonly Rule[]): string[] {
  return rules.flatMap((r) =>
    [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs].filter((x) => x === '*'),
  );
}

/** Every image is pinned to a version tag or digest. */
export function unpinnedImages(pod: PodSpec): string[] {
  return pod.containers
    .map((c) => c.image)
    .filter((img) => !/(:v?\d[\w.+-]*|@sha256:[0-9a-f]{64})$/.test(img) || /:latest$/.test(img));
}

export { isRecord };
