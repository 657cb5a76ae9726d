// Crash harness shared by the crash test and the soak script: runs crash-child.ts, kills it with
// SIGKILL at a random moment, reopens the store and checks that every acknowledged txn is there,
// that no txn is partly there, that exactly-once seqs survived, and that versions go on.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { keys, range } from '@statecraft/core'
import type { Json, Value } from '@statecraft/core'
import { openLevelStore, type LevelStoreOptions } from '@statecraft/level'

/** Options both sides open the store with: small snapshots policy so op records are exercised. */
export const CRASH_STORE_OPTIONS: LevelStoreOptions = { historyLimit: 1_000_000_000, opRecordMinSize: 256, maxOpsPerDoc: 50 }

const here = dirname(fileURLToPath(import.meta.url))
const packageDir = join(here, '..')

export interface RoundResult {
  acked: number
  /** Txns the store holds that were not acknowledged (in flight at the kill). */
  unacked: number
  versionBefore: number
  versionAfter: number
  killedAfterMs: number
}

interface Ack {
  version: number
  w: number
  n: number
}

/**
 * One round: start the child, let it write, kill it, verify. `killAfterMs` counts from the first
 * acknowledged txn, or from the spawn when `fromSpawn`. Throws with a description on any violation.
 */
export async function crashRound(
  dir: string,
  round: number,
  o: { writers: number; killAfterMs: number; fromSpawn?: boolean; storeOptions?: LevelStoreOptions },
): Promise<RoundResult> {
  const storeOptions = { ...CRASH_STORE_OPTIONS, ...o.storeOptions }
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'crash-child.ts'), dir, String(round), String(o.writers)], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CRASH_STORE_OPTIONS: JSON.stringify(o.storeOptions ?? {}) },
  })
  const acks: Ack[] = []
  let versionBefore = -1
  let stderr = ''
  let buf = ''
  let exited = false
  const exit = new Promise<void>(resolve => child.on('exit', () => ((exited = true), resolve())))
  let killTimer: ReturnType<typeof setTimeout> | undefined
  const kill = (): void => {
    if (!exited) child.kill('SIGKILL')
  }
  if (o.fromSpawn === true) killTimer = setTimeout(kill, o.killAfterMs)
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString()
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      const [kind, a, b, c] = line.split(' ')
      if (kind === 'ready') versionBefore = Number(a)
      else if (kind === 'ack') {
        acks.push({ version: Number(a), w: Number(b), n: Number(c) })
        if (acks.length === 1 && killTimer === undefined) killTimer = setTimeout(kill, o.killAfterMs)
      }
    }
  })
  // A child that never acknowledges anything is killed anyway.
  const guard = setTimeout(kill, 20_000)
  await exit
  clearTimeout(guard)
  if (killTimer !== undefined) clearTimeout(killTimer)
  if (child.signalCode !== 'SIGKILL') throw new Error(`round ${round}: the child exited by itself (${String(child.exitCode)}): ${stderr}`)
  return verify(dir, round, o.writers, acks, versionBefore, o.killAfterMs, storeOptions)
}

function fail(round: number, msg: string): never {
  throw new Error(`crash round ${round}: ${msg}`)
}

async function verify(
  dir: string,
  round: number,
  writers: number,
  acks: Ack[],
  versionBefore: number,
  killedAfterMs: number,
  storeOptions: LevelStoreOptions,
): Promise<RoundResult> {
  const s = await openLevelStore(dir, storeOptions)
  try {
    const uid = s.info.uid
    const ks: string[] = []
    for (let w = 0; w < writers; w++) ks.push(`a/${w}`, `b/${w}`, `c/${w}`, `t/${w}`)
    const now = await s.fetch(keys(...ks))
    const version = now.versions[uid] ?? 0
    const maxAcked = acks.reduce((m, a) => Math.max(m, a.version), 0)
    if (version < maxAcked) fail(round, `the store is at version ${version} but version ${maxAcked} was acknowledged`)

    // Docs: the three keys of a writer agree, the text holds every n in order, n ≥ the last ack.
    const lastAck = new Map<number, number>()
    for (const a of acks) lastAck.set(a.w, Math.max(lastAck.get(a.w) ?? 0, a.n))
    for (let w = 0; w < writers; w++) {
      const [a, b, c] = [`a/${w}`, `b/${w}`, `c/${w}`].map(k => now.results.get(k))
      if (JSON.stringify(a) !== JSON.stringify(b) || JSON.stringify(a) !== JSON.stringify(c)) {
        fail(round, `writer ${w}'s keys disagree (a partial txn): ${JSON.stringify([a, b, c])}`)
      }
      const n = (a as { n?: number } | undefined)?.n ?? 0
      if (n < (lastAck.get(w) ?? 0)) fail(round, `writer ${w} is at n=${n} but n=${String(lastAck.get(w))} was acknowledged`)
      const t = (now.results.get(`t/${w}`) as string | undefined) ?? ''
      const ns = t === '' ? [] : t.slice(1).split(';').map(Number)
      if (ns.length !== n || ns.some((x, i) => x !== i + 1)) fail(round, `writer ${w}'s text does not hold 1…${n}: …${t.slice(-40)}`)
    }

    // The op log: every acknowledged txn, each whole, and nothing beyond the current version.
    const recs = versionBefore >= 0 ? await s.getOps(range(), { [uid]: versionBefore }) : []
    const byVersion = new Map(recs.map(r => [r.versions[uid] ?? -1, r]))
    for (const a of acks) {
      const r = byVersion.get(a.version)
      const v = r?.txn.get(`a/${a.w}`)
      if (v?.type !== 'set' || (v.value as { n?: number }).n !== a.n) fail(round, `acknowledged txn ${a.version} (writer ${a.w}, n=${a.n}) is not in the op log`)
    }
    for (const r of recs) {
      if (r.txn.size !== 4) fail(round, `txn ${String(r.versions[uid])} in the op log has ${r.txn.size} ops, not 4`)
    }
    if (versionBefore >= 0 && recs.length !== version - versionBefore) fail(round, `the op log holds ${recs.length} txns after ${versionBefore}; the store is at ${version}`)

    // Exactly-once survived: re-sending the last acknowledged {clientId, seq} returns its version.
    const last = acks[acks.length - 1]
    if (last !== undefined) {
      const again = await s.mutate(new Map([[`a/${last.w}`, { type: 'set', value: 'must not apply' as Value }]]), { clientId: `w${last.w}-r${round}`, seq: last.n })
      if (again[uid] !== last.version) fail(round, `a re-sent seq gave version ${String(again[uid])}, not its original ${last.version}`)
    }
    // Versions go on from where they were.
    const next = await s.mutate(new Map([['probe', { type: 'set', value: round as Json }]]))
    if (next[uid] !== version + 1) fail(round, `the next txn got version ${String(next[uid])}, not ${version + 1}`)
    return { acked: acks.length, unacked: versionBefore < 0 ? 0 : version - Math.max(maxAcked, versionBefore), versionBefore, versionAfter: version, killedAfterMs }
  } finally {
    await s.close()
  }
}
