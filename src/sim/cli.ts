/**
 * One command line in, one console reply out: parse fully, then execute. A syntax error or
 * `failure:` is an ordinary reply (RouterOS prints it; see README for streams and status).
 */
import { execute, type ExecContext } from './exec';
import { CliSyntaxError } from './lexer';
import { parseCommand } from './parser';
import { RosFailure } from './pool';

export type CliResult = 'ok' | 'failure' | 'syntax-error';

export interface CliReply {
  readonly lines: string[];
  readonly result: CliResult;
  /** A streaming screen (monitor without `once`) that repeats until the client closes. */
  readonly repeat?: boolean;
}

export async function runLine(line: string, ctx: ExecContext): Promise<CliReply> {
  let cmd;
  try {
    cmd = parseCommand(line, { version: ctx.version });
  } catch (err) {
    if (err instanceof CliSyntaxError) return { lines: [err.message], result: 'syntax-error' };
    throw err;
  }
  try {
    const out = await execute(cmd, ctx);
    return out.repeat
      ? { lines: out.lines, result: 'ok', repeat: true }
      : { lines: out.lines, result: 'ok' };
  } catch (err) {
    if (err instanceof RosFailure) return { lines: [`failure: ${err.message}`], result: 'failure' };
    throw err;
  }
}
