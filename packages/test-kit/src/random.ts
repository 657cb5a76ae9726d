// A small seeded random generator (mulberry32) for reproducible fuzz cases, and a wrapper that
// names the seed in the message of any failure.

export interface Rng {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  pick<T>(xs: readonly T[]): T
}

export function rng(seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    pick: <T>(xs: readonly T[]): T => {
      if (xs.length === 0) throw new Error('pick from an empty list')
      return xs[int(xs.length)] as T
    },
  }
}

/** A seed from STATECRAFT_SEED when set (to replay a failure), else a random one. */
export function chooseSeed(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.STATECRAFT_SEED
  if (env !== undefined && env !== '' && Number.isSafeInteger(Number(env))) return Number(env)
  return Math.floor(Math.random() * 2 ** 31)
}

/** Runs `fn` with a seeded generator; a failure's message starts with the seed to replay it with. */
export async function withSeed(seed: number, fn: (r: Rng) => Promise<void>): Promise<void> {
  try {
    await fn(rng(seed))
  } catch (e) {
    if (e instanceof Error) e.message = `[seed ${seed}; replay with STATECRAFT_SEED=${seed}] ${e.message}`
    throw e
  }
}
