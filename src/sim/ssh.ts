/**
 * The simulator's SSH front: public-key auth, `exec` only (shell, pty and subsystems are
 * refused), one command per exec, a cap on concurrent sessions, fault injection around each
 * command. The TCP listener is ours (sockets injected into ssh2) so a fault or a restart can
 * cut connections the way a rebooting device does.
 */
import * as net from 'node:net';
import { Server, type Connection, type ParsedKey, type ServerChannel, type Session } from 'ssh2';
import type { Logger } from '../observability/logger';
import type { CliReply } from './cli';
import type { FaultEngine } from './faults';

export interface SimCommandLogEntry {
  readonly time: Date;
  readonly user: string;
  readonly command: string;
  readonly result: 'ok' | 'failure' | 'syntax-error' | 'dropped' | 'hung';
  readonly output: string;
}

/** Console options from the user name: `admin+ct4096w` → user `admin`, width 4096. */
export function parseLoginName(name: string): { user: string; width: number } {
  const plus = name.indexOf('+');
  if (plus < 0) return { user: name, width: 80 };
  const m = /(\d+)w/.exec(name.slice(plus + 1));
  const width = m ? Math.min(65535, Math.max(40, Number(m[1]))) : 80;
  return { user: name.slice(0, plus), width };
}

export interface SshFrontOptions {
  readonly hostKey: string;
  readonly authorizedKeys: readonly ParsedKey[];
  readonly users: readonly string[];
  readonly maxSessions: number;
  readonly faults: FaultEngine;
  readonly logger: Logger;
  /** Stream for `failure:` and syntax-error text (default stdout). */
  readonly errorStream: 'stdout' | 'stderr';
  /** Exit status after a `failure:` or syntax error (default 0). */
  readonly failureExitStatus: number;
  run(command: string, width: number): Promise<CliReply>;
  log(entry: SimCommandLogEntry): void;
  restart(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SshFront {
  private readonly tcp: net.Server;
  private readonly ssh: Server;
  private readonly sockets = new Map<string, net.Socket>();
  private connections = 0;
  private sessions = 0;
  /** While true (a reboot in progress) new TCP connections are cut at once. */
  down = false;

  constructor(private readonly o: SshFrontOptions) {
    this.ssh = new Server({ hostKeys: [o.hostKey] }, (conn, info) => this.onConnection(conn, info));
    this.ssh.on('error', (err: Error) => o.logger.debug('ssh server error', { err }));
    this.tcp = net.createServer((sock) => {
      if (this.down) {
        sock.destroy();
        return;
      }
      const key = `${sock.remoteAddress}:${sock.remotePort}`;
      this.sockets.set(key, sock);
      sock.once('close', () => this.sockets.delete(key));
      sock.on('error', () => undefined);
      // Small request/reply exchanges: without this, Nagle + delayed ACK add ~40-90 ms each.
      sock.setNoDelay(true);
      this.ssh.injectSocket(sock);
    });
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        resolve(this.tcp.address() as net.AddressInfo);
      });
    });
  }

  /** Cut every connection at the TCP level (no SSH disconnect message). */
  dropAll(): void {
    for (const s of this.sockets.values()) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.tcp.close(() => resolve()));
  }

  private onConnection(conn: Connection, info: { ip: string; port: number }): void {
    const sock = this.sockets.get(`${info.ip}:${info.port}`);
    let login = { user: '', width: 80 };
    let counted = false;
    const open = new Set<() => void>();
    conn.on('error', () => undefined);
    conn.on('close', () => {
      if (counted) this.connections -= 1;
      for (const release of [...open]) release();
    });
    conn.on('authentication', (ctx) => {
      const parsed = parseLoginName(ctx.username);
      if (
        ctx.method !== 'publickey' ||
        !this.o.users.includes(parsed.user) ||
        this.o.faults.loginsRefused
      ) {
        ctx.reject(['publickey']);
        return;
      }
      const key = this.o.authorizedKeys.find(
        (k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data),
      );
      if (!key) return ctx.reject(['publickey']);
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      if (!key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
      // Past the cap a login is refused outright, as a device that is out of sessions does.
      if (this.connections >= this.o.maxSessions) return ctx.reject(['publickey']);
      this.connections += 1;
      counted = true;
      login = parsed;
      ctx.accept();
    });
    conn.on('session', (accept, reject) => {
      if (this.sessions >= this.o.maxSessions) return reject();
      this.sessions += 1;
      const session = accept();
      let released = false;
      const release = (): void => {
        if (!released) this.sessions -= 1;
        released = true;
        open.delete(release);
      };
      open.add(release);
      session.on('close', release);
      this.onSession(session, login, () => (sock ? sock.destroy() : conn.end()));
    });
  }

  private onSession(
    session: Session,
    login: { user: string; width: number },
    drop: () => void,
  ): void {
    let used = false;
    session.on('pty', (_accept, reject) => reject?.());
    session.on('shell', (_accept, reject) => reject());
    session.on('subsystem', (_accept, reject) => reject());
    session.on('sftp', (_accept, reject) => reject());
    session.on('exec', (accept, reject, info) => {
      if (used) return reject();
      used = true;
      const ch = accept();
      this.handle(ch, info.command, login, drop).catch((err: unknown) => {
        this.o.logger.error('simulator command crashed', { err, command: info.command });
        ch.destroy();
      });
    });
  }

  private async handle(
    ch: ServerChannel,
    command: string,
    login: { user: string; width: number },
    drop: () => void,
  ): Promise<void> {
    const d = this.o.faults.decide(command);
    const entry = (result: SimCommandLogEntry['result'], output: string): void =>
      this.o.log({ time: new Date(), user: login.user, command, result, output });
    if (d.delayMs > 0) await sleep(d.delayMs);
    if (d.action === 'restart') {
      entry('dropped', '');
      this.o.restart();
      return;
    }
    if (d.action === 'fail') {
      this.reply(ch, { lines: [`failure: ${d.failText}`], result: 'failure' });
      entry('failure', `failure: ${d.failText}`);
      return;
    }
    const reply = d.execute ? await this.o.run(command, login.width) : undefined;
    const text = reply ? joinLines(reply.lines) : '';
    if (d.action === 'hang') {
      entry('hung', text);
      return;
    }
    if (d.action === 'drop') {
      entry('dropped', text);
      if (text.length > 1) ch.write(text.slice(0, Math.floor(text.length / 2)));
      drop();
      return;
    }
    const r = reply!;
    entry(r.result, text);
    if (r.repeat) {
      ch.write(text);
      // Repeats until the channel goes away, whichever way it goes (close, EOF, dropped TCP).
      const timer = setInterval(() => {
        if (ch.writable && !ch.destroyed) ch.write(text);
        else clearInterval(timer);
      }, 1000);
      timer.unref();
      ch.once('close', () => clearInterval(timer));
      return;
    }
    this.reply(ch, r);
  }

  private reply(ch: ServerChannel, r: CliReply): void {
    const text = joinLines(r.lines);
    const failed = r.result !== 'ok';
    if (failed && this.o.errorStream === 'stderr') ch.stderr.write(text);
    else if (text !== '') ch.write(text);
    ch.exit(failed ? this.o.failureExitStatus : 0);
    ch.end();
  }
}

/** Console lines end with CRLF, as on the device. */
function joinLines(lines: readonly string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}
