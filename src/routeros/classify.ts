/**
 * Classify a command's reply into a DomainError, from its text on stdout AND stderr and its
 * exit status (which stream carries the text, and whether the exit status is non-zero, is
 * not confirmed on hardware, so the text decides). Pure.
 *
 * Messages name the command (`/disk add`), never its arguments: the caller's full command
 * line goes to trace logs only.
 */
import {
  AlreadyExistsError,
  InternalError,
  NotFoundError,
  ResourceExhaustedError,
  type DomainError,
} from '../domain/errors';

export interface Reply {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status, or null when the device sent none. */
  readonly code: number | null;
}

/** Console parse errors: the command itself is wrong, a bug on our side. */
const SYNTAX = [
  /^bad command name/i,
  /^expected end of command/i,
  /^invalid value for argument/i,
  /^syntax error/i,
  /^expected command name/i,
  /^input does not match any value/i,
  /^ambiguous value of argument/i,
  /^unknown parameter/i,
];

/** The first line that reads as a failure or console error, trimmed, at most 200 chars. */
function failureLine(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('failure:') || SYNTAX.some((re) => re.test(line))) {
      return line.slice(0, 200);
    }
  }
  return undefined;
}

/** The DomainError a reply stands for, or undefined when the command succeeded. */
export function classifyReply(command: string, reply: Reply): DomainError | undefined {
  const text = `${reply.stdout}\n${reply.stderr}`;
  const line = failureLine(text);
  const ctx = { command, reply: line ?? text.trim().slice(0, 200), exitCode: reply.code };
  if (line === undefined) {
    if (reply.code === null || reply.code === 0) return undefined;
    return new InternalError(`RouterOS command ${command} exited with status ${reply.code}`, ctx);
  }
  const l = line.toLowerCase();
  if (l.includes('no such item')) return new NotFoundError(`${command}: no such item`, ctx);
  if (l.includes('already have') || l.includes('already exists') || l.includes('duplicate')) {
    return new AlreadyExistsError(`${command}: item already exists`, ctx);
  }
  if (l.includes('not enough space')) {
    return new ResourceExhaustedError(`${command}: not enough space on the RDS`, ctx);
  }
  if (SYNTAX.some((re) => re.test(line))) {
    return new InternalError(`RouterOS rejected the syntax of ${command}`, ctx);
  }
  return new InternalError(`RouterOS command ${command} failed`, ctx);
}
