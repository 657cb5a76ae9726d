// Exactly-once bookkeeping of the memory store: the highest `seqsPerClient` seqs are remembered,
// whatever order they arrive in. Regression: eviction by arrival order forgot a high seq that came
// first and then refused lower seqs that were never applied (found by idb's differential test).
import { expect, test } from 'vitest'
import { memoryStore, StatecraftError, keys } from '@statecraft/core'

const put = (v: number) => new Map([['k', { type: 'set' as const, value: v }]])

test('out-of-order seqs: the highest are remembered, lower forgotten ones are version-too-old', async () => {
  const s = memoryStore({ uid: 'u', seqsPerClient: 3 })
  const applied = new Map<number, number>()
  for (const seq of [10, 5, 7, 1]) applied.set(seq, (await s.mutate(put(seq), { clientId: 'c', seq })).u as number)
  expect(applied.get(10)).toBe(1)
  // 10, 7 and 5 are remembered: re-sends return their first version and change nothing.
  for (const seq of [10, 7, 5]) expect(await s.mutate(put(-seq), { clientId: 'c', seq })).toEqual({ u: applied.get(seq) })
  expect((await s.fetch(keys('k'))).results.get('k')).toBe(1)
  expect((await s.fetch(keys('k'))).versions).toEqual({ u: 4 })
  // 1 was the lowest and is forgotten: a re-send cannot be told from a new write, so it is refused.
  const e = await s.mutate(put(-1), { clientId: 'c', seq: 1 }).catch((x: unknown) => x)
  expect(e).toBeInstanceOf(StatecraftError)
  expect((e as StatecraftError).code).toBe('version-too-old')
  // A seq above the floor that was never applied is applied.
  expect(await s.mutate(put(6), { clientId: 'c', seq: 6 })).toEqual({ u: 5 })
  await s.close()
})

test('in-order seqs far beyond the limit stay exactly-once for the remembered window', async () => {
  const s = memoryStore({ uid: 'u', seqsPerClient: 100 })
  for (let seq = 0; seq < 5000; seq++) await s.mutate(put(seq), { clientId: 'c', seq })
  expect(await s.mutate(put(0), { clientId: 'c', seq: 4950 })).toEqual({ u: 4951 })
  await expect(s.mutate(put(0), { clientId: 'c', seq: 4899 })).rejects.toMatchObject({ code: 'version-too-old' })
  expect((await s.fetch(keys('k'))).versions).toEqual({ u: 5000 })
  await s.close()
})
