/**
 * In-memory AttachmentManager with the simple rules: a single-node volume is published to
 * at most one node; MULTI_NODE_MULTI_WRITER (block only) and MULTI_NODE_READER_ONLY allow
 * more. No grace periods, no migration windows, nothing survives a restart: for controller
 * tests and benchmarks only. The driver always runs the full rules of
 * src/controller/attachments/, with or without Kubernetes.
 */
import type {
  AttachmentManager,
  PublishRequest,
  UnpublishRequest,
} from '../../src/controller/attachments-port';
import { isMultiNode, type AccessMode } from '../../src/domain/capabilities';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  ResourceExhaustedError,
} from '../../src/domain/errors';

interface Attachment {
  readonly accessMode: AccessMode;
  readonly block: boolean;
  readonly readonly: boolean;
  readonly context: Readonly<Record<string, string>>;
}

export interface SimpleAttachmentsOptions {
  /** Nodes a multi-node volume may be published to at once (default 2: a migration pair). */
  readonly maxMultiNodes?: number;
}

export class SimpleAttachments implements AttachmentManager {
  private readonly volumes = new Map<string, Map<string, Attachment>>();
  private readonly maxMultiNodes: number;

  constructor(opts: SimpleAttachmentsOptions = {}) {
    this.maxMultiNodes = opts.maxMultiNodes ?? 2;
  }

  /** Rejects (never throws synchronously), like any I/O-backed implementation would. */
  publish(req: PublishRequest): Promise<Readonly<Record<string, string>>> {
    return new Promise((resolve) => resolve(this.publishNow(req)));
  }

  unpublish(req: UnpublishRequest): Promise<void> {
    return new Promise((resolve) => resolve(this.unpublishNow(req)));
  }

  private publishNow(req: PublishRequest): Readonly<Record<string, string>> {
    req.signal.throwIfAborted();
    const nodes = this.volumes.get(req.volumeId) ?? new Map<string, Attachment>();
    const existing = nodes.get(req.nodeId);
    if (existing !== undefined) {
      if (
        existing.accessMode !== req.accessMode ||
        existing.block !== req.block ||
        existing.readonly !== req.readonly
      ) {
        throw new AlreadyExistsError(
          `volume ${req.volumeId} is already published to node ${req.nodeId} with a different capability or readonly flag`,
          { volumeId: req.volumeId, nodeId: req.nodeId },
        );
      }
      return existing.context;
    }
    const others = [...nodes.keys()].sort();
    if (others.length > 0) {
      if (!isMultiNode(req.accessMode)) {
        throw new FailedPreconditionError(
          `volume ${req.volumeId} is published to node ${others.join(', ')}; ` +
            `${req.accessMode} allows one node at a time`,
          { volumeId: req.volumeId, nodeId: req.nodeId, currentNodes: others },
        );
      }
      if (others.length >= this.maxMultiNodes) {
        throw new ResourceExhaustedError(
          `volume ${req.volumeId} is already published to ${others.length} nodes (${others.join(', ')})`,
          { volumeId: req.volumeId, nodeId: req.nodeId },
        );
      }
    }
    const context: Record<string, string> = { readonly: String(req.readonly) };
    nodes.set(req.nodeId, {
      accessMode: req.accessMode,
      block: req.block,
      readonly: req.readonly,
      context,
    });
    this.volumes.set(req.volumeId, nodes);
    return context;
  }

  private unpublishNow(req: UnpublishRequest): void {
    req.signal.throwIfAborted();
    const nodes = this.volumes.get(req.volumeId);
    if (nodes === undefined) return;
    if (req.nodeId === undefined) nodes.clear();
    else nodes.delete(req.nodeId);
    if (nodes.size === 0) this.volumes.delete(req.volumeId);
  }

  /** Nothing to rebuild: always ready. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  publishedNodes(volumeId: string): readonly string[] {
    return [...(this.volumes.get(volumeId)?.keys() ?? [])].sort();
  }

  volumeDeleted(volumeId: string): void {
    this.volumes.delete(volumeId);
  }
}
