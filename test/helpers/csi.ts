/**
 * A real grpc-js client for the CSI services, with promise-returning calls. Used by
 * integration and conformance tests to talk to the driver over its socket.
 */
import * as grpc from '@grpc/grpc-js';
import { loadCsi } from '../../src/csi/proto/load';

export type Call = <Res = Record<string, unknown>>(
  method: string,
  req?: Record<string, unknown>,
  opts?: { deadlineMs?: number },
) => Promise<Res>;

export interface CsiClient {
  identity: Call;
  controller: Call;
  node: Call;
  close(): void;
}

export function csiClient(address: string, options: grpc.ChannelOptions = {}): CsiClient {
  const { grpcType } = loadCsi();
  const creds = grpc.credentials.createInsecure();
  const v1 = grpcType.csi.v1;
  const clients = {
    identity: new v1.Identity(address, creds, options),
    controller: new v1.Controller(address, creds, options),
    node: new v1.Node(address, creds, options),
  };
  const wrap =
    (client: grpc.Client): Call =>
    (method, req = {}, opts = {}) =>
      new Promise((resolve, reject) => {
        const fn = (client as unknown as Record<string, grpc.requestCallback<unknown> | undefined>)[
          method
        ];
        if (typeof fn !== 'function') {
          reject(new Error(`no such method ${method}`));
          return;
        }
        const deadline = new Date(Date.now() + (opts.deadlineMs ?? 30_000));
        (fn as unknown as (...a: unknown[]) => void).call(
          client,
          req,
          new grpc.Metadata(),
          { deadline },
          (err: grpc.ServiceError | null, res: unknown) =>
            err ? reject(err) : resolve(res as never),
        );
      });
  return {
    identity: wrap(clients.identity),
    controller: wrap(clients.controller),
    node: wrap(clients.node),
    close: () => {
      for (const c of Object.values(clients)) c.close();
    },
  };
}

/** Resolves with the gRPC status code of a call that is expected to fail. */
export async function codeOf(p: Promise<unknown>): Promise<grpc.status | 'OK'> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
}

export { status } from '@grpc/grpc-js';
