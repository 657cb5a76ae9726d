// Real editing traces (Joseph Gentle's editing-traces, CC BY 4.0; see ../shared/traces/ATTRIBUTION.md,
// read from there, not copied here) replayed through the client SDK: each sequential trace through
// one client, and the concurrent friendsforever trace through two clients, one per agent, each edit
// made when the client's state is exactly the edit's parents. The final text must match byte for byte.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { afterEach, expect, test } from 'vitest'
import { keys, memoryStore, versionsAtLeast, type Versions } from '@statecraft/core'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { createClient, type StatecraftClient, type TextHandle } from '@statecraft/client'
import type { Port } from '@statecraft/protocol'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const TRACES = join(repoRoot, '..', 'shared', 'traces')
const has = (name: string): boolean => existsSync(join(TRACES, `${name}.json.gz`))

type Patch = [number, number, string]
interface Trace {
  endContent: string
  txns: { patches: Patch[]; agent?: number; parents?: number[] }[]
}
const load = (name: string): Trace => JSON.parse(gunzipSync(readFileSync(join(TRACES, `${name}.json.gz`))).toString('utf8')) as Trace

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close()
})

const turn = (): Promise<void> => new Promise(r => setImmediate(r))

async function server(): Promise<StatecraftServer> {
  const s = await createServer({ store: memoryStore({ historyLimit: 100 }), log: () => {} })
  open.push(s)
  return s
}

function apply(t: TextHandle, [pos, del, ins]: Patch): Promise<Versions> | undefined {
  let p: Promise<Versions> | undefined
  if (del > 0) p = t.remove(pos, del)
  if (ins !== '') p = t.insert(pos, ins)
  return p
}

for (const name of ['sveltecomponent', 'friendsforever_flat', 'seph-blog1']) {
  test.skipIf(!has(name))(`sequential trace ${name} through one client`, async () => {
    const trace = load(name)
    const s = await server()
    const c = createClient({ dial: () => s.connectLocal(), log: () => {} })
    open.push(c)
    const t = c.text('doc')
    let n = 0
    for (const txn of trace.txns) {
      for (const patch of txn.patches) void apply(t, patch)
      // Let batches go while typing goes on (edits made meanwhile compose into the next batch).
      if (++n % 200 === 0) await turn()
    }
    expect(t.value).toBe(trace.endContent)
    await c.whenSynced()
    expect(t.value).toBe(trace.endContent)
    expect((await s.backend.store.fetch(keys('doc'))).results.get('doc')).toBe(trace.endContent)
  }, 60_000)
}

/**
 * Holds a client's outgoing mutates until released by seq (JSON frames), so the server learns an
 * agent's edits exactly when the other agent's next edit depends on them.
 */
function gatedDial(s: StatecraftServer): { dial: () => Port; release(seq: number): void } {
  let allowed = 0
  const ports = new Set<{ flush(): void }>()
  return {
    release(seq) {
      allowed = Math.max(allowed, seq)
      for (const p of ports) p.flush()
    },
    dial: () => {
      const inner = s.connectLocal()
      const held: string[] = []
      const gate = {
        flush() {
          while (held.length > 0) {
            const f = held[0] as string
            const m = JSON.parse(f) as { seq?: number }
            if ((m.seq ?? 0) > allowed) return
            held.shift()
            inner.send(f)
          }
        },
      }
      ports.add(gate)
      const port: Port = {
        onframe: undefined,
        onclose: undefined,
        get bufferedAmount() {
          return inner.bufferedAmount
        },
        send(f) {
          if (typeof f === 'string' && f.startsWith('{"type":"mutate"')) {
            held.push(f)
            gate.flush()
          } else inner.send(f)
        },
        close: (code, reason) => {
          ports.delete(gate)
          inner.close(code, reason)
        },
      }
      inner.onframe = f => port.onframe?.(f)
      inner.onclose = (code, reason) => {
        ports.delete(gate)
        port.onclose?.(code, reason)
      }
      return port
    },
  }
}

test.skipIf(!has('friendsforever'))('concurrent trace friendsforever through two clients, one per agent', async () => {
  const trace = load('friendsforever')
  const s = await server()
  const gates = [gatedDial(s), gatedDial(s)]
  const clients: StatecraftClient[] = gates.map((g, i) =>
    createClient({ clientId: `agent${i}`, dial: g.dial, encoding: 'json', compose: false, log: () => {} }),
  )
  for (const c of clients) open.push(c)
  const texts = clients.map(c => c.text('doc'))
  // Per trace txn: its agent's write (one outbox entry, seq = its index among the agent's writes).
  const seqOf: number[] = []
  const acked: (Promise<Versions> | undefined)[] = []
  const count = [0, 0]
  for (const [i, txn] of trace.txns.entries()) {
    const a = txn.agent as number
    for (const p of txn.parents ?? []) {
      const b = trace.txns[p]?.agent as number
      if (b === a) continue
      // A parent from the other agent: it must be on the server, and on this agent's client.
      ;(gates[b] as (typeof gates)[number]).release(seqOf[p] as number)
      const v = await (acked[p] as Promise<Versions>)
      const doc = (clients[a] as StatecraftClient).docs.get('doc')
      while (doc?.versions === undefined || !versionsAtLeast(doc.versions, v)) await turn()
    }
    let last: Promise<Versions> | undefined
    for (const [pos, del, ins] of txn.patches) {
      // One write per delete and per insert: each is one outbox entry (compose is off).
      if (del > 0) {
        last = (texts[a] as TextHandle).remove(pos, del)
        count[a] = (count[a] as number) + 1
      }
      if (ins !== '') {
        last = (texts[a] as TextHandle).insert(pos, ins)
        count[a] = (count[a] as number) + 1
      }
    }
    if (last !== undefined) {
      seqOf[i] = count[a] as number
      acked[i] = last
    }
  }
  for (const g of gates) g.release(Number.MAX_SAFE_INTEGER)
  for (const c of clients) await c.whenSynced()
  for (let i = 0; i < 1000 && texts.some(t => t.value !== trace.endContent); i++) await turn()
  expect(texts[0]?.value).toBe(trace.endContent)
  expect(texts[1]?.value).toBe(trace.endContent)
  expect((await s.backend.store.fetch(keys('doc'))).results.get('doc')).toBe(trace.endContent)
}, 120_000)
