/**
 * Runs built commands over the session: classifies the reply into DomainErrors, logs one
 * line per command (name, duration, outcome) at debug and the full command line at trace
 * (passwords redacted), and reports latency by command name and outcome.
 */
import { InternalError, isDomainError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import { classifyReply, type Reply } from './classify';
import type { Command } from './commands';
import type { OutputForm } from './config';
import type { RouterOsMetrics } from './metrics';
import type { CallOptions } from './ports';
import type { ExecCommand, ExecOptions } from './session';

/** The part of SshSession the runner needs (a fake implements it in unit tests). */
export interface Exec {
  exec(cmd: ExecCommand, o?: ExecOptions): Promise<Reply>;
}

export interface CommandRunner {
  /** Run a command; resolves with its stdout when the reply is not a failure. */
  run(cmd: Command, o?: CallOptions): Promise<string>;
  /**
   * Run a read whose text depends on the output form of the connection it runs on.
   * `build` is called once up front to validate (nothing is sent if it throws).
   */
  query(
    build: (form: OutputForm) => Command,
    o?: CallOptions,
  ): Promise<{ output: string; form: OutputForm }>;
}

const PASSWORD = /(password=)("(?:[^"\\]|\\.)*"|\S+)/gi;

export function redactCommand(text: string): string {
  return text.replace(PASSWORD, '$1[redacted]');
}

export function createRunner(
  session: Exec,
  logger: Logger,
  metrics: RouterOsMetrics,
): CommandRunner {
  async function exec(name: string, text: ExecCommand['text'], o: CallOptions): Promise<string> {
    const started = process.hrtime.bigint();
    let outcome = 'success';
    try {
      const reply = await session.exec({ name, text }, o);
      const err = classifyReply(name, reply);
      if (err !== undefined) throw err;
      return reply.stdout;
    } catch (err) {
      outcome = isDomainError(err) ? err.code : 'internal';
      if (!isDomainError(err)) {
        throw new InternalError(`RouterOS command ${name} failed unexpectedly`, {}, { cause: err });
      }
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.command(name, outcome, seconds);
      logger.debug('routeros command', {
        command: name,
        durationMs: Math.round(seconds * 1000),
        outcome,
      });
    }
  }

  function trace(text: string): void {
    if (logger.enabled('trace'))
      logger.trace('routeros command line', { line: redactCommand(text) });
  }

  return {
    run(cmd, o = {}) {
      trace(cmd.text);
      return exec(cmd.name, cmd.text, o);
    },
    async query(build, o = {}) {
      const probe = build('detail');
      let used: OutputForm = 'detail';
      const output = await exec(
        probe.name.replace(/^:serialize /, ''),
        (form) => {
          used = form;
          const text = build(form).text;
          trace(text);
          return text;
        },
        o,
      );
      return { output, form: used };
    },
  };
}
