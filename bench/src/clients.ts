// One text doc, edited through each system's own client over WebSocket: Statecraft's SDK
// (createClient → db.text), ShareDB's client Connection (ot-text-unicode ops with submitOp), and
// Yjs (Y.Text in a Y.Doc synced by y-websocket's WebsocketProvider). One API call per patch, as an
// editor binding would make it; each client batches as it does by design.
import { WebSocket } from 'ws'
import { createClient, type StatecraftClient } from '@statecraft/client'
import { Connection, types as sharedbTypes, type Doc as ShareDoc } from 'sharedb/lib/client/index.js'
import { type as textUnicode } from 'ot-text-unicode'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import type { System } from './protocol.ts'
import type { Patch } from './traces.ts'

sharedbTypes.register(textUnicode)

export interface TextSession {
  apply(patch: Patch): void
  readonly value: string
  close(): Promise<void>
}

/** An ot-text-unicode op for one patch: skip `pos`, delete `del`, insert `ins`. */
export function textOp([pos, del, ins]: Patch): (number | string | { d: number })[] {
  const op: (number | string | { d: number })[] = []
  if (pos > 0) op.push(pos)
  if (ins !== '') op.push(ins)
  if (del > 0) op.push({ d: del })
  return op
}

export const statecraftClient = (url: string): StatecraftClient => createClient({ url, log: () => {} })

/** A ShareDB connection over a `ws` WebSocket, resolved once open. */
export async function sharedbConnection(url: string): Promise<Connection> {
  const ws = new WebSocket(url)
  const conn = new Connection(ws)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return conn
}

export const cb = (f: (done: (err?: unknown) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => f(err => (err === undefined || err === null ? resolve() : reject(err instanceof Error ? err : new Error(JSON.stringify(err))))))

/** Subscribes `doc`, creating it (with `initial` of `type`) when it does not exist. */
export async function sharedbOpen(doc: ShareDoc, initial: unknown, type: string): Promise<void> {
  await cb(done => doc.subscribe(done))
  if (doc.type === null) await cb(done => doc.create(initial, type, done))
}

export async function openText(system: System, url: string, key: string): Promise<TextSession> {
  if (system === 'statecraft') {
    const c = statecraftClient(url)
    const t = c.text(key)
    await c.whenSynced()
    return {
      apply: ([pos, del, ins]) => {
        if (del > 0) void t.remove(pos, del)
        if (ins !== '') void t.insert(pos, ins)
      },
      get value() {
        return t.value
      },
      close: () => c.close(),
    }
  }
  if (system === 'sharedb') {
    const conn = await sharedbConnection(url)
    const doc = conn.get('bench', key)
    let failed: unknown
    doc.on('error', e => (failed ??= e))
    await sharedbOpen(doc, '', 'text-unicode')
    return {
      apply: p => doc.submitOp(textOp(p)),
      get value() {
        if (failed !== undefined) throw failed instanceof Error ? failed : new Error(JSON.stringify(failed))
        return doc.data as string
      },
      close: async () => conn.close(),
    }
  }
  const ydoc = new Y.Doc()
  const provider = new WebsocketProvider(url, key, ydoc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true })
  await new Promise<void>(resolve => {
    if (provider.synced) resolve()
    else provider.once('sync', () => resolve())
  })
  const text = ydoc.getText('t')
  return {
    apply: ([pos, del, ins]) =>
      ydoc.transact(() => {
        if (del > 0) text.delete(pos, del)
        if (ins !== '') text.insert(pos, ins)
      }),
    get value() {
      return text.toJSON()
    },
    close: async () => {
      provider.destroy()
      ydoc.destroy()
    },
  }
}
