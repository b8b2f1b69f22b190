/**
 * A stand-in Kubernetes API server on loopback HTTP, speaking the REST shapes the driver
 * uses (Nodes, PVs, PVCs, core/v1 Events, VolumeAttachments, Leases) so the real
 * @kubernetes/client-node can talk to it: list, get, create, replace, patch (JSON merge;
 * strategic merge treated as merge), delete, watch with resourceVersion (JSON lines over a
 * chunked response), an ERROR event with 410 Gone for a compacted resourceVersion, and
 * Status errors 404/409/422. As strict as a real API server where the driver depends on it
 * (kube-apiserver-rules.ts): unknown fields, immutable fields, Lease MicroTimes, field
 * selectors on events. Every watch client gets every event of its resource. Tests drive it
 * directly too (put/remove/compact/dropWatches) and can inject failures or a whole outage
 * (setDown); the User-Agent of every request is kept.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  RESOURCES,
  apiVersionOf,
  clone,
  mergePatch,
  type Meta,
  type Obj,
  type Plural,
  type ResourceDef,
} from './kube-apiserver-shapes';
import { ApiRejection, checkFields, checkImmutable, fieldSelector } from './kube-apiserver-rules';

export type { Obj, Meta, Plural } from './kube-apiserver-shapes';

interface HistoryEntry {
  readonly rv: number;
  readonly plural: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Obj;
}

interface Watcher {
  readonly plural: string;
  readonly namespace?: string;
  readonly res: http.ServerResponse;
  /** The watch's field selector: only matching objects are sent. */
  readonly selects: (o: Obj) => boolean;
}

interface Fault {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
  remaining: number;
}

export class FakeKubeApiServer {
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly store = new Map<string, Map<string, Obj>>();
  private readonly history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private rv = 100;
  private down = false;
  /** Oldest resourceVersion a watch may resume from; older ones get 410 Gone. */
  private compactedRv = 0;
  /** Requests seen, `METHOD path?query`, for assertions. */
  readonly requests: string[] = [];
  /** The User-Agent of each request, in the order of `requests`. */
  readonly userAgents: string[] = [];
  url = '';

