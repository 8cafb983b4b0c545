// Reconnect delays: exponential, capped, and jittered so that thousands of clients cut
// off by the same restart do not all come back in the same instant.

export interface BackoffOptions {
  /** the first delay's ceiling (default 500 ms) */
  initialMs?: number;
  /** no delay is longer (default 30 s) */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 } as const;

/**
 * The delay before retry number `attempt` (0 = the first retry): uniformly random in
 * [ceiling / 2, ceiling], where ceiling = min(maxMs, initialMs · 2^attempt). Half of it is
 * kept fixed ("equal jitter"), so a retry never comes at once after a failure.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = Math.max(1, options.initialMs ?? DEFAULT_BACKOFF.initialMs);
  const max = Math.max(initial, options.maxMs ?? DEFAULT_BACKOFF.maxMs);
  // 2 ** 1024 is Infinity: clamp the exponent before it matters
  const ceiling = Math.min(max, initial * 2 ** Math.min(Math.max(0, attempt), 52));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Counts failures since the last success and says how long to wait. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next try; each call counts one more failure. */
  next(): number {
    return backoffDelay(this.failures++, this.options, this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}
