// One document as the client sees it: the server state (value + the versions it is at), the
// pending writes on it in order, and the local value = server state + pending ops. Remote ops
// transform the pending ops (and pending ops transform the remote op) with the server's sides;
// the client's own ops are recognised in the stream by their {clientId, seq} and folded in.
// A text doc's server state and local value are each a TextRope edited in place (an edit costs
// O(log n + k), not a copy of the text); a string is made only when asked for (`server`, `local`).
import { StatecraftError, TextRope, applyOp, composeOps, isOTOp, transformOp, undoOp, valuesEqual } from '@statecraft/core'
import type { Json, Key, Op, Update, Value, Versions } from '@statecraft/core'
import { jsonDiffOp } from './json-diff.ts'
import { textDiffOp } from './text-diff.ts'

/** A write waiting for the server: one outbox entry. */
export interface PendingEntry {
  /** Outbox position (assigned when first persisted; 0 before). */
  order: number
  clientId: string
  /** Assigned with `order`. */
  seq: number
  /**
   * The ops, transformed as remote ops arrive. Read an entry's op through `settle` (or
   * `DocState.opOf`): writes composed into it may still wait in `parts`.
   */
  txn: Map<Key, Op>
  /**
   * Writes made after the op in `txn` (a single-key entry, all of that op's OT type), not yet
   * composed into it: composing per keystroke walks an op that grows with the entry, so they are
   * composed when the op is needed (persisting, sending, transforming), in a balanced tree.
   */
  parts: Op[]
  /** Writes in this entry (its size cap: a long offline session becomes several entries). */
  writes: number
  /** Sent at least once: the server may have applied it, so its ops may no longer be composed into. */
  sent: boolean
  inflight: boolean
  /** The versions the server acknowledged it at. */
  acked: Versions | undefined
  /** Versions of a snapshot taken while this was sent but unanswered: an ack at or below them means it is inside. */
  maybeIn: Versions | undefined
  /** Keys whose op is part of the server state now (seen in the stream, or inside a snapshot). */
  folded: Set<Key>
  /**
   * Could not be rebased over a remote change: sent based on this version so that it fails with
   * `conflict` (`{}` = version 0 of the source, for a doc never read).
   */
  stuckAt: Versions | undefined
  /** Bumped by each user change (creation, compose); a write is sent only once that change is durable. */
  userRev: number
  persistedRev: number
  /** The one promise every write in this entry returned (none for entries restored from the cache). */
  deferred: Deferred | undefined
  settled: boolean
}

export interface Deferred {
  promise: Promise<Versions>
  resolve: (v: Versions) => void
  reject: (e: unknown) => void
}

export function deferred(): Deferred {
  let resolve!: (v: Versions) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<Versions>((res, rej) => {
    resolve = res
    reject = rej
  })
  // The caller may not wait for it; failures also reach onError / the log.
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** Composes ops (each applying after the previous) as a balanced tree: O(n log n) in their sizes, not O(n²). */
export function composeAll(ops: Op[]): Op {
  let level = ops
  while (level.length > 1) {
    const next: Op[] = []
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Op
      const b = level[i + 1]
      next.push(b === undefined ? a : (composeOps(a, b) ?? fail()))
    }
    level = next
  }
  return level[0] as Op
}

function fail(): never {
  throw new Error('statecraft client: parts of one outbox entry did not compose (a bug)')
}

/** Composes the writes waiting in `e.parts` into its op. */
export function settle(e: PendingEntry): void {
  if (e.parts.length === 0) return
  for (const [key, head] of e.txn) {
    e.txn.set(key, composeAll([head, ...e.parts]))
    break
  }
  e.parts = []
}

export interface DocSnapshot<T = Value> {
  value: T | undefined
  exists: boolean
  /** Local writes not yet part of the server state. */
  pending: boolean
  /** The server state shown comes from the cache and has not been confirmed by the server in this session. */
  fromCache: boolean
}

export type DocListener = (op: Op | undefined) => void

/**
 * transformOp, with a transform that throws (json1 refuses some concurrent edits, e.g. two inserts at
 * one key) treated like one that cannot be done: the server refuses the same pair the same way.
 */
function tryTransform(op: Op, other: Op, side: 'left' | 'right'): Op | undefined {
  try {
    return transformOp(op, other, side)
  } catch {
    return undefined
  }
}

/** A value as a DocState holds it: text docs as ropes. */
type Held = Value | TextRope | undefined

const valueOf = (h: Held): Value | undefined => (h instanceof TextRope ? h.toString() : h)

/** A copy that may be edited in place without changing `h` (ropes share their leaves until edited). */
const copyOf = (h: Held): Held => (h instanceof TextRope ? h.clone() : h)

/**
 * `op` applied to `h`. A text op edits a rope in place (a string or nothing becomes one first) and
 * changes nothing when it does not fit (`invalid`), as applyOp would; other ops go to applyOp.
 */
