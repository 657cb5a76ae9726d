// A subscription through the rules. It mirrors the results of the store's own subscription (for a
// range with `limit`, the whole range: the window the connection sees holds the first N keys it may
// read, not the first N keys), judges every key after every txn, and sends only what the
// connection may read: projected txns (see project.ts), and for a limited window the keys that
// enter and leave it. An update with nothing left in it is not sent.
import {
  StatecraftError, applyOp, isLimited, lowerBound, makeSubscription, shareValue,
  type Key, type Op, type Query, type RangeQuery, type Store, type SubscribeOptions, type Subscription, type Txn, type TxnRecord,
  type Update, type Value,
} from '@statecraft/core'
import type { Gate } from './gate.ts'
import { projectOp, recordWith } from './project.ts'
import type { SubscriptionSet } from './subscription-set.ts'

export interface RulesSubscriptionOptions {
  inner: Store
  gate: Gate<unknown>
  query: Query
  options: SubscribeOptions
  subs: SubscriptionSet
  /** Runs before subscribing (the native-query check); a throw ends the subscription with it. */
  before?: () => Promise<void>
}

/** A range query without its limit (the same keys, all of them). */
export function withoutLimit(q: RangeQuery): RangeQuery {
  const out: RangeQuery = { kind: 'range' }
  if (q.from !== undefined) out.from = q.from
  if (q.to !== undefined) out.to = q.to
  if (q.prefix !== undefined) out.prefix = q.prefix
  if (q.reverse !== undefined) out.reverse = q.reverse
  return out
}

export function rulesSubscription(o: RulesSubscriptionOptions): Subscription {
  let inner: Subscription | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const { sub, feed } = makeSubscription(() => {
    inner?.close()
    if (timer !== undefined) clearTimeout(timer)
    o.subs.forget(sub)
  })
  o.subs.add(sub)
  const view = new VisibleView(o.gate, o.query)

  const fail = (e: unknown): void => feed.end(StatecraftError.from(e))

  // A token that expires ends its subscriptions, even idle ones.
  const arm = (): void => {
    const ms = o.gate.expiresIn()
    if (ms === undefined) return
    timer = setTimeout(() => {
      timer = undefined
      try {
        o.gate.checkLive()
        arm()
      } catch (e) {
        fail(e)
      }
    }, ms)
    ;(timer as { unref?: () => void }).unref?.()
  }

  const run = async (): Promise<void> => {
    await o.before?.()
    if (feed.closed) return
    const q = o.query
    const limited = isLimited(q)
    const innerQuery = limited ? withoutLimit(q) : q
    const from = limited ? undefined : o.options.fromVersion
    inner = o.inner.subscribe(innerQuery, from === undefined ? {} : { fromVersion: from })
    arm()
    if (from !== undefined) {
      // The subscriber holds what it could read at `from`; start from the same place.
      const past = await o.inner.fetch(innerQuery, { atVersion: from })
      await view.start(past.results)
    }
    for await (const u of inner) {
      if (feed.closed) return
      o.gate.checkLive()
      const out = await view.step(u)
      if (out !== undefined && !feed.closed) feed.push(out)
    }
    feed.end()
  }
  run().catch(fail)
  return sub
}

/**
 * A key's value after a store's op. It always applies (the store applied it); if it does not, the
 * view has lost step, and the error must not carry the key, which the subscriber may not know.
 */
function advance(before: Value | undefined, op: Op): Value | undefined {
  try {
    return applyOp(before, op)
  } catch {
    throw new StatecraftError('internal', 'the rules view of a subscription lost step with the store')
  }
}

/** The results one connection sees of a query, kept from the store's updates. */
class VisibleView {
  /** Every key of the store's own results, with its value. */
  private mirror = new Map<Key, Value>()
  /** Keys that exist and the connection may read. */
  private readonly visible = new Set<Key>()
  /** For a limited range: the visible keys, sorted. */
  private readonly sorted: Key[] = []
  /** For a limited range: the keys the subscriber holds now (otherwise it holds every visible key). */
  private held = new Set<Key>()
  private started = false
  /** The subscriber has been told `caughtUp` (it waits for that once, even when nothing it may see changed). */
  private toldCaughtUp = false
  private readonly limit: number | undefined
  private readonly reverse: boolean

  constructor(
    private readonly gate: Gate<unknown>,
    query: Query,
  ) {
    this.limit = isLimited(query) ? query.limit : undefined
    this.reverse = query.kind === 'range' && query.reverse === true
  }

  private async readable(k: Key, v: Value | undefined): Promise<boolean> {
    return v !== undefined && (await this.gate.read(k, () => v)) === true
  }

  private setVisible(k: Key, yes: boolean): void {
    if (yes === this.visible.has(k)) return
    if (yes) this.visible.add(k)
    else this.visible.delete(k)
    if (this.limit === undefined) return
    const i = lowerBound(this.sorted, k)
    if (yes) this.sorted.splice(i, 0, k)
    else this.sorted.splice(i, 1)
  }

