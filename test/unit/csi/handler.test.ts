import t from 'tap';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { RpcWrapper, type CallContext } from '../../../src/csi/handler';
import { KeyedLocks } from '../../../src/csi/locks';
import { STATUS_BY_CODE, toStatus } from '../../../src/csi/status';
import { createLogger } from '../../../src/observability/logger';
import {
  InternalError,
  NotFoundError,
  ResourceExhaustedError,
  type DomainErrorCode,
} from '../../../src/domain/errors';

type Req = { volume_id: string; secrets?: Record<string, string> };

function fakeCall(req: Req, deadline: Date | number = Infinity) {
  const call = new EventEmitter() as EventEmitter & { request: Req; getDeadline(): Date | number };
  call.request = req;
  call.getDeadline = () => deadline;
  return call as unknown as grpc.ServerUnaryCall<Req, unknown> & EventEmitter;
}

function setup() {
  const lines: Record<string, unknown>[] = [];
  const observed: { labels: Record<string, string>; value: number }[] = [];
  const logger = createLogger({
    level: 'trace',
    sink: { write: (l: string) => lines.push(JSON.parse(l)) },
  });
  const locks = new KeyedLocks();
  const rpc = new RpcWrapper({
    logger,
    locks,
    rpcDuration: {
      observe: (labels: Record<string, string>, value: number) => observed.push({ labels, value }),
    } as never,
  });
  return { rpc, lines, observed, locks };
}

function invoke<Res>(
  handler: grpc.handleUnaryCall<Req, Res>,
  call: grpc.ServerUnaryCall<Req, Res>,
) {
  return new Promise<{ err: grpc.ServerErrorResponse | null; res?: Res | null }>((resolve) => {
    handler(call, ((err: grpc.ServerErrorResponse | null, res?: Res | null) =>
      resolve({ err, res })) as grpc.sendUnaryData<Res>);
  });
}

t.test(
  'a successful call returns the response, logs, and records the metric with code OK',
  async (t) => {
    const { rpc, lines, observed } = setup();
    const h = rpc.unary<Req, { ok: boolean }>(
      'NodeStageVolume',
      () => Promise.resolve({ ok: true }),
      {
        logFields: (r) => ({ volumeId: r.volume_id }),
      },
    );
    const r = await invoke(h, fakeCall({ volume_id: 'pvc-1', secrets: { password: 'hunter2' } }));
    t.equal(r.err, null);
    t.same(r.res, { ok: true });
    t.equal(observed.length, 1);
    t.same(observed[0]!.labels, { method: 'NodeStageVolume', code: 'OK' });
    const done = lines.find((l) => l.msg === 'ok')!;
    t.equal(done.level, 'info');
    t.equal(done.rpc, 'NodeStageVolume');
    t.equal(done.volumeId, 'pvc-1');
    t.type(done.durationMs, 'number');
    t.notOk(JSON.stringify(lines).includes('hunter2'), 'secrets never logged');
  },
);

t.test(
  'domain errors map through the table; unknown errors become a generic INTERNAL',
  async (t) => {
    const { rpc, lines, observed } = setup();
    const nf = rpc.unary<Req, unknown>('DeleteSnapshot', () =>
      Promise.reject(new NotFoundError('snapshot x not found')),
    );
    const r1 = await invoke(nf, fakeCall({ volume_id: 'a' }));
    t.equal(r1.err!.code, status.NOT_FOUND);
    t.equal(r1.err!.details, 'snapshot x not found');
    t.same(observed[0]!.labels, { method: 'DeleteSnapshot', code: 'NOT_FOUND' });

    const boom = rpc.unary<Req, unknown>('CreateVolume', () =>
      Promise.reject(new Error('ssh: /disk add password=s3cret failed')),
    );
    const r2 = await invoke(boom, fakeCall({ volume_id: 'a' }));
    t.equal(r2.err!.code, status.INTERNAL);
    t.notMatch(r2.err!.details, /s3cret|disk add/, 'client never sees the raw message');
    const logged = lines.find((l) => l.level === 'error')!;
    t.match(JSON.stringify(logged), /Error: ssh/, 'the stack goes to the log');
  },
);

t.test('every domain code has exactly one status', async (t) => {
  const codes: DomainErrorCode[] = Object.keys(STATUS_BY_CODE) as DomainErrorCode[];
  t.equal(codes.length, 12);
  t.equal(toStatus(new ResourceExhaustedError('full')).code, status.RESOURCE_EXHAUSTED);
  t.equal(
    toStatus(new InternalError('bad reply from /disk print')).details,
    'bad reply from /disk print',
  );
  t.equal(toStatus('a string').code, status.INTERNAL);
});

t.test(
  'a second concurrent call on the same volume gets ABORTED; the lock is released after',
  async (t) => {
    const { rpc, locks } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = rpc.unary<Req, string>(
      'NodeStageVolume',
      async () => {
        await gate;
        return 'done';
      },
      { lockKey: (r) => r.volume_id },
    );
    const first = invoke(h, fakeCall({ volume_id: 'pvc-1' }));
    const second = await invoke(h, fakeCall({ volume_id: 'pvc-1' }));
    t.equal(second.err!.code, status.ABORTED);
    t.match(second.err!.details, /pvc-1.*in progress/);
    const other = invoke(h, fakeCall({ volume_id: 'pvc-2' }));
    release();
    t.equal((await first).res, 'done');
    t.equal((await other).res, 'done');
    t.equal(locks.size, 0, 'locks released');
    t.equal((await invoke(h, fakeCall({ volume_id: 'pvc-1' }))).res, 'done', 'free again');
  },
);

t.test('the lock is released when the handler fails', async (t) => {
  const { rpc, locks } = setup();
  const h = rpc.unary<Req, string>('X', () => Promise.reject(new Error('x')), {
    lockKey: (r) => r.volume_id,
  });
  await invoke(h, fakeCall({ volume_id: 'v' }));
  t.equal(locks.size, 0);
});

t.test('client cancellation and the deadline abort the signal given to the handler', async (t) => {
  const { rpc } = setup();
  let seen: CallContext | undefined;
  const h = rpc.unary<Req, string>('NodeStageVolume', (_req, ctx) => {
    seen = ctx;
    return new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
    );
  });
  const call = fakeCall({ volume_id: 'v' });
  const p = invoke(h, call);
  call.emit('cancelled');
  const r = await p;
  t.equal(r.err!.code, status.CANCELLED);
  t.ok(seen!.signal.aborted);

  const late = await invoke(h, fakeCall({ volume_id: 'v' }, Date.now() + 20));
  t.equal(late.err!.code, status.DEADLINE_EXCEEDED);
  const past = await invoke(h, fakeCall({ volume_id: 'v' }, new Date(Date.now() - 1000)));
  t.equal(past.err!.code, status.DEADLINE_EXCEEDED);
});

t.test('quiet RPCs log completion at debug only', async (t) => {
  const { rpc, lines } = setup();
  const h = rpc.unary<Req, string>('Probe', () => Promise.resolve('x'), { quiet: true });
  await invoke(h, fakeCall({ volume_id: '' }));
  t.equal(lines.find((l) => l.msg === 'ok')!.level, 'debug');
});
