/**
 * One persistent SSH connection to the RDS with a new exec channel per command.
 *
 * Contracts:
 * - At most `maxChannels` channels are open at once; more calls wait in FIFO order.
 * - Every call has a deadline covering queueing, waiting for a connection and running.
 *   At the deadline the channel is closed and the call fails with DeadlineExceededError
 *   (UnavailableError if it was still waiting for a connection). The caller's AbortSignal
 *   gives CancelledError.
 * - Connection loss fails every command in flight with UnavailableError; the session then
 *   reconnects with exponential backoff and jitter, forever, until close().
 * - The host key must match the pinned SHA256 fingerprint, or the connection is refused.
 * - Liveness: when idle for `livenessIntervalMs`, a cheap command is run; if it fails the
 *   connection is dropped and re-established (RouterOS may ignore SSH keepalives).
 * - The RouterOS version is read once per connection and fixes the output form.
 */
import { Client } from 'ssh2';
import { backoffDelay } from '../domain/backoff';
import { type DomainError, UnavailableError, isDomainError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Reply } from './classify';
import { SYSTEM_IDENTITY, SYSTEM_RESOURCE } from './commands';
import type { OutputForm } from './config';
import { runOnChannel } from './channel';
import { fingerprintOf } from './fingerprint';
import { CallScope, FifoSemaphore, ReadyGate } from './limits';
import type { RouterOsMetrics } from './metrics';
import { formForVersion, parseVersion } from './parse';

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  /** Final user name, console options included. */
  readonly username: string;
  readonly privateKey: string | Buffer;
  readonly passphrase?: string;
  /** `SHA256:...`; undefined only together with insecureSkipHostKey. */
  readonly hostKeyFingerprint?: string;
  readonly insecureSkipHostKey: boolean;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxChannels: number;
  readonly livenessIntervalMs: number;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly outputForm?: OutputForm;
}

export interface SessionDeps {
  readonly logger: Logger;
  readonly metrics: RouterOsMetrics;
  /** Jitter source in [0, 1) (tests pin it). */
  readonly random?: () => number;
}

export interface ExecCommand {
  readonly name: string;
  /** The command line, or a function of the output form chosen for this connection. */
  readonly text: string | ((form: OutputForm) => string);
}

export interface ExecOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

type State = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

const TIMEOUTS_BEFORE_RECONNECT = 3;

export class SshSession {
  private state: State = 'idle';
  private client: Client | undefined;
  private readonly slots: FifoSemaphore;
  private readonly ready = new ReadyGate<Client>();
  private readonly inflight = new Set<(e: DomainError) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private attempt = 0;
  private consecutiveTimeouts = 0;
  private everConnected = false;
  private lastError = 'not connected yet';
  private backoffTimer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private form: OutputForm = 'detail';
  private deviceVersion: string | undefined;
  private readonly random: () => number;

  constructor(
    private readonly opts: SessionOptions,
    private readonly deps: SessionDeps,
  ) {
    this.slots = new FifoSemaphore(opts.maxChannels);
    this.random = deps.random ?? Math.random;
  }

