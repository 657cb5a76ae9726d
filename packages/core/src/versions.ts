// Versions: `{ [sourceUid]: version }`, one entry per source a result spans.
import { StatecraftError } from './errors.ts'
import type { Versions } from './types.ts'

/** The version of one source in `v`, or undefined when `v` says nothing of it. */
export function versionOf(v: Versions | undefined, source: string): number | undefined {
  return v === undefined ? undefined : v[source]
}

/** Throws `invalid` unless every entry is a non-negative safe integer. */
export function checkVersions(v: unknown, where = 'versions'): asserts v is Versions {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new StatecraftError('invalid', `${where} must be an object of { sourceUid: version }`)
  }
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new StatecraftError('invalid', `${where}.${k} must be a non-negative integer, got ${String(n)}`)
    }
  }
}

/** Entry-wise maximum. */
export function maxVersions(a: Versions, b: Versions): Versions {
  const out: Versions = { ...a }
  for (const [k, n] of Object.entries(b)) if ((out[k] ?? -1) < n) out[k] = n
  return out
}

/** True when every source in `b` is at or below its version in `a`. A plain loop: clients call it per received update. */
export function versionsAtLeast(a: Versions, b: Versions): boolean {
  for (const k in b) if ((a[k] ?? 0) < (b[k] as number)) return false
  return true
}

/**
 * The version of `source` a read asks for in `vs` (`current` when it names none). Throws `invalid`
 * when it is ahead of `current`, `version-too-old` when it is before the kept history.
 */
export function readVersion(vs: Versions | undefined, source: string, current: number, historyStart: number, what: string): number {
  if (vs === undefined) return current
  checkVersions(vs, what)
  const v = vs[source]
  if (v === undefined) return current
  if (v > current) throw new StatecraftError('invalid', `${what} names version ${v}; the store is at ${current}`)
  if (v < historyStart) {
    throw new StatecraftError('version-too-old', `version ${v} is outside the kept history (from ${historyStart})`)
  }
  return v
}

/** Throws `invalid` when `minVersion` names a version of `source` ahead of `current` (a source cannot wait for itself). */
export function checkMinVersion(minVersion: Versions | undefined, source: string, current: number): void {
  if (minVersion === undefined) return
  checkVersions(minVersion, 'minVersion')
  const want = minVersion[source]
  if (want !== undefined && want > current) {
    throw new StatecraftError('invalid', `minVersion ${want} is ahead of the store, at ${current}`)
  }
}