function applyHeld(h: Held, op: Op, key: Key): Held {
  if (op.type === 'text' && (h === undefined || typeof h === 'string' || h instanceof TextRope)) {
    const r = h instanceof TextRope ? h : new TextRope(h)
    try {
      r.apply(op.op)
    } catch (e) {
      throw e instanceof StatecraftError ? new StatecraftError(e.code, `${key}: ${e.message}`) : e
    }
    return r
  }
  // A set or del does not read the value it replaces (a text's string is not built for it).
  return applyOp(op.type === 'set' || op.type === 'del' ? undefined : valueOf(h), op, key)
}

/** What happened to a remote op as it went through the pending ops: its form on the local value, or 'recompute'. */
type Chain = { kind: 'op'; op: Op } | { kind: 'noop' } | { kind: 'broken' }

export class DocState {
  private serverHeld: Held = undefined
  private localHeld: Held = undefined
  /** The versions the server state is at; undefined until the doc is known (never read: writes are blind). */
  versions: Versions | undefined = undefined
  fromCache = false
  /** Entries with an op on this key that is not yet in the server state, in send order. */
  pending: PendingEntry[] = []
  /** Updates waiting (a snapshot waits while a sent write's fate is unknown). */
  inbox: Update[] = []
  /** The client is working through `inbox` (an update pushed meanwhile waits there for it). */
  processing = false
  /** Subscribed whenever online (opened by the app, written, or holding pending writes from the cache). */
  live = false
  /** The current session's subscription has caught up. */
  caughtUp = false
  /** The subscription must restart without fromVersion (a write came back version-too-old). */
  resync = false
  readonly listeners = new Set<DocListener>()
  /**
   * The cache (see the client's flushLoop): the server state changed since the cached snapshot by
   * something other than this client's own ops (a remote op, a snapshot, a query's row), so an
   * outbox entry made now is only valid together with a new snapshot of the doc.
   */
  cacheForeign = false
  /** Orders of finished entries whose ops are in the server state but maybe not in the cached snapshot. */
  cacheRemovals: number[] = []
  /** local = server + every pending op, none skipped: remote ops can be applied to it incrementally. */
  private clean = true

  constructor(readonly key: Key) {}

  get known(): boolean {
    return this.versions !== undefined
  }

  /** The server state (the value at `versions`). */
  get server(): Value | undefined {
    return valueOf(this.serverHeld)
  }

  set server(v: Value | undefined) {
    this.serverHeld = v
  }

  /** The local value: server state + pending writes. */
  get local(): Value | undefined {
    return valueOf(this.localHeld)
  }

  /** The local value's length in code points when it is a text (0 otherwise), without building it. */
  get textLength(): number {
    const h = this.localHeld
    return h instanceof TextRope ? h.length : typeof h === 'string' ? new TextRope(h).length : 0
  }

  snapshot<T = Value>(): DocSnapshot<T> {
    return { value: this.local as T | undefined, exists: this.localHeld !== undefined, pending: this.pending.length > 0, fromCache: this.fromCache }
  }

  opOf(e: PendingEntry): Op {
    if (e.parts.length > 0) settle(e)
    return e.txn.get(this.key) as Op
  }

  notify(op: Op | undefined): void {
    for (const l of this.listeners) l(op)
  }

  /** Local value = server state + every pending op (ops that no longer fit are skipped: they will fail at the server). */
  recompute(): void {
    let v = copyOf(this.serverHeld)
    let clean = true
    for (const e of this.pending) {
      try {
        v = applyHeld(v, this.opOf(e), this.key)
      } catch {
        // A stuck op that no longer applies: the server will refuse it too, and it is then dropped.
        clean = false
      }
    }
    this.localHeld = v
    this.clean = clean
  }

  /** Applies a local op to the local value (throws `invalid` when it does not fit). */
  applyLocal(op: Op): void {
    this.localHeld = applyHeld(this.localHeld, op, this.key)
  }

  /** After a pending op was removed without a matching server op: rebuild the local value. */
  get isClean(): boolean {
    return this.clean
  }

  /** A remote op, committed at `versions`: into the server state, through the pending ops, onto the local value. */
  applyRemote(op: Op, versions: Versions): Op | undefined {
    const before = this.versions
    this.serverHeld = applyHeld(this.serverHeld, op, this.key)
    this.versions = versions
    const chain = this.transformPending(op, before)
    if (chain.kind === 'op' && this.clean) {
      try {
        this.localHeld = applyHeld(this.localHeld, chain.op, this.key)
        return chain.op
      } catch {
        this.recompute()
        return undefined
      }
    }
    if (chain.kind !== 'noop' || !this.clean) this.recompute()
    return undefined
  }

