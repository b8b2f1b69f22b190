/** A controllable clock with timers, for the attachment reconciler and service tests. */
export class FakeClock {
  private timers: Array<{ id: number; at: number; fn: () => void }> = [];
  private seq = 0;
  constructor(public t: number = 1_700_000_000_000) {}

  readonly now = (): number => this.t;

  readonly timerApi = {
    setTimeout: (fn: () => void, ms: number): unknown => {
      const id = ++this.seq;
      this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout: (h: unknown): void => {
      this.timers = this.timers.filter((x) => x.id !== h);
    },
  };

  /** Move time forward, firing due timers in order (each sees its own due time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.length;
  }
}
