/**
 * The CSI gRPC server. It owns the listening socket itself (so it can clear a stale unix
 * socket, set its mode and remove it on exit) and hands each connection to grpc-js through
 * a connection injector, after the :authority repair in authority.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { dirname } from 'node:path';
import { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger';
import { AuthorityRepair } from './authority';
import type { Endpoint } from './endpoint';
import { formatEndpoint } from './endpoint';

export interface CsiServerOptions {
  readonly endpoint: Endpoint;
  readonly logger: Logger;
  /** Mode of the unix socket; kubelet and the sidecars run as root or in the same group. */
  readonly socketMode?: number;
  /** How long in-flight calls may finish after stop() before they are cancelled. */
  readonly gracePeriodMs?: number;
}

export class CsiServer {
  private readonly grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  private readonly sockets = new Set<net.Socket>();
  private listener: net.Server | undefined;
  private injector: grpc.ConnectionInjector | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: CsiServerOptions) {}

  addService(service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
    this.grpcServer.addService(service, impl);
  }

  /** Starts listening; resolves with the bound address (tcp port 0 becomes the real port). */
  async start(): Promise<string> {
    const { endpoint, logger } = this.opts;
    if (endpoint.kind === 'unix') await clearStaleSocket(endpoint.path, logger);
    this.injector = this.grpcServer.createConnectionInjector(
      grpc.ServerCredentials.createInsecure(),
    );
    const injector = this.injector;
    const listener = net.createServer((socket) => this.accept(socket, injector));
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      const onListening = (): void => {
        listener.removeListener('error', reject);
        resolve();
      };
      if (endpoint.kind === 'unix') listener.listen(endpoint.path, onListening);
      else listener.listen(endpoint.port, endpoint.host, onListening);
    });
    listener.on('error', (err) => logger.error('CSI listener error', { err }));
    let address = formatEndpoint(endpoint);
    if (endpoint.kind === 'unix') {
      chmodSync(endpoint.path, this.opts.socketMode ?? 0o660);
    } else {
      const bound = listener.address() as net.AddressInfo;
      address = formatEndpoint({ kind: 'tcp', host: endpoint.host, port: bound.port });
    }
    logger.info('CSI server listening', { endpoint: address });
    return address;
  }

  private accept(socket: net.Socket, injector: grpc.ConnectionInjector): void {
    this.sockets.add(socket);
    const repair = new AuthorityRepair();
    const connection = Duplex.from({ readable: repair, writable: socket });
    socket.pipe(repair);
    const fail = (err: Error): void => {
      this.opts.logger.debug('CSI connection closed with error', { err: err.message });
      socket.destroy();
      connection.destroy();
    };
    repair.on('error', fail);
    socket.on('error', fail);
    socket.on('close', () => {
      this.sockets.delete(socket);
      connection.destroy();
      if (repair.repaired > 0) {
        this.opts.logger.debug('repaired :authority of an older gRPC client', {
          calls: repair.repaired,
        });
      }
    });
    injector.injectConnection(connection);
  }

  /**
   * Ordered stop: refuse new connections, let in-flight calls finish for the grace
   * period, then cancel what remains, close every connection and remove the socket file.
   * Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { endpoint, logger } = this.opts;
    const grace = this.opts.gracePeriodMs ?? 5000;
    const listenerClosed = new Promise<void>((resolve) => {
      if (!this.listener?.listening) resolve();
      else this.listener.close(() => resolve());
    });
    this.injector?.drain(grace);
    const graceful = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), grace);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!graceful) {
      logger.warn('CSI calls still running after the grace period; cancelling them', {
        graceMs: grace,
      });
      this.grpcServer.forceShutdown();
    }
    this.injector?.destroy();
    for (const s of this.sockets) s.destroy();
    await listenerClosed;
    if (endpoint.kind === 'unix') removeSocket(endpoint.path);
    logger.info('CSI server stopped', { graceful });
  }
}

/**
 * A socket file left by a crashed process is removed; one that a live process still
 * serves is an error (two drivers on one socket would be worse than not starting); a
 * path that is not a socket at all is never deleted.
 */
export async function clearStaleSocket(path: string, logger: Logger): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is already serving ${path}`);
  logger.info('removing stale CSI socket', { path });
  unlinkSync(path);
}

function removeSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}
