/**
 * The one wrapper every CSI RPC goes through: request/response logging with secrets
 * redacted, per-RPC latency metric, an AbortSignal that fires on client cancellation or
 * deadline, the per-volume lock (a concurrent call on the same volume gets ABORTED), and
 * error mapping through the single table in status.ts.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Histogram } from 'prom-client';
import { AbortedError, CancelledError, DeadlineExceededError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { KeyedLocks } from './locks';
import { statusName, toStatus } from './status';

export interface CallContext {
  readonly method: string;
  /** Aborted when the client cancels or the call's deadline passes; pass it down. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export type Handler<Req, Res> = (req: Req, ctx: CallContext) => Promise<Res>;

export interface RpcOptions<Req> {
  /** The lock key (usually the volume id); no lock when absent or empty. */
  readonly lockKey?: (req: Req) => string | undefined;
  /** Fields identifying the call in logs (volume id, node id...). */
  readonly logFields?: (req: Req) => Readonly<Record<string, unknown>>;
  /** Frequent, side-effect-free calls (Probe, capabilities) log at debug. */
  readonly quiet?: boolean;
}

export interface HandlerDeps {
  readonly logger: Logger;
  readonly locks: KeyedLocks;
  readonly rpcDuration?: Pick<Histogram<'method' | 'code'>, 'observe'>;
  readonly now?: () => number;
}

export class RpcWrapper {
  private readonly now: () => number;

  constructor(private readonly deps: HandlerDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  unary<Req, Res>(
    method: string,
    handler: Handler<Req, Res>,
    options: RpcOptions<Req> = {},
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      void this.run(method, handler, options, call).then(
        (res) => callback(null, res),
        (err: { code: grpc.status; details: string }) =>
          callback({ ...err, name: 'RpcError', message: err.details }),
      );
    };
  }

  private async run<Req, Res>(
    method: string,
    handler: Handler<Req, Res>,
    options: RpcOptions<Req>,
    call: grpc.ServerUnaryCall<Req, Res>,
  ): Promise<Res> {
    const started = this.now();
    const req = call.request;
    const fields = options.logFields?.(req) ?? {};
    const log = this.deps.logger.child({ rpc: method, ...fields });
    const quietLevel = options.quiet ? 'debug' : 'info';
    log.debug('request', { request: req });

    const { signal, dispose } = callSignal(call);
    let release: (() => void) | undefined;
    let code: grpc.status = 0;
    try {
      const key = options.lockKey?.(req);
      if (key) {
        release = this.deps.locks.tryAcquire(key);
        if (!release) {
          throw new AbortedError(`an operation on ${key} is already in progress; retry later`);
        }
      }
      signal.throwIfAborted();
      const res = await handler(req, { method, signal, log });
      const durationMs = round(this.now() - started);
      log[quietLevel]('ok', { durationMs });
      log.debug('response', { response: res });
      return res;
    } catch (err) {
      const mapped = toStatus(err);
      code = mapped.code;
      const durationMs = round(this.now() - started);
      if (mapped.unexpected) log.error('failed', { code: statusName(code), durationMs, err });
      else log.warn('failed', { code: statusName(code), durationMs, error: mapped.details });
      throw new RpcFailure(mapped.code, mapped.details);
    } finally {
      release?.();
      dispose();
      this.deps.rpcDuration?.observe(
        { method, code: statusName(code) },
        (this.now() - started) / 1000,
      );
    }
  }
}

/** The error handed to grpc-js: a status code and the client-facing text. */
class RpcFailure extends Error implements Partial<grpc.StatusObject> {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
    this.name = 'RpcFailure';
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** An AbortSignal tied to the call's cancellation and deadline. */
function callSignal(call: grpc.ServerUnaryCall<unknown, unknown>): {
  signal: AbortSignal;
  dispose: () => void;
} {
  const controller = new AbortController();
  const onCancel = (): void =>
    controller.abort(new CancelledError('the client cancelled the call'));
  call.on('cancelled', onCancel);
  let timer: NodeJS.Timeout | undefined;
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (Number.isFinite(at)) {
    const abortDeadline = (): void =>
      controller.abort(new DeadlineExceededError('the call deadline passed'));
    const ms = at - Date.now();
    if (ms <= 0) abortDeadline();
    else timer = setTimeout(abortDeadline, Math.min(ms, 2 ** 31 - 1));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    },
  };
}
