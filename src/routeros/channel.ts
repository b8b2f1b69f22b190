/**
 * One command on one SSH exec channel. The reply is complete when the channel closes;
 * aborting the signal closes the channel and rejects with the signal's reason; the session
 * fails the call through `inflight` when the connection is lost.
 */
import type { Client, ClientChannel } from 'ssh2';
import { type DomainError, UnavailableError } from '../domain/errors';
import type { Reply } from './classify';

export function runOnChannel(
  client: Client,
  text: string,
  signal: AbortSignal,
  inflight: Set<(e: DomainError) => void>,
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    let done = false;
    let stream: ClientChannel | undefined;
    const finish = (err: Error | undefined, reply?: Reply): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      inflight.delete(fail);
      if (reply !== undefined && err === undefined) resolve(reply);
      else reject(err ?? new UnavailableError('the SSH channel closed without a reply'));
    };
    const fail = (e: DomainError): void => finish(e);
    const onAbort = (): void => {
      stream?.close();
      finish(signal.reason as Error);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    inflight.add(fail);
    client.exec(text, (err, ch) => {
      if (err !== undefined && err !== null) {
        finish(new UnavailableError(`could not open an SSH channel: ${err.message}`));
        return;
      }
      if (done) {
        ch.close();
        return;
      }
      stream = ch;
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.on('data', (d: Buffer) => errOut.push(d));
      ch.on('exit', (c: unknown) => {
        code = typeof c === 'number' ? c : null;
      });
      ch.on('close', () => {
        // A lost connection closes its channels right after the client's 'close' event;
        // deferring lets that event fail this call as UNAVAILABLE instead of resolving
        // it with truncated output.
        setImmediate(() =>
          finish(undefined, {
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            code,
          }),
        );
      });
    });
  });
}
