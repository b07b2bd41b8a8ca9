// Retry delays for everything the agent retries: the hub connection and long-lived tool
// processes. Exponential, capped, with jitter so a fleet of agents that lost the same hub
// (or a board full of tools that died together) does not retry in lockstep.

export interface BackoffOptions {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** Longest delay between retries. */
  readonly maxMs: number;
  readonly factor: number;
  /** Share of the delay to vary at random either way: 0.2 = ±20 %. */
  readonly jitter: number;
  /** A run at least this long counts as healthy: the next delay starts again from initialMs. */
  readonly healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.2, healthyAfterMs: 30_000 };

/** Delay before retry number `failures + 1`; `random` returns [0, 1). */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, failures));
  const jittered = base * (1 - options.jitter + 2 * options.jitter * random());
  return Math.round(Math.max(0, Math.min(options.maxMs, jittered)));
}

/** The same schedule with its failure count kept: next() after each failure, reset() after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return backoffDelay(this.failures++, this.options, this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}
