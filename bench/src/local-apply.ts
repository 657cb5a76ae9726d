// Section 2: the traces applied locally, no network. Statecraft: db.text on a client that never
// connects (memory cache), timed until its value equals endContent, and on until the work the
// client defers is done too (`whenPersisted()`: the writes are in its cache), which is the figure
// compared. Baselines: raw ot-text-unicode
// `apply` on a JS string (one op per patch), and Yjs Y.Text in a lone Y.Doc (one transaction per patch).
import { createClient } from '@statecraft/client'
import { type as textUnicode } from 'ot-text-unicode'
import * as Y from 'yjs'
import { textOp } from './clients.ts'
import { cpuMicros } from './stats.ts'
import type { Trace } from './traces.ts'

export type LocalSystem = 'statecraft' | 'ot-text-unicode' | 'yjs'

export interface LocalRun {
  /** Patches/s until the value is endContent and, for Statecraft, its deferred work done. */
  rate: number
  /** Patches/s until the value is endContent. */
  applied: number
  perCpuSecond: number
  passes: number
}

/**
 * One run: `trace` applied on `system` from scratch, pass after pass, until the passes have taken
 * `minMs` (at least one pass): a run of a fast system on a short trace lasts ~0.05 s, and one
 * burst of other work on the machine would decide it. Figures over all the passes.
 */
export async function localApply(system: LocalSystem, trace: Trace, minMs: number): Promise<LocalRun> {
  let ms = 0
  let applied = 0
  let cpu = 0
  let passes = 0
  while (passes === 0 || ms < minMs) {
    const p = await localPass(system, trace)
    ms += p.total
    applied += p.applied
    cpu += p.cpu
    passes++
  }
  const patches = trace.patches * passes
  return { rate: patches / (ms / 1000), applied: patches / (applied / 1000), perCpuSecond: patches / (cpu / 1e6), passes }
}

/**
 * Applies `trace` once on `system`: ms until the value is endContent (`applied`) and, for
 * Statecraft, until the client's deferred work is done too (`total`, `whenPersisted()` when the
 * client has it); CPU µs over `total`. Throws when the result is not endContent.
 */
async function localPass(system: LocalSystem, trace: Trace): Promise<{ total: number; applied: number; cpu: number }> {
  let result: string
  let ms: number
  let total: number | undefined
  let cpu: number
  if (system === 'statecraft') {
    // Offline from the start, with a dial that is never called.
    const db = createClient({ dial: () => { throw new Error('offline') }, offline: true, log: () => {} })
    await db.cacheReady
    const t = db.text('doc')
    const cpu0 = cpuMicros()
    const start = performance.now()
    for (const txn of trace.txns) {
      for (const [pos, del, ins] of txn) {
        if (del > 0) void t.remove(pos, del)
        if (ins !== '') void t.insert(pos, ins)
      }
    }
    result = t.value
    ms = performance.now() - start
    const persisted = db as { whenPersisted?: () => Promise<void> }
    if (typeof persisted.whenPersisted === 'function') {
      await persisted.whenPersisted()
      total = performance.now() - start
    }
    cpu = cpuMicros() - cpu0
    await db.close()
  } else if (system === 'ot-text-unicode') {
    let s = ''
    const cpu0 = cpuMicros()
    const start = performance.now()
    for (const txn of trace.txns) for (const p of txn) s = textUnicode.apply(s, textOp(p))
    result = s
    ms = performance.now() - start
    cpu = cpuMicros() - cpu0
  } else {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const cpu0 = cpuMicros()
    const start = performance.now()
    for (const txn of trace.txns) {
      for (const [pos, del, ins] of txn) {
        doc.transact(() => {
          if (del > 0) text.delete(pos, del)
          if (ins !== '') text.insert(pos, ins)
        })
      }
    }
    result = text.toJSON()
    ms = performance.now() - start
    cpu = cpuMicros() - cpu0
    doc.destroy()
  }
  if (result !== trace.endContent) throw new Error(`${system}: ${trace.name} did not end at endContent`)
  return { total: total ?? ms, applied: ms, cpu }
}
