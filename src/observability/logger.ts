/**
 * Structured JSON logs, one object per line. Values under secret-looking keys are replaced
 * before serialisation, at any depth, so a request's `secrets` map or an SSH key never
 * reaches the log stream whatever the caller passes in.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
const RANK: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
};

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LogSink {
  write(line: string): unknown;
}

const SECRET_KEY = /secret|password|passphrase|private.?key|token|credential|authorization/i;
export const REDACTED = '[redacted]';
const MAX_DEPTH = 8;

/** Deep copy of `value` with every secret-looking key's value replaced by REDACTED. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return serializeError(value);
  if (Buffer.isBuffer(value)) return `[buffer ${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const extra = err as unknown as Record<string, unknown>;
  for (const key of ['code', 'errno', 'syscall', 'path', 'context']) {
    if (extra[key] !== undefined) out[key] = redact(extra[key], 1);
  }
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = redact(err.cause, 1);
  return out;
}

class JsonLogger implements Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly min: number,
    private readonly bindings: LogFields,
    private readonly now: () => Date,
  ) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.min;
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const record = redact({ ...this.bindings, ...fields }) as Record<string, unknown>;
    const line = JSON.stringify({ time: this.now().toISOString(), level, msg, ...record });
    this.sink.write(line + '\n');
  }

  trace(msg: string, fields?: LogFields): void {
    this.log('trace', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
  child(bindings: LogFields): Logger {
    return new JsonLogger(this.sink, this.min, { ...this.bindings, ...bindings }, this.now);
  }
}

export function createLogger(opts: {
  level: LogLevel;
  sink?: LogSink;
  bindings?: LogFields;
  now?: () => Date;
}): Logger {
  return new JsonLogger(
    opts.sink ?? process.stderr,
    RANK[opts.level],
    opts.bindings ?? {},
    opts.now ?? (() => new Date()),
  );
}

/** A logger that drops everything: for tests and tools that want silence. */
export function nullLogger(): Logger {
  return createLogger({ level: 'error', sink: { write: () => true } }).child({});
}
