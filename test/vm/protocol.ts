// The line protocol between the host and the guest's init (test/vm/init.sh) on ttyS1, and the
// `@@BENCH {json}` lines guest benchmarks print. Pure functions: unit-tested on the host.
import type { BenchRow } from '../bench/types';

export type SerialEvent =
  | { kind: 'ready'; uptimeSec: number }
  | { kind: 'exit'; id: string; code: number }
  | { kind: 'text'; text: string };

const READY = /^@@READY (\d+(?:\.\d+)?)$/;
// Output that does not end in a newline is followed by the marker on the same line.
const EXIT = /^(.*)@@EXIT ([0-9a-f]+) (\d+)$/s;

/**
 * Splits the guest's serial stream into events. Text is released line by line (a partial
 * line stays buffered until its newline or the next exit marker), so output streams while a
 * command runs and no marker is ever split across two chunks.
 */
export class SerialDemux {
  private pending = '';

  constructor(private readonly emit: (event: SerialEvent) => void) {}

  push(chunk: string): void {
    this.pending += chunk.replace(/\r/g, '');
    for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      this.line(line);
    }
  }

  /** Releases a trailing partial line (when the VM has exited). */
  flush(): void {
    if (this.pending !== '') this.emit({ kind: 'text', text: this.pending });
    this.pending = '';
  }

  private line(line: string): void {
    const ready = READY.exec(line);
    if (ready?.[1] !== undefined) {
      this.emit({ kind: 'ready', uptimeSec: Number(ready[1]) });
      return;
    }
    const exit = EXIT.exec(line);
    if (exit?.[2] !== undefined && exit[3] !== undefined) {
      if (exit[1] !== undefined && exit[1] !== '') this.emit({ kind: 'text', text: exit[1] });
      this.emit({ kind: 'exit', id: exit[2], code: Number(exit[3]) });
      return;
    }
    this.emit({ kind: 'text', text: line + '\n' });
  }
}

/** The command line that runs `script` in the guest under the id `id`. */
export function runCommand(id: string, script: string): string {
  return `@@RUN ${id} ${Buffer.from(script, 'utf8').toString('base64')}\n`;
}

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A script that exports `env` and then runs `body`. */
export function scriptWithEnv(env: Record<string, string>, body: string): string {
  const lines = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment name ${k}`);
    return `export ${k}=${shellQuote(v)}`;
  });
  return [...lines, body].join('\n') + '\n';
}

export type { BenchRow };

const BENCH = /^@@BENCH (\{.*\})\s*$/;

/** Extracts the benchmark rows from a guest's output; malformed rows are an error. */
export function parseBenchRows(output: string): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const line of output.split('\n')) {
    const m = BENCH.exec(line);
    if (m?.[1] === undefined) continue;
    const row = JSON.parse(m[1]) as Partial<BenchRow>;
    if (
      typeof row.name !== 'string' ||
      typeof row.value !== 'number' ||
      typeof row.unit !== 'string' ||
      (row.note !== undefined && typeof row.note !== 'string')
    ) {
      throw new Error(`malformed bench row: ${line}`);
    }
    rows.push(
      row.note === undefined
        ? { name: row.name, value: row.value, unit: row.unit }
        : {
            name: row.name,
            value: row.value,
            unit: row.unit,
            note: row.note,
          },
    );
  }
  return rows;
}

/** The line a guest benchmark prints for one row. */
export function benchLine(row: BenchRow): string {
  return `@@BENCH ${JSON.stringify(row)}`;
}
