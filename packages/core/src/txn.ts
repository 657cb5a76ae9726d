// Transactions: validation, and the commit rules every source store shares — conflict detection
// from baseVersions and conflictKeys, and transform of json1/text ops over edits since the base.
import { StatecraftError } from './errors.ts'
import { show } from './util.ts'
import { applyOp, checkOp, isOTOp, transformOp, undoOp } from './ot.ts'
import { checkValue, isBinary } from './values.ts'
import { checkVersions } from './versions.ts'
import { cloneJson } from './util.ts'
import type { Json, Key, MutateOptions, Op, Txn, Value } from './types.ts'

/** Throws `invalid` unless `txn` is a non-empty Map of string keys to well-formed ops. */
export function checkTxn(txn: unknown): asserts txn is Txn {
  if (!(txn instanceof Map)) throw new StatecraftError('invalid', 'a txn is a Map of key → op')
  if (txn.size === 0) throw new StatecraftError('invalid', 'a txn needs at least one op')
  for (const [k, op] of txn) {
    if (typeof k !== 'string') throw new StatecraftError('invalid', `txn key ${String(k)} is not a string`)
    checkOp(op, () => `op on ${JSON.stringify(k)}`)
  }
}

export function checkMutateOptions(o: unknown): asserts o is MutateOptions {
  if (o === undefined) return
  if (typeof o !== 'object' || o === null) throw new StatecraftError('invalid', 'mutate options must be an object')
  const m = o as Record<string, unknown>
  if (m.baseVersions !== undefined) checkVersions(m.baseVersions, 'baseVersions')
  if (m.conflictKeys !== undefined) {
    if (!Array.isArray(m.conflictKeys) || m.conflictKeys.some(k => typeof k !== 'string')) {
      throw new StatecraftError('invalid', 'conflictKeys must be an array of strings')
    }
  }
  if ((m.clientId === undefined) !== (m.seq === undefined)) {
    throw new StatecraftError('invalid', 'clientId and seq go together')
  }
  if (m.clientId !== undefined && (typeof m.clientId !== 'string' || m.clientId === '')) {
    throw new StatecraftError('invalid', 'clientId must be a non-empty string')
  }
  if (m.seq !== undefined && (typeof m.seq !== 'number' || !Number.isSafeInteger(m.seq) || m.seq < 0)) {
    throw new StatecraftError('invalid', `seq must be a non-negative integer, got ${show(m.seq)}`)
  }
  if (m.meta !== undefined) {
    if (typeof m.meta !== 'object' || m.meta === null || Array.isArray(m.meta)) throw new StatecraftError('invalid', 'meta must be an object')
    checkValue(m.meta, 'meta')
  }
}

/** A private copy of an op, so later changes by the caller cannot reach the store. */
export function cloneOp(op: Op): Op {
  if (op.type === 'set') return { type: 'set', value: isBinary(op.value) ? op.value.slice() : cloneJson(op.value) }
  if (op.type === 'del') return { type: 'del' }
  return { type: op.type, op: cloneJson(op.op as Json) } as Op
}

export const cloneTxn = (txn: Txn): Txn => new Map([...txn].map(([k, op]) => [k, cloneOp(op)]))

/**
 * A txn as handed to a reader (getOps, subscribers): a new Map of the same frozen ops, except that
 * binary `set` values are fresh copies, so a reader changing them cannot change the store's history.
 */
export const shareTxn = (txn: Txn): Txn =>
  new Map([...txn].map(([k, op]) => [k, op.type === 'set' && isBinary(op.value) ? { type: 'set', value: op.value.slice() } : op]))

/** The entries of a txn whose keys pass `keep`, or undefined when none do. */
export function filterTxn(txn: Txn, keep: (k: Key) => boolean): Txn | undefined {
  let out: Txn | undefined
  for (const [k, op] of txn) {
    if (keep(k)) (out ??= new Map()).set(k, op)
  }
  return out
}

/** What a source store knows, synchronously, when it plans a commit. */
export interface CommitSource {
  uid: string
  /** The source's current version. */
  version: number
  /** The last version that wrote `key` (set, del or op), 0 if never. */
  keyVersion(key: Key): number
  /** Ops of versions greater than this are in `opAt`; older ones are gone. */
  historyStart: number
  /** The op the txn of `version` applied to `key`, if any. */
  opAt(version: number, key: Key): Op | undefined
  /** The current value of `key`; undefined when absent. */
  value(key: Key): Value | undefined
}

export interface PlannedTxn {
  /** The txn as it will be applied (OT ops transformed to the current version). */
  txn: Txn
  /** Each key's value after the txn; undefined = absent. */
  values: Map<Key, Value | undefined>
  /** Per key, the op that takes the new value back to the old one. */
  undo: Map<Key, Op>
}

/**
 * Checks a txn against the source's state and works out its effect, changing nothing.
 * Throws `conflict` (a stale set/del, a changed conflict key, unmergeable concurrent edits),
 * `version-too-old` (the ops to transform over are gone) or `invalid` (an op does not fit).
 */
export function planTxn(src: CommitSource, txn: Txn, opts: MutateOptions = {}): PlannedTxn {
  const base = opts.baseVersions?.[src.uid]
  const planned: Txn = new Map()
  if (base !== undefined) {
    if (base > src.version) {
      throw new StatecraftError('invalid', `baseVersions names version ${base} of ${src.uid}, which is at ${src.version}`)
    }
    for (const k of opts.conflictKeys ?? []) {
      if (src.keyVersion(k) > base) {
        throw new StatecraftError('conflict', `${JSON.stringify(k)} changed since version ${base}`, { key: k })
      }
    }
  }
  for (const [k, op] of txn) {
    if (base === undefined || src.keyVersion(k) <= base) {
      planned.set(k, op)
      continue
    }
    if (!isOTOp(op)) {
      throw new StatecraftError('conflict', `${JSON.stringify(k)} was written since version ${base}`, { key: k })
    }
    if (base < src.historyStart) {
      throw new StatecraftError('version-too-old', `the ops on ${JSON.stringify(k)} since version ${base} are no longer kept`, { key: k })
    }
    let cur: Op = op
    for (let v = base + 1; v <= src.version; v++) {
      const other = src.opAt(v, k)
      if (other === undefined) continue
      const t = transformOp(cur, other, 'left')
      if (t === undefined) {
        throw new StatecraftError('conflict', `${JSON.stringify(k)} was ${other.type === 'set' || other.type === 'del' ? 'replaced' : 'edited by another op type'} since version ${base}`, { key: k })
      }
      cur = t
    }
    planned.set(k, cur)
  }
  const values = new Map<Key, Value | undefined>()
  const undo = new Map<Key, Op>()
  for (const [k, op] of planned) {
    const before = src.value(k)
    values.set(k, applyOp(before, op, JSON.stringify(k)))
    undo.set(k, undoOp(before, op))
  }
  return { txn: planned, values, undo }
}
