// Reading a Subscription in tests: one iterator per subscription, every wait bounded by a timeout
// that fails with a clear message, and keeping a local view in step with a fresh fetch.
import { expect } from 'vitest'
import { StatecraftError, applyUpdate } from '@statecraft/core'
import type { Key, Query, Store, Subscription, SubscribeOptions, TxnRecord, Update, Value } from '@statecraft/core'
import { describeValue, sortedEntries, testKitConfig } from './helpers.ts'

const TIMEOUT: unique symbol = Symbol('timeout')
const DONE: unique symbol = Symbol('done')

interface Reader {
  /** The next update, DONE when iteration finished, TIMEOUT when none came in time. */
  next(timeoutMs: number): Promise<Update | typeof DONE | typeof TIMEOUT>
}

const readers = new WeakMap<Subscription, Reader>()

/** The reader of a subscription: its iterator is taken once; a read that timed out stays pending for the next. */
function reader(sub: Subscription): Reader {
  let r = readers.get(sub)
  if (r !== undefined) return r
  const it = sub[Symbol.asyncIterator]()
  let pending: Promise<IteratorResult<Update>> | undefined
  r = {
    async next(timeoutMs) {
      if (pending === undefined) {
        pending = it.next()
        // A read abandoned by a failed test may reject later; that is not an unhandled rejection.
        pending.catch(() => {})
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<typeof TIMEOUT>(resolve => {
        timer = setTimeout(() => resolve(TIMEOUT), timeoutMs)
      })
      try {
        const res = await Promise.race([pending, timeout])
        if (res === TIMEOUT) return TIMEOUT
        pending = undefined
        return res.done === true ? DONE : res.value
      } catch (e) {
        pending = undefined
        throw e
      } finally {
        clearTimeout(timer)
      }
    },
  }
  readers.set(sub, r)
  return r
}

const summary = (u: Update): string => {
  const parts: string[] = []
  if (u.replace !== undefined) parts.push(`replace [${[...u.replace.keys()].map(k => JSON.stringify(k)).join(', ')}]`)
  for (const t of u.txns) parts.push(`txn@${describeValue(t.versions)} [${[...t.txn.keys()].map(k => JSON.stringify(k)).join(', ')}]`)
  if (u.leave !== undefined) parts.push(`leave [${u.leave.map(k => JSON.stringify(k)).join(', ')}]`)
  if (u.enter !== undefined) parts.push(`enter [${[...u.enter.keys()].map(k => JSON.stringify(k)).join(', ')}]`)
  return `{${parts.join('; ')} @${describeValue(u.versions)}}`
}

/** Reads the next update; fails when none comes within `timeoutMs` or the subscription ends. */
export async function nextUpdate(sub: Subscription, timeoutMs = testKitConfig.timeoutMs): Promise<Update> {
  const u = await reader(sub).next(timeoutMs)
  if (u === TIMEOUT) return expect.fail(`timed out after ${timeoutMs}ms waiting for a subscription update`)
  if (u === DONE) return expect.fail('the subscription ended while an update was expected')
  return u
}

/** Reads an update if one comes within `timeoutMs`: undefined on timeout, 'done' when iteration ended. */
export async function maybeUpdate(sub: Subscription, timeoutMs: number): Promise<Update | 'done' | undefined> {
  const u = await reader(sub).next(timeoutMs)
  return u === TIMEOUT ? undefined : u === DONE ? 'done' : u
}

/** Reads `n` updates from a subscription, failing with a clear message after `timeoutMs` in all. */
export async function collect(sub: Subscription, n: number, timeoutMs = testKitConfig.timeoutMs): Promise<Update[]> {
  const out: Update[] = []
  const deadline = Date.now() + timeoutMs
  while (out.length < n) {
    const u = await reader(sub).next(Math.max(1, deadline - Date.now()))
    if (u === TIMEOUT) {
      expect.fail(`collect: timed out after ${timeoutMs}ms with ${out.length} of ${n} updates: ${out.map(summary).join(' ') || '(none)'}`)
    }
    if (u === DONE) expect.fail(`collect: the subscription ended after ${out.length} of ${n} updates: ${out.map(summary).join(' ') || '(none)'}`)
    out.push(u)
  }
  return out
}

/**
 * Reads updates until they hold `n` txn records in all (updates with no txns are read too).
 * Fails on timeout, early end, or more than `n` records.
 */
export async function collectTxns(
  sub: Subscription,
  n: number,
  timeoutMs = testKitConfig.timeoutMs,
): Promise<{ records: TxnRecord[]; updates: Update[] }> {
  const records: TxnRecord[] = []
  const updates: Update[] = []
  const deadline = Date.now() + timeoutMs
  while (records.length < n) {
    const u = await reader(sub).next(Math.max(1, deadline - Date.now()))
    const got = (): string => updates.map(summary).join(' ') || '(none)'
    if (u === TIMEOUT) expect.fail(`collectTxns: timed out after ${timeoutMs}ms with ${records.length} of ${n} txn records: ${got()}`)
    if (u === DONE) expect.fail(`collectTxns: the subscription ended after ${records.length} of ${n} txn records: ${got()}`)
    updates.push(u)
    records.push(...u.txns)
  }
  expect(records.length, `collectTxns: expected exactly ${n} txn records, got ${updates.map(summary).join(' ')}`).toBe(n)
  return { records, updates }
}

/** Reads (and drops) updates until the subscription's iteration finishes; fails if it does not in time. */
export async function expectEnds(sub: Subscription, timeoutMs = testKitConfig.timeoutMs): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const u = await reader(sub).next(Math.max(1, deadline - Date.now()))
    if (u === DONE) return
    if (u === TIMEOUT) expect.fail(`the subscription did not end within ${timeoutMs}ms`)
  }
}

