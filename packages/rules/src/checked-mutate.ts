// A write checked against the values it reads and leaves, then committed only if nothing changed in
// between. Rules that look at values and schemas both need this: the Store interface has no hook
// inside a commit, so the proxy reads the keys at versions V, works out each key's op as it will
// apply at V (transforming json1/text ops over the edits since the writer's base, as the store
// would), runs the check, and commits with baseVersions V and every key as a conflict key. A change
// after V is a conflict, and the whole thing runs again.
import {
  StatecraftError, applyOp, hasCode, isOTOp, keys, transformOp,
  type Key, type MutateOptions, type Op, type Store, type Txn, type TxnRecord, type Value, type Versions,
} from '@statecraft/core'

/** One key of a write as it will apply at the versions read. */
export interface PlannedWrite {
  key: Key
  /** The op as it will apply to `oldValue` (already transformed over edits since the base). */
  op: Op
  oldValue: Value | undefined
  /** The value the op leaves; throws `invalid` when the op does not fit `oldValue`. Computed once. */
  newValue(): Value | undefined
}

export interface WritePlan {
  writes: Map<Key, PlannedWrite>
  /** The current values of the conflict keys (the transaction's read set). */
  reads: Map<Key, Value | undefined>
  /** The versions the plan was made at. */
  versions: Versions
}

/** Checks a plan; throws (forbidden, invalid) to refuse the write. */
export type WriteCheck = (plan: WritePlan) => Promise<void>

const MAX_ATTEMPTS = 20

/**
 * Before another attempt: a store that commits in groups (LevelDB) plans writes against txns not
 * yet visible to reads, so re-reading at once can see the same stale versions again and again
 * while others keep writing (two people typing in one text). A short, growing pause lets the
 * queued commits become visible. Found by the demo's end-to-end test of concurrent typing.
 */
const backoff = (attempt: number): Promise<void> => new Promise(r => setTimeout(r, Math.min(1 << attempt, 50)))

const conflict = (key: Key, base: number | undefined): StatecraftError =>
  new StatecraftError('conflict', `${JSON.stringify(key)} changed since version ${base ?? '?'}`, { key })

function plannedWrite(key: Key, op: Op, oldValue: Value | undefined): PlannedWrite {
  let done = false
  let value: Value | undefined
  let error: unknown
  return {
    key,
    op,
    oldValue,
    newValue() {
      if (!done) {
        done = true
        try {
          value = applyOp(oldValue, op, JSON.stringify(key))
        } catch (e) {
          error = e
        }
      }
      if (error !== undefined) throw error
      return value
    },
  }
}

/** Which of `o`'s options go to the store untouched. */
function passOn(o: MutateOptions): MutateOptions {
  const out: MutateOptions = {}
  if (o.clientId !== undefined) out.clientId = o.clientId
  if (o.seq !== undefined) out.seq = o.seq
  if (o.meta !== undefined) out.meta = o.meta
  return out
}

/**
 * Plans `txn`, runs `check` on the plan, and commits it only if the keys it read did not change
 * meanwhile. Conflicts the writer would get from the store (a stale set/del, a changed conflict
 * key) are reported only after `check` passes, so a refused writer learns nothing of keys it may
 * not touch. Expects `txn` and `o` already validated.
 */
export async function checkedMutate(store: Store, txn: Txn, o: MutateOptions, check: WriteCheck): Promise<Versions> {
  const conflictKeys = o.conflictKeys ?? []
  const all = [...new Set([...txn.keys(), ...conflictKeys])]
  const base = o.baseVersions
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const now = await store.fetch(keys(...all))
    const at = now.versions
    const ops = new Map(txn)
    let writerConflict: StatecraftError | undefined
    /** Set when the ops since the base are gone (or the store keeps none): let the store judge. */
    let noHistory: StatecraftError | undefined
    if (base !== undefined) {
      const from: Versions = { ...at }
      let stale = false
      for (const [src, v] of Object.entries(base)) {
        const cur = at[src]
        if (cur === undefined) continue
        if (v > cur) throw new StatecraftError('invalid', `baseVersions names version ${v} of ${src}, which is at ${cur}`)
        if (v < cur) {
          from[src] = v
          stale = true
        }
      }
      if (stale) {
        let records: TxnRecord[] = []
        try {
          records = await store.getOps(keys(...all), from, at)
        } catch (e) {
          if (!(e instanceof StatecraftError) || (e.code !== 'version-too-old' && e.code !== 'unsupported')) throw e
          noHistory = e
        }
        const baseOf = (): number | undefined => Object.values(base)[0]
        const touched = new Set<Key>()
        for (const r of records) for (const k of r.txn.keys()) touched.add(k)
        for (const k of conflictKeys) if (touched.has(k)) writerConflict ??= conflict(k, baseOf())
        for (const [k, op] of txn) {
          if (!touched.has(k)) continue
          if (!isOTOp(op)) {
            writerConflict ??= conflict(k, baseOf())
            continue
          }
          let cur: Op | undefined = op
          for (const r of records) {
            const other = r.txn.get(k)
            if (other === undefined) continue
            cur = transformOp(cur, other, 'left')
            if (cur === undefined) break
          }
          if (cur === undefined) writerConflict ??= conflict(k, baseOf())
          else ops.set(k, cur)
        }
      }
    }
    const writes = new Map<Key, PlannedWrite>()
    for (const [k, op] of ops) writes.set(k, plannedWrite(k, op, now.results.get(k)))
    const reads = new Map<Key, Value | undefined>()
    for (const k of conflictKeys) reads.set(k, now.results.get(k))
    const writerFails = (): Promise<Versions> => {
      const err = writerConflict as StatecraftError
      // A re-sent write ({clientId, seq}) may have been applied already: only the store knows.
      // Naming the changed key as a conflict key guarantees it cannot apply now.
      if (o.clientId !== undefined && o.seq !== undefined) {
        return store.mutate(txn, { ...o, conflictKeys: [...conflictKeys, err.details?.key as Key] })
      }
      return Promise.reject(err)
    }
    try {
      await check({ writes, reads, versions: at })
      // Every op must apply (a check need not look at every new value).
      if (writerConflict === undefined) for (const w of writes.values()) w.newValue()
    } catch (e) {
      // An op that does not fit a value it was never going to apply to: the conflict is the news.
      if (writerConflict !== undefined && hasCode(e, 'invalid')) return writerFails()
      throw e
    }
    if (writerConflict !== undefined) return writerFails()
    if (noHistory !== undefined) {
      // The ops were checked as they apply now; with every key a conflict key on the writer's own
      // base, the store applies them only if nothing changed since that base, so as checked.
      try {
        return await store.mutate(txn, { ...o, conflictKeys: all })
      } catch (e) {
        if (e instanceof StatecraftError && e.code === 'conflict' && [...txn.values()].some(isOTOp)) throw noHistory
        throw e
      }
    }
    try {
      return await store.mutate(ops, { ...passOn(o), baseVersions: at, conflictKeys: all })
    } catch (e) {
      if (e instanceof StatecraftError && e.code === 'conflict') {
        await backoff(attempt)
        continue
      }
      throw e
    }
  }
  throw new StatecraftError('conflict', `the keys of this write kept changing while it was checked (${MAX_ATTEMPTS} tries); retry it`)
}
