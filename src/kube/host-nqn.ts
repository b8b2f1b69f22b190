/**
 * Keeps the node plugin's host NQN on its own Node object. The annotation is what lets the
 * controller put this node on a fenced volume's allow-list, and a Node object can be
 * replaced under a running plugin: `kubectl delete node` (or a cloud controller) removes
 * it and kubelet registers a new one seconds later, without our annotation and with a new
 * uid. So the plugin watches its own Node (a field-selected watch: one object) and writes
 * the annotation whenever the Node it sees lacks it, retrying with backoff until it lands.
 */
import type * as k8s from '@kubernetes/client-node';
import { backoffDelay } from '../domain/backoff';
import type { Logger } from '../observability/logger';
import { HOST_NQN_ANNOTATION } from './ports';
import { SupervisedInformer, type ListWatch } from './informer';

export interface HostNqnKeeperDeps {
  readonly node: string;
  readonly hostnqn: string;
  readonly listWatch: ListWatch<k8s.V1Node>;
  readonly annotate: (node: string, hostnqn: string) => Promise<void>;
  readonly logger: Logger;
  /** Called with the Node's uid whenever it changes (a re-registered Node has a new one). */
  readonly onUid?: (uid: string) => void;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

interface OwnNode {
  readonly name: string;
  readonly uid: string;
  readonly hostNqn: string | undefined;
}

export class HostNqnKeeper {
  private readonly informer: SupervisedInformer<k8s.V1Node, OwnNode>;
  private writing = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastUid: string | undefined;
  /** Annotations written (diagnostics and tests). */
  writes = 0;

  constructor(private readonly d: HostNqnKeeperDeps) {
    const seen = (n: OwnNode): void => this.seen(n);
    this.informer = new SupervisedInformer<k8s.V1Node, OwnNode>({
      name: 'own node',
      listWatch: d.listWatch,
      logger: d.logger,
      key: (n) => n.name,
      convert: (raw) => ({
        name: raw.metadata?.name ?? '',
        uid: raw.metadata?.uid ?? '',
        hostNqn: raw.metadata?.annotations?.[HOST_NQN_ANNOTATION]?.trim(),
      }),
      onAdd: seen,
      onUpdate: (_old, n) => seen(n),
      onRelist: (all) => all.forEach(seen),
    });
  }

  start(): void {
    this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.informer.stop();
  }

  private seen(n: OwnNode): void {
    if (n.name !== this.d.node) return;
    if (n.uid !== '' && n.uid !== this.lastUid) {
      if (this.lastUid !== undefined) {
        this.d.logger.warn('the Node object was replaced (new uid)', { node: n.name, uid: n.uid });
      }
      this.lastUid = n.uid;
      this.d.onUid?.(n.uid);
    }
    if (n.hostNqn !== this.d.hostnqn) void this.write(0);
  }

  private async write(attempt: number): Promise<void> {
    // A scheduled retry will write; a write in flight is followed by one more look.
    if (this.stopped || (attempt === 0 && this.timer !== undefined)) return;
    if (this.writing) {
      this.again = true;
      return;
    }
    this.writing = true;
    try {
      await this.d.annotate(this.d.node, this.d.hostnqn);
      this.writes++;
      this.d.logger.info('host NQN published on the Node', {
        node: this.d.node,
        hostnqn: this.d.hostnqn,
      });
    } catch (err) {
      const delayMs = backoffDelay(
        attempt,
        this.d.backoffInitialMs ?? 5000,
        this.d.backoffMaxMs ?? 300_000,
        Math.random(),
      );
      this.d.logger.warn('could not annotate the Node with the host NQN; retrying', {
        error: (err as Error).message,
        retryMs: delayMs,
      });
      if (!this.stopped) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.write(attempt + 1);
        }, delayMs);
        this.timer.unref();
      }
    } finally {
      this.writing = false;
      if (this.again && !this.stopped) {
        this.again = false;
        const current = this.informer.get(this.d.node);
        if (current !== undefined && current.hostNqn !== this.d.hostnqn) void this.write(0);
      }
    }
  }
}
