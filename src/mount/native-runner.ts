/**
 * A CommandRunner that starts tools with the addon's posix_spawn instead of Node's
 * child_process: same argv, environment (PATH and LC_ALL=C only), timeout and errors as
 * the process runner in runner.ts. posix_spawn does not copy the page tables of this large
 * process the way fork does, and the wait runs on the libuv pool. A call with an
 * AbortSignal goes to the process runner, which can kill the child on abort.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeadlineExceededError, InternalError } from '../domain/errors';
import type { SpawnSyscalls } from '../nvme/native';
import { isNativeError } from '../nvme/native';
import {
  type CommandRunner,
  type ProcessRunnerOptions,
  abortReason,
  createProcessRunner,
  notExecutable,
  notInstalled,
  toolPath,
} from './runner';

export function createNativeRunner(
  sys: SpawnSyscalls,
  options: ProcessRunnerOptions = {},
): CommandRunner {
  const pathVar = toolPath(options);
  const env = [`PATH=${pathVar}`, 'LC_ALL=C'];
  const fallback = createProcessRunner(options);
  /** Resolved tool paths; a tool that fails to start is looked up again next time. */
  const resolved = new Map<string, string>();
  const lookup = async (cmd: string): Promise<string> => {
    if (cmd.includes('/')) return path.resolve(cmd);
    const known = resolved.get(cmd);
    if (known !== undefined) return known;
    for (const dir of pathVar.split(':').filter((d) => d !== '')) {
      const file = path.join(dir, cmd);
      const ok = await fs.access(file, fs.constants.X_OK).then(
        () => true,
        () => false,
      );
      if (ok) {
        resolved.set(cmd, file);
        return file;
      }
    }
    throw notInstalled(cmd);
  };

  return async (argv, opts) => {
    const cmd = argv[0];
    if (cmd === undefined || cmd === '') throw new InternalError('empty command');
    if (opts.signal) {
      if (opts.signal.aborted) throw abortReason(opts.signal);
      return fallback(argv, opts);
    }
    const file = await lookup(cmd);
    let reply;
    try {
      reply = await sys.run(file, argv, { env, timeoutMs: opts.timeoutMs });
    } catch (err) {
      resolved.delete(cmd);
      if (isNativeError(err) && err.code === 'ENOENT') throw notInstalled(cmd);
      if (isNativeError(err) && (err.code === 'EACCES' || err.code === 'ENOEXEC')) {
        throw notExecutable(cmd);
      }
      const why = isNativeError(err) ? err.code : String(err);
      throw new InternalError(`could not run ${cmd}: ${why}`);
    }
    if (reply.timedOut) {
      throw new DeadlineExceededError(`${cmd} did not finish within ${opts.timeoutMs} ms`);
    }
    return { code: reply.code, stdout: reply.stdout, stderr: reply.stderr };
  };
}