  constructor(private readonly now: () => number = Date.now) {
    for (const p of Object.keys(RESOURCES)) this.store.set(p, new Map());
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig (YAML-compatible JSON) pointing at this server. */
  kubeconfig(): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain HTTP unless TLS verification is explicitly skipped.
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token: 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    });
  }

  // ---- direct access for tests ----

  /** Create or replace an object as if a controller wrote it (emits a watch event). */
  put(plural: Plural, obj: Obj): Obj {
    const key = this.key(obj.metadata.namespace, obj.metadata.name);
    const existing = this.bucket(plural).get(key);
    return this.write(
      plural,
      key,
      clone(obj),
      existing === undefined ? 'ADDED' : 'MODIFIED',
      existing,
    );
  }

  get(plural: Plural, name: string, namespace?: string): Obj | undefined {
    const o = this.bucket(plural).get(this.key(namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  list(plural: Plural, namespace?: string): Obj[] {
    return [...this.bucket(plural).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map(clone);
  }

  remove(plural: Plural, name: string, namespace?: string): boolean {
    const key = this.key(namespace, name);
    const existing = this.bucket(plural).get(key);
    if (existing === undefined) return false;
    this.bucket(plural).delete(key);
    const rv = ++this.rv;
    const object = {
      ...clone(existing),
      metadata: { ...existing.metadata, resourceVersion: String(rv) },
    };
    this.record({ rv, plural, type: 'DELETED', object });
    return true;
  }

  /** Forget watch history: every resourceVersion up to now becomes too old (410 Gone). */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  /** Cut every open watch stream (the client sees its watch end). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /**
   * An outage: while down, every request is answered 503 and every open watch is cut at once
   * (clients must list again after it ends). Direct access (put/get/remove) keeps working.
   */
  setDown(down: boolean): void {
    this.down = down;
    if (down) this.dropWatches();
  }

  get isDown(): boolean {
    return this.down;
  }

  /** The next `times` requests matching method+path get `status`. */
  fail(method: string, path: RegExp, status: number, times = 1): void {
    this.faults.push({ method, path, status, remaining: times });
  }

  // ---- HTTP ----

  private key(namespace: string | undefined, name: string): string {
    return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
  }

  private bucket(plural: string): Map<string, Obj> {
    const b = this.store.get(plural);
    if (b === undefined) throw new Error(`unknown resource ${plural}`);
    return b;
  }

  private record(e: HistoryEntry): void {
    this.history.push(e);
    for (const w of this.watchers) {
      if (w.plural !== e.plural) continue;
      if (w.namespace !== undefined && e.object.metadata.namespace !== w.namespace) continue;
      if (!w.selects(e.object)) continue;
      w.res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    }
  }

  private write(
    plural: string,
    key: string,
    obj: Obj,
    type: 'ADDED' | 'MODIFIED',
    existing: Obj | undefined,
  ): Obj {
    const def = RESOURCES[plural] as ResourceDef;
    const rv = ++this.rv;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = {
      ...obj.metadata,
      uid: existing?.metadata.uid ?? obj.metadata.uid ?? randomUUID(),
      creationTimestamp:
        existing?.metadata.creationTimestamp ??
        obj.metadata.creationTimestamp ??
        new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      resourceVersion: String(rv),
    };
    this.bucket(plural).set(key, obj);
    this.record({ rv, plural, type, object: clone(obj) });
    return clone(obj);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      this.requests.push(`${method} ${url.pathname}${url.search}`);
      this.userAgents.push(req.headers['user-agent'] ?? '');
      if (this.down) {
        this.status(res, 503, 'ServiceUnavailable', 'the API server is unavailable');
        return;
      }
      const fault = this.faults.find(
        (f) => f.method === method && f.path.test(url.pathname) && f.remaining > 0,
      );
      if (fault !== undefined) {
        fault.remaining--;
        this.status(res, fault.status, 'InternalError', 'injected failure');
        return;
      }
      try {
        this.route(method, url, Buffer.concat(chunks).toString('utf8'), req, res);
      } catch (err) {
        if (err instanceof ApiRejection) return this.status(res, err.code, err.reason, err.message);
        this.status(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
      }
    });
  }

  private route(
    method: string,
    url: URL,
    body: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    const m =
      /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(
        url.pathname,
      ) ??
      /^\/apis\/[^/]+\/[^/]+\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(
        url.pathname,
      );
    const plural = m?.[2];
    const def = plural === undefined ? undefined : RESOURCES[plural];
    if (m === null || plural === undefined || def === undefined) {
      this.status(
        res,
        404,
        'NotFound',
        `the server could not find the requested resource (${url.pathname})`,
      );
      return;
    }
    const namespace = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const name = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
    if (method === 'GET' && name === undefined) {
      if (url.searchParams.get('watch') === 'true') this.watch(plural, namespace, url, req, res);
      else
        this.sendList(
          plural,
          def,
          namespace,
          fieldSelector(plural, url.searchParams.get('fieldSelector')),
          res,
        );
      return;
    }
    if (method === 'POST' && name === undefined) return this.create(plural, namespace, body, res);
    if (name === undefined) return this.status(res, 405, 'MethodNotAllowed', 'method not allowed');
    const key = this.key(namespace, name);
    const existing = this.bucket(plural).get(key);
    if (existing === undefined) {
      this.status(res, 404, 'NotFound', `${plural} "${name}" not found`);
      return;
    }
    if (method === 'GET') return this.json(res, 200, existing);
    if (method === 'DELETE') {
      this.remove(plural as Plural, name, namespace);
      return this.json(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Success',
        code: 200,
      });
    }
    if (method === 'PUT') {
      const obj = JSON.parse(body) as Obj;
      const want = obj.metadata?.resourceVersion;
      if (want !== undefined && want !== '' && want !== existing.metadata.resourceVersion) {
        this.status(
          res,
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified`,
        );
        return;
      }
      checkFields(plural, obj);
      checkImmutable(plural, existing, obj);
      return this.json(res, 200, this.write(plural, key, obj, 'MODIFIED', existing));
    }
    if (method === 'PATCH') {
      const merged = mergePatch(clone(existing), JSON.parse(body)) as Obj;
      checkFields(plural, merged);
      checkImmutable(plural, existing, merged);
      merged.metadata = {
        ...merged.metadata,
        name,
        ...(namespace === undefined ? {} : { namespace }),
      };
      return this.json(res, 200, this.write(plural, key, merged, 'MODIFIED', existing));
    }
    this.status(res, 405, 'MethodNotAllowed', 'method not allowed');
  }

  private create(
    plural: string,
    namespace: string | undefined,
    body: string,
    res: http.ServerResponse,
  ): void {
    const obj = JSON.parse(body) as Obj;
    const meta = obj.metadata ?? ({} as Meta);
    if ((meta.name === undefined || meta.name === '') && meta.generateName !== undefined) {
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    }
    if (meta.name === undefined || meta.name === '') {
      this.status(res, 422, 'Invalid', 'metadata.name: Required value');
      return;
    }
    if (namespace !== undefined) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        this.status(
          res,
          400,
          'BadRequest',
          'the namespace of the object does not match the namespace on the request',
        );
        return;
      }
      meta.namespace = namespace;
    }
    obj.metadata = meta;
    checkFields(plural, obj);
    const key = this.key(namespace, meta.name);
    if (this.bucket(plural).has(key)) {
      this.status(res, 409, 'AlreadyExists', `${plural} "${meta.name}" already exists`);
      return;
    }
    delete meta.resourceVersion;
    this.json(res, 201, this.write(plural, key, obj, 'ADDED', undefined));
  }

  private sendList(
    plural: string,
    def: ResourceDef,
    namespace: string | undefined,
    select: (o: Obj) => boolean,
    res: http.ServerResponse,
  ): void {
    this.json(res, 200, {
      apiVersion: apiVersionOf(def),
      kind: `${def.kind}List`,
      metadata: { resourceVersion: String(this.rv) },
      items: this.list(plural as Plural, namespace).filter(select),
    });
  }

  private watch(
    plural: string,
    namespace: string | undefined,
    url: URL,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    // An unsupported selector is refused (400) before the stream starts, like the real one.
    const selects = fieldSelector(plural, url.searchParams.get('fieldSelector'));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // A real API server answers a watch at once; clients wait for these headers.
    res.flushHeaders();
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    const line = (type: string, object: unknown): boolean =>
      res.write(JSON.stringify({ type, object }) + '\n');
    if (from !== 0 && from < this.compactedRv) {
      line('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${this.compactedRv})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    if (from === 0) {
      for (const o of this.list(plural as Plural, namespace)) if (selects(o)) line('ADDED', o);
    } else {
      for (const e of this.history) {
        if (e.rv <= from || e.plural !== plural) continue;
        if (namespace !== undefined && e.object.metadata.namespace !== namespace) continue;
        if (selects(e.object)) line(e.type, e.object);
      }
    }
    const w: Watcher = {
      plural,
      res,
      selects,
      ...(namespace === undefined ? {} : { namespace }),
    };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }

  private json(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    this.json(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    });
  }
}
