// Small numeric helpers: medians of runs, percentiles of samples, formatting.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
export const median = (xs: number[]): number => percentile(xs, 50)

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  if (p === 50) {
    const m = Math.floor(s.length / 2)
    return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
  }
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number
}

export const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))
export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')
export const fmtMs = (n: number): string => (!Number.isFinite(n) ? '—' : n >= 100 ? `${n.toFixed(0)} ms` : n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`)
export const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—')
export const fmtBytes = (n: number): string => (!Number.isFinite(n) ? '—' : n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`)

/**
 * The median of the per-run ratios a[i] / b[i] (runs paired by index: run i of both systems ran
 * back to back, under the same load), over the runs both have. NaN when there is none.
 */
export function pairedRatio(a: number[], b: number[]): number {
  const xs: number[] = []
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as number
    const y = b[i] as number
    if (Number.isFinite(x) && Number.isFinite(y) && y > 0) xs.push(x / y)
  }
  return median(xs)
}

const gcFn = ((): (() => void) | undefined => {
  setFlagsFromString('--expose-gc')
  const f: unknown = runInNewContext('gc')
  return typeof f === 'function' ? (f as () => void) : undefined
})()

/** A full gc in this process (between runs, so that no run pays for the garbage of the one before). */
export function collect(): void {
  gcFn?.()
  gcFn?.()
}

/**
 * Waits until this process is idle: 1 ms timers until one fires on time (within 0.5 ms), at most
 * `maxMs`. Between two measured operations of different systems, so that the work one leaves
 * behind (acks, cache writes) does not land in the other's measurement.
 */
export async function settle(maxMs = 50): Promise<void> {
  const until = performance.now() + maxMs
  for (;;) {
    const t = performance.now()
    await sleep(1)
    const late = performance.now() - t - 1
    if (late < 0.5 || performance.now() > until) return
  }
}

/** CPU time this process has used (user + system, every thread), µs. */
export function cpuMicros(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}
