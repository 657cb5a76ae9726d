// Reconnect delays: exponential with jitter, so clients of a restarted server do not return at once.

export interface Backoff {
  /** First delay. Default 100 ms. */
  minDelayMs?: number
  /** Cap. Default 10 s. */
  maxDelayMs?: number
}

/** The delay before reconnect attempt `attempt` (0-based): half to all of min × 2^attempt, capped. */
export function backoffDelay(attempt: number, b: Backoff = {}, random: () => number = Math.random): number {
  const min = b.minDelayMs ?? 100
  const max = b.maxDelayMs ?? 10_000
  const full = Math.min(max, min * 2 ** Math.min(attempt, 30))
  return full / 2 + (random() * full) / 2
}
