/**
 * Fault injection: rules added in-process or read from a JSON control file (re-read before
 * every command and every login, so a test or an operator can change faults on a running
 * simulator). The decision for one command is pure given the rules and their match counts.
 */
import { readFileSync } from 'node:fs';

export interface SimFaultRule {
  /** Regex (source text or RegExp) tested against the command line; absent = every command. */
  readonly match?: string | RegExp;
  /** Added delay before the reply: `latencyMs` plus a uniform random 0..`jitterMs`. */
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  /** Never reply; the channel stays open until the client gives up. */
  readonly hang?: boolean;
  /** Cut the connection (TCP) instead of replying; half of the reply may already be sent. */
  readonly drop?: boolean;
  /** Reply `failure: <fail>` instead of running the command. */
  readonly fail?: string;
  /** Restart the simulator (an RDS reboot) instead of replying. */
  readonly restart?: boolean;
  /**
   * Whether a hung or dropped command still runs first. Defaults: `drop` runs it (the
   * effect happens, the reply is lost), `hang` does not.
   */
  readonly execute?: boolean;
  /** Only the Nth command this rule matches (1-based). */
  readonly nth?: number;
  /** At most this many matching commands (default: every one). */
  readonly times?: number;
}

export interface SimFaults {
  add(rule: SimFaultRule): void;
  clear(): void;
  refuseLogins(on: boolean): void;
  readonly rules: readonly SimFaultRule[];
  readonly loginsRefused: boolean;
}

export type FaultAction = 'none' | 'hang' | 'drop' | 'fail' | 'restart';

export interface FaultDecision {
  readonly delayMs: number;
  readonly action: FaultAction;
  readonly failText: string;
  readonly execute: boolean;
}

interface ControlFile {
  readonly refuseLogins?: boolean;
  readonly rules?: SimFaultRule[];
}

interface Counted {
  readonly rule: SimFaultRule;
  readonly regex: RegExp | undefined;
  seen: number;
}

function compile(rule: SimFaultRule): Counted {
  const m = rule.match;
  return {
    rule,
    regex: m === undefined ? undefined : m instanceof RegExp ? m : new RegExp(m),
    seen: 0,
  };
}

/** Whether `c` applies to `command`; counts the match either way. */
function applies(c: Counted, command: string): boolean {
  if (c.regex && !c.regex.test(command)) return false;
  c.seen += 1;
  if (c.rule.nth !== undefined) return c.seen === c.rule.nth;
  return c.rule.times === undefined || c.seen <= c.rule.times;
}

export class FaultEngine implements SimFaults {
  private local: Counted[] = [];
  private fileRules: Counted[] = [];
  private fileText = '';
  private refusing = false;
  private fileRefusing = false;

  constructor(
    private readonly controlFile: string | undefined,
    private readonly random: () => number = Math.random,
  ) {}

  get rules(): readonly SimFaultRule[] {
    return this.local.map((c) => c.rule);
  }

  get loginsRefused(): boolean {
    this.reload();
    return this.refusing || this.fileRefusing;
  }

  add(rule: SimFaultRule): void {
    this.local.push(compile(rule));
  }

  clear(): void {
    this.local = [];
    this.refusing = false;
  }

  refuseLogins(on: boolean): void {
    this.refusing = on;
  }

  /** Decide what happens to one command. Delays add up; the first action rule wins. */
  decide(command: string): FaultDecision {
    this.reload();
    let delayMs = 0;
    let chosen: SimFaultRule | undefined;
    for (const c of [...this.local, ...this.fileRules]) {
      if (!applies(c, command)) continue;
      delayMs += (c.rule.latencyMs ?? 0) + this.random() * (c.rule.jitterMs ?? 0);
      if (!chosen && (c.rule.hang || c.rule.drop || c.rule.fail !== undefined || c.rule.restart)) {
        chosen = c.rule;
      }
    }
    if (!chosen) return { delayMs, action: 'none', failText: '', execute: true };
    const action: FaultAction = chosen.restart
      ? 'restart'
      : chosen.drop
        ? 'drop'
        : chosen.hang
          ? 'hang'
          : 'fail';
    const execute =
      action === 'drop' || action === 'hang' ? (chosen.execute ?? action === 'drop') : false;
    return { delayMs, action, failText: chosen.fail ?? '', execute };
  }

  /** Re-read the control file; counts restart whenever its content changes. */
  private reload(): void {
    if (this.controlFile === undefined) return;
    let text: string;
    try {
      text = readFileSync(this.controlFile, 'utf8');
    } catch {
      text = '';
    }
    if (text === this.fileText) return;
    this.fileText = text;
    let parsed: ControlFile;
    try {
      parsed = text.trim() === '' ? {} : (JSON.parse(text) as ControlFile);
    } catch {
      parsed = {};
    }
    this.fileRefusing = parsed.refuseLogins === true;
    this.fileRules = [];
    for (const rule of Array.isArray(parsed.rules) ? parsed.rules : []) {
      try {
        this.fileRules.push(compile(rule));
      } catch {
        // An invalid regex in the control file disables that rule only.
      }
    }
  }
}
