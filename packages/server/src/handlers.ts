// The table of client message handlers, keyed by message type. Each handler only reads its message
// and calls the Session; limits, ids and replies are the Agent's business.
import type { FetchOptions, GetOpsOptions, MutateOptions, SubscribeOptions } from '@statecraft/core'
import { fetchedToWire, recordToWire, txnFromWire, type ClientMessage, type ClientMessageType, type Encoding } from '@statecraft/protocol'
import type { Session } from './session.ts'

type Handler<T extends ClientMessageType> = (s: Session, msg: Extract<ClientMessage, { type: T }>, encoding: Encoding) => void
type HandlerTable = { [T in ClientMessageType]: Handler<T> }

/** The fields of `o` named in `ks` that are defined (the options objects core takes have no `undefined`s). */
function pick<T extends object, K extends keyof T>(o: T, ks: readonly K[]): { [P in K]?: Exclude<T[P], undefined> } {
  const out: { [P in K]?: Exclude<T[P], undefined> } = {}
  for (const k of ks) if (o[k] !== undefined) out[k] = o[k] as Exclude<T[K], undefined>
  return out
}

export const handlers: HandlerTable = {
  hello: (s, m, encoding) => s.open(m.protocol, m.token, m.encoding ?? encoding, m.capabilities ?? []),

  fetch: (s, m) =>
    s.request(m.id, async store => fetchedToWire(m.id, await store.fetch(m.query, pick(m, ['atVersion', 'minVersion']) as FetchOptions))),

  getOps: (s, m) =>
    s.request(m.id, async store => {
      const txns = await store.getOps(m.query, m.from, m.to, pick(m, ['limit']) as GetOpsOptions)
      return { type: 'ops', id: m.id, txns: txns.map(recordToWire) }
    }),

  mutate: (s, m) =>
    s.request(m.id, async (store, server) => {
      const opts = pick(m, ['baseVersions', 'conflictKeys', 'clientId', 'seq', 'meta']) as MutateOptions
      return { type: 'mutated', id: m.id, versions: await server.mutate(store, txnFromWire(m.txn), opts) }
    }, true),

  subscribe: (s, m) => s.subscribe(m.id, store => store.subscribe(m.query, pick(m, ['fromVersion']) as SubscribeOptions)),

  unsubscribe: (s, m) => s.unsubscribe(m.id),

  ping: (s, m) => s.send(m.nonce === undefined ? { type: 'pong' } : { type: 'pong', nonce: m.nonce }),

  // Any frame proves the peer alive; a pong needs nothing more.
  pong: () => {},

  'presence-join': (s, m) => s.presenceJoin(m.id, m.room, m.state ?? null),

  'presence-set': (s, m) => s.presenceSet(m.room, m.state),

  'presence-leave': (s, m) => s.presenceLeave(m.room),
}

/** Dispatches a parsed message to its handler. */
export function dispatch(s: Session, msg: ClientMessage, encoding: Encoding): void {
  ;(handlers[msg.type] as (s: Session, m: ClientMessage, e: Encoding) => void)(s, msg, encoding)
}
