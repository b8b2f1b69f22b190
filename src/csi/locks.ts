/**
 * Per-key try-locks. CSI asks plugins to reject a second concurrent operation on the same
 * volume with ABORTED rather than queue it (the caller retries with backoff), so there is
 * no waiting here: acquire either succeeds at once or returns undefined.
 */
export class KeyedLocks {
  private readonly held = new Set<string>();

  tryAcquire(key: string): (() => void) | undefined {
    if (this.held.has(key)) return undefined;
    this.held.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(key);
    };
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  get size(): number {
    return this.held.size;
  }
}