  /**
   * Transforms each pending op over `r` (side 'left', as the server transforms a stale op) and `r`
   * over each (side 'right'). An op that cannot be transformed (a set/del on either side) is stuck.
   */
  private transformPending(r: Op, before: Versions | undefined): Chain {
    if (this.pending.length === 0) return { kind: 'op', op: r }
    let chain: Chain = { kind: 'op', op: r }
    for (const e of this.pending) {
      if (chain.kind === 'noop') break
      const p = this.opOf(e)
      if (e.stuckAt !== undefined) {
        chain = { kind: 'broken' }
        continue
      }
      if (chain.kind === 'broken') {
        // An earlier op was lost in this chain; this one was made on top of it and cannot be placed.
        e.stuckAt = before ?? {}
        continue
      }
      if (!isOTOp(p)) {
        // A set/del replaces whatever came before: it stands unless it was based on a known state.
        if (before !== undefined) e.stuckAt = before
        chain = { kind: 'noop' }
        continue
      }
      const t = tryTransform(p, chain.op, 'left')
      const rt = tryTransform(chain.op, p, 'right')
      if (t === undefined || rt === undefined) {
        // A blind edit (doc never read) is stuck at "version 0" ({}: the client fills in the source).
        e.stuckAt = before ?? {}
        chain = { kind: 'broken' }
        continue
      }
      e.txn.set(this.key, t)
      chain = { kind: 'op', op: rt }
    }
    return chain
  }

  /** Our own op came back from the server (as the server applied it). */
  fold(e: PendingEntry, op: Op, versions: Versions): void {
    const i = this.pending.indexOf(e)
    const mine = i >= 0 ? this.opOf(e) : undefined
    this.serverHeld = applyHeld(this.serverHeld, op, this.key)
    this.versions = versions
    if (i >= 0) this.pending.splice(i, 1)
    // Normally the server applied exactly our transformed op, at the head: the local value stands.
    if (i !== 0 || mine === undefined || !this.clean || !opsEqual(mine, op)) this.recompute()
  }

  /**
   * A snapshot of the server state (a fresh subscription, or a resubscribe after the history window
   * was passed): pending ops are rebased over the difference from the old server state to it.
   */
  replace(value: Value | undefined, versions: Versions): void {
    const old = valueOf(this.serverHeld)
    const oldVersions = this.versions
    this.serverHeld = value
    this.versions = versions
    const d = diffOp(old, value, this.pending.map(e => this.opOf(e)))
    if (d !== undefined) this.transformPending(d, oldVersions)
    else if (!valuesEqual(old, value)) {
      // No op of the pending ops' type takes old to new: pending ops based on a known state conflict.
      for (const e of this.pending) if (oldVersions !== undefined && e.stuckAt === undefined) e.stuckAt = oldVersions
    }
    this.recompute()
  }

  /** Removes a failed entry: later pending ops are transformed over its undo, then the local value is rebuilt. */
  drop(e: PendingEntry): void {
    const i = this.pending.indexOf(e)
    if (i < 0) return
    let before = copyOf(this.serverHeld)
    for (let j = 0; j < i; j++) {
      try {
        before = applyHeld(before, this.opOf(this.pending[j] as PendingEntry), this.key)
      } catch {
        // skipped, as in recompute
      }
    }
    const op = this.opOf(e)
    this.pending.splice(i, 1)
    let undo: Op | undefined
    try {
      if (before instanceof TextRope && op.type === 'text') undo = { type: 'text', op: before.invert(op.op) }
      else {
        const b = valueOf(before)
        applyOp(b, op, this.key)
        undo = undoOp(b, op)
      }
    } catch {
      undo = undefined
    }
    if (undo !== undefined && isOTOp(undo)) {
      let u: Op | undefined = undo
      for (const later of this.pending.slice(i)) {
        if (u === undefined) break
        const p = this.opOf(later)
        const t = tryTransform(p, u, 'left')
        const ut = tryTransform(u, p, 'right')
        if (t === undefined) break
        later.txn.set(this.key, t)
        u = ut
      }
    }
    this.recompute()
  }
}

/** Structural equality of two ops (no string building: ops of a big batch are compared often). */
export function opsEqual(a: Op, b: Op): boolean {
  return a === b || (a.type === b.type && valuesEqual(a as unknown as Value, b as unknown as Value))
}

/**
 * An op of the pending ops' OT type taking `a` to `b`, or undefined when the values are equal, there
 * are no pending OT ops, or no such op exists (different types).
 */
export function diffOp(a: Value | undefined, b: Value | undefined, pending: Op[]): Op | undefined {
  if (valuesEqual(a, b)) return undefined
  const ot = pending.find(isOTOp)
  if (ot === undefined) return undefined
  if (ot.type === 'text') {
    if ((a !== undefined && typeof a !== 'string') || (b !== undefined && typeof b !== 'string')) return undefined
    return { type: 'text', op: textDiffOp(a ?? '', b ?? '') }
  }
  if (ot.type === 'json1') {
    if (a instanceof Uint8Array || b instanceof Uint8Array) return undefined
    return { type: 'json1', op: jsonDiffOp(a as Json | undefined, b as Json | undefined) }
  }
  return undefined
}
