// Section 7: 1-character edits on a 1 MB text through the full stack: the doc is created with
// 1 MB of text, then edits at random places are typed one per event-loop turn for a few seconds
// (each system batching as it does), and the clock stops when the server holds the final text.
import { openText } from './clients.ts'
import type { ServerProcess } from './servers.ts'
import { turn } from './stats.ts'

export const LARGE_BYTES = 1024 * 1024

export async function largeDocEdits(system: 'statecraft' | 'sharedb' | 'yjs', server: ServerProcess, run: number, typingMs: number): Promise<number> {
  const key = `large-${run}`
  const s = await openText(system, server.url, key)
  try {
    const initial = 'abcdefghij'.repeat(LARGE_BYTES / 10 + 1).slice(0, LARGE_BYTES)
    s.apply([0, 0, initial])
    await server.waitFor(key, initial)
    let len = initial.length
    let seed = 42 + run
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
    let edits = 0
    const start = performance.now()
    while (performance.now() - start < typingMs) {
      s.apply([rand(len + 1), 0, 'y'])
      len++
      edits++
      await turn()
    }
    await server.waitFor(key, s.value)
    return edits / ((performance.now() - start) / 1000)
  } finally {
    await s.close()
  }
}