  get connected(): boolean {
    return this.state === 'ready';
  }
  /** RouterOS version read on the current connection, if any. */
  get version(): string | undefined {
    return this.deviceVersion;
  }
  get outputForm(): OutputForm {
    return this.form;
  }
  /** Channels open now and calls queued behind the cap (for tests and diagnostics). */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.slots.inUse, queued: this.slots.waiting };
  }

  /** Begin connecting (in the background; calls wait for the connection). Idempotent. */
  start(): void {
    if (this.state !== 'idle') return;
    if (this.opts.hostKeyFingerprint === undefined) {
      this.deps.logger.warn(
        'INSECURE: RouterOS host key is not verified (insecureSkipHostKey); anyone on the path can impersonate the RDS',
        { host: this.opts.host },
      );
    }
    this.connect();
  }

  onReconnect(cb: () => void): () => void {
    this.reconnectListeners.add(cb);
    return () => this.reconnectListeners.delete(cb);
  }

  async exec(cmd: ExecCommand, o: ExecOptions = {}): Promise<Reply> {
    if (this.state === 'closed') throw new UnavailableError('the RouterOS session is closed');
    if (this.state === 'idle') this.start();
    const scope = new CallScope(
      cmd.name,
      o.timeoutMs ?? this.opts.commandTimeoutMs,
      o.signal,
      () => (this.state === 'ready' ? undefined : this.lastError),
    );
    let release: (() => void) | undefined;
    try {
      release = await this.slots.acquire(scope.signal);
      scope.phase = 'connect';
      const client = await this.whenReady(scope.signal);
      scope.phase = 'channel';
      const text = typeof cmd.text === 'string' ? cmd.text : cmd.text(this.form);
      let reply: Reply;
      try {
        reply = await runOnChannel(client, text, scope.signal, this.inflight);
      } catch (err) {
        if (isDomainError(err) && err.code === 'deadline-exceeded') this.noteTimeout(client);
        throw err;
      }
      this.consecutiveTimeouts = 0;
      this.lastActivity = Date.now();
      return reply;
    } finally {
      scope.dispose();
      release?.();
    }
  }

  /**
   * Several commands in a row timing out on their channels is what a silently dead
   * connection looks like under load (when the idle liveness probe cannot run): reconnect.
   */
  private noteTimeout(client: Client): void {
    this.consecutiveTimeouts++;
    if (this.consecutiveTimeouts < TIMEOUTS_BEFORE_RECONNECT || this.client !== client) return;
    this.consecutiveTimeouts = 0;
    this.lastError = `${TIMEOUTS_BEFORE_RECONNECT} commands in a row timed out`;
    this.deps.logger.warn('RouterOS commands keep timing out; reconnecting', {
      host: this.opts.host,
    });
    client.destroy();
  }

  /** Close the connection; pending and later calls fail with UnavailableError. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.backoffTimer);
    clearInterval(this.livenessTimer);
    const err = new UnavailableError('the RouterOS session is closed');
    this.ready.fail(err);
    this.failInflight(err);
    const client = this.client;
    this.client = undefined;
    this.deps.metrics.connectionState(false);
    if (client === undefined) return;
    if (!wasReady) {
      // Mid-handshake: nothing to end politely, and ssh2 may never emit 'close'.
      client.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.destroy();
        resolve();
      }, 2000);
      client.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      client.end();
    });
  }

  private whenReady(signal: AbortSignal): Promise<Client> {
    if (this.state === 'ready' && this.client !== undefined) return Promise.resolve(this.client);
    if (this.state === 'closed') {
      return Promise.reject(new UnavailableError('the RouterOS session is closed'));
    }
    return this.ready.wait(signal);
  }

  private failInflight(err: DomainError): void {
    for (const fail of [...this.inflight]) fail(err);
    this.inflight.clear();
  }

  private connect(): void {
    this.state = 'connecting';
    const client = new Client();
    this.client = client;
    client.on('ready', () => void this.onReady(client));
    client.on('error', (err: Error) => {
      // Keep the more useful reason when ssh2 reports the refused host key generically.
      if (this.lastError.startsWith('host key mismatch') && this.state !== 'ready') return;
      this.lastError = err.message;
      this.deps.logger.debug('RouterOS SSH error', { host: this.opts.host, error: err.message });
    });
    client.on('close', () => this.onClosed(client));
    try {
      client.connect({
        host: this.opts.host,
        port: this.opts.port,
        username: this.opts.username,
        privateKey: this.opts.privateKey,
        ...(this.opts.passphrase === undefined ? {} : { passphrase: this.opts.passphrase }),
        readyTimeout: this.opts.connectTimeoutMs,
        keepaliveInterval: 0,
        hostVerifier: (key: Buffer): boolean => this.verifyHostKey(key),
      });
      // One small command and reply per exchange: without TCP_NODELAY, Nagle's algorithm
      // and the peer's delayed ACK add 40-90 ms to every command. The socket exists but is
      // not connected yet: Node keeps the setting and applies it when the connection opens.
      client.setNoDelay(true);
    } catch (err) {
      // ssh2 throws synchronously on an unreadable key: no point retrying fast, but keep
      // the "never give up" contract (the key Secret may be fixed while we run).
      this.lastError = errMessage(err);
      this.deps.logger.error('RouterOS SSH connect failed', { error: this.lastError });
      setImmediate(() => this.onClosed(client));
    }
  }

  private verifyHostKey(key: Buffer): boolean {
    const pin = this.opts.hostKeyFingerprint;
    if (pin === undefined) return true;
    const got = fingerprintOf(key);
    if (got === pin) return true;
    this.lastError = `host key mismatch (expected ${pin}, got ${got})`;
    this.deps.logger.error('RouterOS host key does NOT match the pinned fingerprint; refusing', {
      host: this.opts.host,
      expected: pin,
      got,
    });
    return false;
  }

  private async onReady(client: Client): Promise<void> {
    if (this.client !== client || this.state === 'closed') return;
    const scope = new CallScope(
      SYSTEM_RESOURCE.name,
      this.opts.commandTimeoutMs,
      undefined,
      () => undefined,
    );
    scope.phase = 'channel';
    try {
      const reply = await runOnChannel(client, SYSTEM_RESOURCE.text, scope.signal, this.inflight);
      this.deviceVersion = parseVersion(reply.stdout);
    } catch (err) {
      this.lastError = `reading the RouterOS version failed: ${errMessage(err)}`;
      this.deps.logger.warn('RouterOS version check failed; reconnecting', {
        error: this.lastError,
      });
      client.destroy();
      return;
    } finally {
      scope.dispose();
    }
    // The state may have changed while the version was read (close() or a drop).
    if (this.client !== client || (this.state as State) === 'closed') return;
    this.form = this.opts.outputForm ?? formForVersion(this.deviceVersion);
    this.state = 'ready';
    this.lastActivity = Date.now();
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.attempt = 0;
    this.consecutiveTimeouts = 0;
    this.deps.metrics.connectionState(true);
    if (reconnect) this.deps.metrics.reconnect('success');
    this.deps.logger.info('RouterOS connection up', {
      host: this.opts.host,
      version: this.deviceVersion ?? 'unknown',
      outputForm: this.form,
    });
    this.startLiveness(client);
    this.ready.open(client);
    if (reconnect) for (const cb of [...this.reconnectListeners]) safeCall(cb, this.deps.logger);
  }

  private onClosed(client: Client): void {
    if (this.client !== client) return;
    const wasReady = this.state === 'ready';
    this.client = undefined;
    clearInterval(this.livenessTimer);
    this.failInflight(
      new UnavailableError(
        wasReady ? 'the connection to the RDS was lost' : `cannot connect: ${this.lastError}`,
      ),
    );
    if (this.state === 'closed') return;
    if (wasReady) {
      this.deps.metrics.connectionState(false);
      this.deps.logger.warn('RouterOS connection lost; reconnecting', { host: this.opts.host });
    } else if (this.everConnected || this.attempt > 0) {
      this.deps.metrics.reconnect('failure');
    }
    const delay = backoffDelay(
      this.attempt,
      this.opts.reconnectBaseMs,
      this.opts.reconnectMaxMs,
      this.random(),
    );
    this.attempt = Math.min(this.attempt + 1, 30);
    this.state = 'backoff';
    this.deps.logger.debug('RouterOS reconnect scheduled', {
      delayMs: delay,
      error: this.lastError,
    });
    this.backoffTimer = setTimeout(() => {
      if (this.state === 'backoff') this.connect();
    }, delay);
    this.backoffTimer.unref();
  }

  private startLiveness(client: Client): void {
    const every = this.opts.livenessIntervalMs;
    if (every <= 0) return;
    clearInterval(this.livenessTimer);
    this.livenessTimer = setInterval(
      () => {
        if (this.client !== client || this.state !== 'ready') return;
        if (this.slots.inUse > 0 || Date.now() - this.lastActivity < every) return;
        this.exec(SYSTEM_IDENTITY, {
          timeoutMs: Math.min(this.opts.commandTimeoutMs, 10_000),
        }).then(
          () => undefined,
          (err: unknown) => {
            if (this.client !== client) return;
            this.lastError = `liveness check failed: ${errMessage(err)}`;
            this.deps.logger.warn('RouterOS liveness check failed; reconnecting', {
              error: this.lastError,
            });
            client.destroy();
          },
        );
      },
      Math.max(50, Math.floor(every / 2)),
    );
    this.livenessTimer.unref();
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeCall(cb: () => void, logger: Logger): void {
  try {
    cb();
  } catch (err) {
    logger.error('RouterOS reconnect listener threw', { error: errMessage(err) });
  }
}