  /** The keys the subscriber should hold: every visible key (in the store's order), or the first `limit` in query order. */
  private window(): Key[] {
    if (this.limit === undefined) return [...this.mirror.keys()].filter(k => this.visible.has(k))
    if (!this.reverse) return this.sorted.slice(0, this.limit)
    return this.sorted.slice(Math.max(0, this.sorted.length - this.limit)).reverse()
  }

  private async rejudgeAll(): Promise<void> {
    this.visible.clear()
    this.sorted.length = 0
    for (const [k, v] of this.mirror) this.setVisible(k, await this.readable(k, v))
  }

  /** Starts from results the subscriber already holds (resuming from a version). */
  async start(results: Map<Key, Value>): Promise<void> {
    this.mirror = new Map(results)
    await this.rejudgeAll()
    if (this.limit !== undefined) this.held = new Set(this.window())
    this.started = true
  }

  /** What the subscriber gets for the store's update `u`, or undefined for nothing. */
  async step(u: Update): Promise<Update | undefined> {
    if (u.replace !== undefined || !this.started) return this.replace(u)
    const txns: TxnRecord[] = []
    for (const rec of u.txns) {
      const txn: Txn = new Map()
      let leftOut = false
      for (const [k, op] of rec.txn) {
        const before = this.mirror.get(k)
        const after = advance(before, op)
        const visibleBefore = this.visible.has(k)
        const visibleAfter = await this.readable(k, after)
        if (after === undefined) this.mirror.delete(k)
        else this.mirror.set(k, after)
        this.setVisible(k, visibleAfter)
        const p = projectOp(op, before, after, visibleBefore, visibleAfter)
        if (p === undefined) leftOut = true
        else txn.set(k, p)
      }
      if (txn.size > 0) txns.push(recordWith(rec, txn, leftOut))
    }
    // The store's subscription has no limit, so it sends no leave or enter; take them as writes.
    const leaving: Key[] = []
    const entering = new Map<Key, Value>()
    for (const k of u.leave ?? []) {
      if (this.visible.has(k)) leaving.push(k)
      this.mirror.delete(k)
      this.setVisible(k, false)
    }
    for (const [k, v] of u.enter ?? []) {
      this.mirror.set(k, v)
      const yes = await this.readable(k, v)
      this.setVisible(k, yes)
      if (yes) entering.set(k, shareValue(v))
    }
    if (this.limit === undefined) return this.update(u, txns, leaving, entering)
    return this.windowStep(u, txns)
  }

  /** The window's share of a step: ops for keys it holds and keeps (or that are gone), leave, enter. */
  private windowStep(u: Update, projected: TxnRecord[]): Update | undefined {
    const before = this.held
    const after = this.window()
    const afterSet = new Set(after)
    const kept = new Set<Key>()
    const txns: TxnRecord[] = []
    for (const rec of projected) {
      let txn: Txn | undefined
      for (const [k, op] of rec.txn) {
        if (!before.has(k) || (!afterSet.has(k) && this.visible.has(k))) continue
        ;(txn ??= new Map()).set(k, op)
        kept.add(k)
      }
      if (txn !== undefined) txns.push(rec.meta === undefined ? { versions: rec.versions, txn } : { versions: rec.versions, txn, meta: rec.meta })
    }
    const leave = [...before].filter(k => !afterSet.has(k) && !kept.has(k))
    const enter = new Map<Key, Value>()
    for (const k of after) if (!before.has(k)) enter.set(k, shareValue(this.mirror.get(k) as Value))
    this.held = afterSet
    return this.update(u, txns, leave, enter)
  }

  private update(u: Update, txns: TxnRecord[], leave: Key[], enter: Map<Key, Value>): Update | undefined {
    if (txns.length === 0 && leave.length === 0 && enter.size === 0) {
      // A subscription resumed at the current version: the store's first update is only its
      // caught-up mark. Dropping it left the subscriber waiting for it forever (a client that went
      // offline and back saw no update until someone wrote; found by the demo's e2e tests).
      if (!u.caughtUp || this.toldCaughtUp) return undefined
      this.toldCaughtUp = true
      return { txns: [], versions: u.versions, caughtUp: true }
    }
    if (u.caughtUp) this.toldCaughtUp = true
    return {
      txns,
      ...(leave.length > 0 ? { leave } : {}),
      ...(enter.size > 0 ? { enter } : {}),
      versions: u.versions,
      caughtUp: u.caughtUp,
    }
  }

  private async replace(u: Update): Promise<Update> {
    const m = new Map(u.replace ?? this.mirror)
    for (const rec of u.txns) {
      for (const [k, op] of rec.txn) {
        const v = advance(m.get(k), op)
        if (v === undefined) m.delete(k)
        else m.set(k, v)
      }
    }
    for (const k of u.leave ?? []) m.delete(k)
    for (const [k, v] of u.enter ?? []) m.set(k, v)
    this.mirror = m
    await this.rejudgeAll()
    const held = this.window()
    if (this.limit !== undefined) this.held = new Set(held)
    this.started = true
    const replace = new Map<Key, Value>()
    for (const k of held) replace.set(k, shareValue(this.mirror.get(k) as Value))
    if (u.caughtUp) this.toldCaughtUp = true
    return { replace, txns: [], versions: u.versions, caughtUp: u.caughtUp }
  }
}
