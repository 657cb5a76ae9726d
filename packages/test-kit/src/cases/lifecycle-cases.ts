// Conformance cases for closing a store: subscriptions end, and every later call rejects with `closed`.
import { expect } from 'vitest'
import { keys, range } from '@statecraft/core'
import type { Update } from '@statecraft/core'
import { expectCode, put, set, testKitConfig, txnOf } from '../helpers.ts'
import { expectEnds, expectSubscribeCode, nextUpdate } from '../subscription-reader.ts'
import type { StoreTestCase } from '../store-test-case.ts'

export const lifecycleCases: StoreTestCase[] = [
  {
    name: 'close() ends subscriptions: iteration finishes',
    needs: { queries: ['keys', 'range'] },
    async run(makeStore) {
      const s = await makeStore()
      try {
        const a = s.subscribe(keys('a'))
        const b = s.subscribe(range())
        await nextUpdate(a)
        // A consumer looping with for-await, as apps do.
        const seen: Update[] = []
        const loop = (async () => {
          for await (const u of b) seen.push(u)
          return 'finished' as const
        })()
        let timer: ReturnType<typeof setTimeout> | undefined
        const timeout = new Promise<'timed out'>(resolve => {
          timer = setTimeout(() => resolve('timed out'), testKitConfig.timeoutMs)
        })
        await s.close()
        await expectEnds(a)
        const how = await Promise.race([loop, timeout])
        clearTimeout(timer)
        expect(how, 'a for-await loop over a subscription should finish when the store closes').toBe('finished')
        expect(seen.length).toBeGreaterThanOrEqual(1)
        expect(seen[0]?.replace).toBeInstanceOf(Map)
      } finally {
        await s.close()
      }
    },
  },
  {
    name: 'every query and write on a closed store rejects with closed',
    needs: { queries: ['keys', 'range'] },
    async run(makeStore) {
      const s = await makeStore()
      let closed = false
      try {
        if (s.info.capabilities.mutable && s.info.capabilities.opTypes.includes('set')) await put(s, 'a', 1)
        await s.close()
        closed = true
        await expectCode(s.fetch(keys('a')), 'closed', 'fetch (keys) after close')
        await expectCode(s.fetch(range()), 'closed', 'fetch (range) after close')
        await expectCode(s.mutate(txnOf({ a: set(2) })), 'closed', 'mutate after close')
        await expectCode(s.getOps(range(), {}), s.info.capabilities.history ? 'closed' : ['closed', 'unsupported'], 'getOps after close')
        await expectSubscribeCode(s, keys('a'), 'closed')
        await expectSubscribeCode(s, range(), 'closed')
        // Closing again is harmless.
        await s.close()
      } finally {
        if (!closed) await s.close()
      }
    },
  },
]
