// Exponential backoff with full jitter: after a hub restart, a fleet of agents spreads its
// reconnects over the window instead of arriving in one wave.
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs = 500,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next try: uniform in [minMs, min(maxMs, minMs · 2^attempt)]. */
  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    if (cap < this.maxMs) this.attempt++;
    return Math.round(this.minMs + this.random() * (cap - this.minMs));
  }

  reset(): void {
    this.attempt = 0;
  }
}