/**
 * The error a subscription fails with: thrown by `subscribe` itself or by reading it. Fails when
 * the subscription yields an update or ends cleanly instead.
 */
export async function subscribeError(store: Store, q: Query, o?: SubscribeOptions, timeoutMs = testKitConfig.timeoutMs): Promise<unknown> {
  let sub: Subscription
  try {
    sub = o === undefined ? store.subscribe(q) : store.subscribe(q, o)
  } catch (e) {
    return e
  }
  let u: Update | typeof DONE | typeof TIMEOUT
  try {
    u = await reader(sub).next(timeoutMs)
  } catch (e) {
    return e
  } finally {
    sub.close()
  }
  if (u === TIMEOUT) return expect.fail(`the subscription neither failed nor yielded within ${timeoutMs}ms`)
  if (u === DONE) return expect.fail('the subscription ended cleanly where it should have failed')
  return expect.fail(`the subscription yielded ${summary(u)} where it should have failed`)
}

/** Asserts a subscription fails (at `subscribe` or on its first read) with a StatecraftError of `code`. */
export async function expectSubscribeCode(store: Store, q: Query, code: StatecraftError['code'], o?: SubscribeOptions): Promise<void> {
  const e = await subscribeError(store, q, o)
  expect(e instanceof StatecraftError, `the subscription should fail with a StatecraftError ${code}, got ${String(e)}`).toBe(true)
  expect((e as StatecraftError).code, `the subscription failed with ${String(e)}`).toBe(code)
}

/** A local view of a subscription's results, kept with `applyUpdate`. */
export class View {
  readonly map = new Map<Key, Value>()
  readonly updates: Update[] = []
  constructor(readonly sub: Subscription) {}

  apply(u: Update): void {
    this.updates.push(u)
    applyUpdate(this.map, u)
  }

  /** Reads and applies one update. */
  async step(timeoutMs = testKitConfig.timeoutMs): Promise<Update> {
    const u = await nextUpdate(this.sub, timeoutMs)
    this.apply(u)
    return u
  }

  /** Reads updates holding `n` txn records in all (see `collectTxns`), applies them, returns the records. */
  async txns(n: number, timeoutMs = testKitConfig.timeoutMs): Promise<TxnRecord[]> {
    const { records, updates } = await collectTxns(this.sub, n, timeoutMs)
    for (const u of updates) this.apply(u)
    return records
  }

  /**
   * Applies updates until the view equals a fresh fetch of `q` (compared by key and value), or
   * fails after `timeoutMs` showing the difference.
   */
  async syncWith(store: Store, q: Query, label = '', timeoutMs = testKitConfig.timeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const want = sortedEntries((await store.fetch(q)).results)
      const have = sortedEntries(this.map)
      if (equalEntries(have, want)) return
      const left = deadline - Date.now()
      const u = left > 0 ? await reader(this.sub).next(left) : TIMEOUT
      if (u === TIMEOUT || u === DONE) {
        const last = this.updates.slice(-3).map(summary).join(' ')
        expect(
          have,
          `${label}the subscription view of ${describeValue(q)} does not match a fresh fetch ` +
            `(${u === DONE ? 'the subscription ended' : `no further update within ${timeoutMs}ms`}; last updates: ${last || '(none)'})`,
        ).toEqual(want)
        return
      }
      this.apply(u)
    }
  }
}

function equalEntries(a: [Key, Value][], b: [Key, Value][]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as [Key, Value]
    const y = b[i] as [Key, Value]
    if (x[0] !== y[0] || !sameValue(x[1], y[1])) return false
  }
  return true
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false
    return a.every((x, i) => x === b[i])
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every(k => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}
