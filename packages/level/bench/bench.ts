// `pnpm bench` for @statecraft/level. Not a test: prints figures and ratios against a baseline
// measured in the same run.
//
// 1. Single-key txns/s through levelStore with 1 and 64 concurrent writers, against the same
//    number of raw classic-level batch puts of the same keys and values (same concurrency, sync).
// 2. 1-character text edits/s on a 10 KB and on a 1 MB text doc (one writer).
//
// Options (env): BENCH_SECONDS (per measurement, default 3), BENCH_SYNC=0 (no fsync), BENCH_DIR.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { levelStore } from '@statecraft/level'
import type { Json, Txn } from '@statecraft/core'

const seconds = Number(process.env.BENCH_SECONDS ?? 3)
const sync = process.env.BENCH_SYNC !== '0'
const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'statecraft-level-bench-'))
let dirs = 0
const freshDir = (): string => join(root, `d${++dirs}`)

const KEYS = 10_000
const keyOf = (i: number): string => `bench/${(i * 7919) % KEYS}`
const valueOf = (i: number): Json => ({ i, at: 1_700_000_000_000 + i, title: `item ${i}`, body: 'x'.repeat(100) })

/**
 * Runs `op(i)` for i = from, from+1, … from `concurrency` workers, for `ms` or until `count` ops
 * are done; returns [ops done, seconds taken].
 */
async function run(concurrency: number, limit: { ms: number } | { count: number }, op: (i: number) => Promise<unknown>, from = 0): Promise<[number, number]> {
  let next = from
  const start = performance.now()
  const more = 'ms' in limit ? (): boolean => performance.now() < start + limit.ms : (): boolean => next < from + limit.count
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (more()) await op(next++)
    }),
  )
  return [next - from, (performance.now() - start) / 1000]
}

/**
 * Single-key txns: the store and raw classic-level, in alternating slices so that drift in the
 * disk's fsync latency (large on virtual disks) hits both alike. Returns [store/s, raw/s].
 */
async function txnsVersusRaw(concurrency: number): Promise<[number, number]> {
  const db = new ClassicLevel<string, string>(freshDir(), { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  await db.open()
  const s = levelStore(freshDir(), { sync })
  const raw = (i: number): Promise<void> => db.batch([{ type: 'put', key: keyOf(i), value: JSON.stringify(valueOf(i)) }], { sync })
  const txn = (i: number): Promise<unknown> => s.mutate(new Map([[keyOf(i), { type: 'set', value: valueOf(i) }]]) as Txn)
  await run(concurrency, { ms: 300 }, txn)
  await run(concurrency, { ms: 300 }, raw)
  // Slices: the store for a while, then raw classic-level for the same ops (same i: same keys and
  // values). Alternating keeps drift in the disk's fsync latency from favouring either side.
  const slices = 6
  const total: Record<'store' | 'raw', [number, number]> = { store: [0, 0], raw: [0, 0] }
  let i = 1_000_000
  for (let k = 0; k < slices; k++) {
    const [n, ts] = await run(concurrency, { ms: (seconds * 1000) / slices }, txn, i)
    const [m, tr] = await run(concurrency, { count: n }, raw, i)
    i += n
    total.store[0] += n
    total.store[1] += ts
    total.raw[0] += m
    total.raw[1] += tr
  }
  const st = s.stats()
  await s.close()
  await db.close()
  process.stdout.write(`    (store: ${st.txns} txns in ${st.batches} batches, ${(st.txns / st.batches).toFixed(1)} txns/batch)\n`)
  return [total.store[0] / total.store[1], total.raw[0] / total.raw[1]]
}

/** A store holding one text doc of `size` chars, and an op making a 1-char edit at a random place. */
async function textDoc(size: number): Promise<{ edit: () => Promise<unknown>; close: () => Promise<string> }> {
  const s = levelStore(freshDir(), { sync })
  const initial = 'abcdefghij'.repeat(Math.ceil(size / 10)).slice(0, size)
  let len = initial.length
  await s.mutate(new Map([['doc', { type: 'set', value: initial }]]))
  let seed = 42
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
  return {
    edit: async () => {
      const pos = rand(len + 1)
      await s.mutate(new Map([['doc', { type: 'text', op: pos === 0 ? ['y'] : [pos, 'y'] }]]))
      len++
    },
    close: async () => {
      const st = s.stats()
      await s.close()
      return `doc now ${(len / 1024).toFixed(0)} KB, ${st.docsWithOps} doc with op records`
    },
  }
}

/** 1-char edits/s on a 10 KB and a 1 MB doc, in alternating slices (as for txnsVersusRaw). */
async function textEdits(): Promise<[number, number]> {
  const small = await textDoc(10 * 1024)
  const large = await textDoc(1024 * 1024)
  await run(1, { ms: 300 }, small.edit)
  await run(1, { ms: 300 }, large.edit)
  const slices = 6
  const total: Record<'small' | 'large', [number, number]> = { small: [0, 0], large: [0, 0] }
  for (let i = 0; i < slices; i++) {
    for (const [name, doc] of [['small', small], ['large', large]] as const) {
      const [n, t] = await run(1, { ms: (seconds * 1000) / slices }, doc.edit)
      total[name][0] += n
      total[name][1] += t
    }
  }
  process.stdout.write(`    (10 KB: ${await small.close()}; 1 MB: ${await large.close()})\n`)
  return [total.small[0] / total.small[1], total.large[0] / total.large[1]]
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(9)

try {
  console.log(`@statecraft/level bench: ${seconds}s per measurement, sync=${sync}, dir ${root}, node ${process.version}`)
  console.log('\nsingle-key txns/s (set of a ~150-byte JSON value, 10,000 keys)')
  for (const c of [1, 64]) {
    const [store, raw] = await txnsVersusRaw(c)
    console.log(`  ${String(c).padStart(2)} writer${c === 1 ? ' ' : 's'}: levelStore ${fmt(store)}/s   raw classic-level batch ${fmt(raw)}/s   ratio ${(store / raw).toFixed(2)}`)
  }
  console.log('\n1-character text edits/s (random positions, one writer)')
  const [small, large] = await textEdits()
  console.log(`  10 KB doc: ${fmt(small)}/s   1 MB doc: ${fmt(large)}/s   ratio (1 MB / 10 KB) ${(large / small).toFixed(2)}`)
} finally {
  rmSync(root, { recursive: true, force: true })
}
