// Shows the conformance suite catches real bugs: deliberately broken wrappers around the memory
// store must each fail the cases named for their bug, while a faithful wrapper passes every case.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isOTOp, memoryStore } from '@statecraft/core'
import type { FetchResult, MutateOptions, Query, Store, Subscription, Txn, Update, Value } from '@statecraft/core'
import { configureTestKit, storeTestCases, testKitConfig, unmetNeeds, type MakeStore, type StoreTestContext } from '@statecraft/test-kit'

type Overrides = Partial<Pick<Store, 'fetch' | 'mutate' | 'getOps' | 'subscribe' | 'close'>>

/** A store that forwards to `inner`, except where `over` says otherwise. */
function wrap(inner: Store, over: (inner: Store) => Overrides = () => ({})): Store {
  const o = over(inner)
  return {
    info: inner.info,
    fetch: o.fetch ?? ((q, opts) => inner.fetch(q, opts)),
    mutate: o.mutate ?? ((txn, opts) => inner.mutate(txn, opts)),
    getOps: o.getOps ?? ((q, from, to, opts) => inner.getOps(q, from, to, opts)),
    subscribe: o.subscribe ?? ((q, opts) => inner.subscribe(q, opts)),
    close: o.close ?? (() => inner.close()),
  }
}

/** A subscription whose updates pass through `map` (undefined drops the update). */
function mapSubscription(sub: Subscription, map: (u: Update) => Update | undefined): Subscription {
  const it = sub[Symbol.asyncIterator]()
  const mapped: AsyncIterator<Update> = {
    async next() {
      for (;;) {
        const r = await it.next()
        if (r.done === true) return r
        const u = map(r.value)
        if (u !== undefined) return { done: false, value: u }
      }
    },
    async return() {
      sub.close()
      return { done: true, value: undefined }
    },
  }
  return { [Symbol.asyncIterator]: () => mapped, close: () => sub.close() }
}

const without = <T extends object, K extends keyof T>(o: T | undefined, ...ks: K[]): Omit<T, K> => {
  const out = { ...o } as T
  for (const k of ks) delete out[k]
  return out
}

type Breakage = (inner: Store) => Overrides

const breakages: Record<string, { breaks: Breakage; shouldFail: string[] }> = {
  'applies a {clientId, seq} twice (drops clientId and seq)': {
    breaks: inner => ({
      mutate: (txn, o) => inner.mutate(txn, without<MutateOptions, 'clientId' | 'seq'>(o, 'clientId', 'seq')),
    }),
    shouldFail: ['exactly once: the same {clientId, seq} applies once and returns its original version'],
  },
  'ignores baseVersions for set/del': {
    breaks: inner => ({
      mutate: (txn, o) => inner.mutate(txn, [...txn.values()].some(isOTOp) ? o : without<MutateOptions, 'baseVersions'>(o, 'baseVersions')),
    }),
    shouldFail: [
      'a stale set on the same key is a conflict and writes nothing',
      'a stale del on the same key is a conflict and deletes nothing',
      'a conflictKeys key changed since the base (set, del or created) is a conflict',
      'a conflict on one key of a multi-key txn writes none of its keys',
    ],
  },
  'returns missing keys as undefined-valued entries': {
    breaks: inner => ({
      async fetch(q, o) {
        const r: FetchResult = await inner.fetch(q, o)
        if (q.kind === 'keys') for (const k of q.keys) if (!r.results.has(k)) r.results.set(k, undefined as unknown as Value)
        return r
      },
    }),
    shouldFail: ['a missing key is absent from results, never undefined-valued', 'set then del leaves the key absent, one version each'],
  },
  'drops every third txn from subscriptions': {
    breaks: inner => ({
      subscribe(q: Query, o) {
        let n = 0
        return mapSubscription(inner.subscribe(q, o), u => ({ ...u, txns: u.txns.filter(() => ++n % 3 !== 0) }))
      },
    }),
    shouldFail: [
      'a subscription yields replace, then each later matching txn once, in order',
      'two subscriptions each get every txn once',
      '200 sequential writes all reach a subscriber, in order',
      'subscribe fromVersion yields exactly the missed txns, then live ones',
    ],
  },
  'partially applies a failing txn': {
    breaks: inner => ({
      async mutate(txn: Txn, o) {
        try {
          return await inner.mutate(txn, o)
        } catch (e) {
          if (txn instanceof Map) {
            for (const [k, op] of txn) await inner.mutate(new Map([[k, op]])).catch(() => {})
          }
          throw e
        }
      },
    }),
    shouldFail: [
      'a failed txn (one op does not fit its value) leaves every key as it was',
      'a conflict on one key of a multi-key txn writes none of its keys',
    ],
  },
  'drops enter and leave from limited-window updates': {
    breaks: inner => ({
      subscribe: (q, o) => mapSubscription(inner.subscribe(q, o), u => ({ txns: u.txns, versions: u.versions, caughtUp: u.caughtUp, ...(u.replace ? { replace: u.replace } : {}) })),
    }),
    shouldFail: [
      'a limit window sees a key enter and another leave, as a fresh fetch does',
      'live queries follow a seeded random sequence of inserts and deletes',
    ],
  },
}

/** Runs every case whose needs the store meets, directly; returns the failures by case name. */
async function failuresOf(breaks: Breakage): Promise<Map<string, string>> {
  const make: MakeStore = () => wrap(memoryStore(), breaks)
  const ctx: StoreTestContext = { makeStoreWithHistory: n => wrap(memoryStore({ historyLimit: n }), breaks) }
  const probe = await make()
  const caps = probe.info.capabilities
  await probe.close()
  const out = new Map<string, string>()
  for (const c of storeTestCases) {
    if (unmetNeeds(c, caps, ctx) !== undefined) continue
    try {
      await c.run(make, ctx)
    } catch (e) {
      out.set(c.name, e instanceof Error ? e.message : String(e))
    }
  }
  return out
}

describe('the conformance suite catches broken stores', () => {
  let saved = 0
  beforeAll(() => {
    saved = testKitConfig.timeoutMs
    // Broken subscriptions make cases wait for updates that never come: fail those waits sooner.
    configureTestKit({ timeoutMs: 300 })
  })
  afterAll(() => configureTestKit({ timeoutMs: saved }))

  test('it has at least 45 uniquely named cases', () => {
    expect(storeTestCases.length).toBeGreaterThanOrEqual(45)
    expect(new Set(storeTestCases.map(c => c.name)).size).toBe(storeTestCases.length)
  })

  test('a faithful wrapper passes every case', async () => {
    const failed = await failuresOf(() => ({}))
    expect(Object.fromEntries(failed)).toEqual({})
  }, 60_000)

  for (const [bug, { breaks, shouldFail }] of Object.entries(breakages)) {
    test(`a store that ${bug} fails the cases for it`, async () => {
      const failed = await failuresOf(breaks)
      for (const name of shouldFail) {
        expect([...failed.keys()], `the case ${JSON.stringify(name)} should catch a store that ${bug}`).toContain(name)
      }
    }, 60_000)
  }
})
