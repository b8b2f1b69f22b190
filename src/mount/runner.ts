/**
 * The one way the node runs an external tool: an argv array (never a shell), a timeout, an
 * optional AbortSignal, bounded output capture. A missing binary is a FailedPreconditionError
 * that names the tool, so an operator sees at once which package the node image lacks.
 */
import { spawn } from 'node:child_process';
import {
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
} from '../domain/errors';

export interface RunOptions {
  readonly timeoutMs: number;
  /** Aborting kills the process; the promise rejects with the signal's reason or CancelledError. */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  /** Exit code; -1 when the process was killed by a signal. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv[0] with argv[1..]; resolves with any exit code, rejects only when it could not run. */
export type CommandRunner = (argv: readonly string[], opts: RunOptions) => Promise<RunResult>;

const MAX_OUTPUT = 64 * 1024;

export interface ProcessRunnerOptions {
  /** PATH for the tools; default: the process's PATH plus the sbin directories. */
  readonly path?: string;
}

/** The tools' PATH: the given one, or the process's PATH plus the sbin directories. */
export function toolPath(options: ProcessRunnerOptions = {}): string {
  return (
    options.path ??
    [process.env['PATH'] ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).join(':')
  );
}

export function createProcessRunner(options: ProcessRunnerOptions = {}): CommandRunner {
  const pathVar = toolPath(options);
  return (argv, opts) => run(argv, opts, pathVar);
}

function run(argv: readonly string[], opts: RunOptions, pathVar: string): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined || cmd === '') return Promise.reject(new InternalError('empty command'));
  return new Promise<RunResult>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortReason(opts.signal));
      return;
    }
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: pathVar, LC_ALL: 'C' },
    });
    let stdout = '';
    let stderr = '';
    let failure: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const kill = (err: Error): void => {
      failure ??= err;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => kill(new DeadlineExceededError(`${cmd} did not finish within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const onAbort = (): void => kill(abortReason(opts.signal!));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      done();
      if (err.code === 'ENOENT') {
        reject(notInstalled(cmd));
      } else if (err.code === 'EACCES') {
        reject(notExecutable(cmd));
      } else {
        reject(failure ?? new InternalError(`could not run ${cmd}: ${err.code ?? err.message}`));
      }
    });
    child.on('close', (code) => {
      done();
      if (failure) reject(failure);
      else resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new CancelledError('the operation was cancelled');
}

export function notInstalled(cmd: string): FailedPreconditionError {
  return new FailedPreconditionError(
    `required tool "${cmd}" is not installed on this node (not found in PATH)`,
    { tool: cmd },
  );
}

export function notExecutable(cmd: string): FailedPreconditionError {
  return new FailedPreconditionError(`tool "${cmd}" is not executable`, { tool: cmd });
}

/** The first line of a tool's stderr, trimmed, for error messages (never parsed). */
export function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 300);
}
