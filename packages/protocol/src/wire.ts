// Conversions between core's types and their wire forms: Maps travel as arrays of [key, value]
// pairs; everything else is already plain data.
import type { FetchResult, Key, Op, Txn, TxnRecord, Update, Value } from '@statecraft/core'
import type { FetchedMessage, UpdateMessage } from './server-messages.ts'
import type { WireEntries, WireTxn, WireTxnRecord } from './schemas.ts'

export const txnToWire = (txn: Txn): WireTxn => [...txn] as WireTxn
/** The store checks ops itself (an OT payload that does not fit its type is `invalid`, not `protocol`). */
export const txnFromWire = (w: WireTxn): Txn => new Map(w as [Key, Op][])

export const entriesToWire = (m: Map<Key, Value>): WireEntries => [...m]
export const entriesFromWire = (w: WireEntries): Map<Key, Value> => new Map(w)

export const recordToWire = (r: TxnRecord): WireTxnRecord =>
  r.meta === undefined
    ? { versions: r.versions, txn: txnToWire(r.txn) }
    : { versions: r.versions, txn: txnToWire(r.txn), meta: r.meta }

export const recordFromWire = (w: WireTxnRecord): TxnRecord =>
  w.meta === undefined ? { versions: w.versions, txn: txnFromWire(w.txn) } : { versions: w.versions, txn: txnFromWire(w.txn), meta: w.meta }

export function fetchedToWire(id: number, r: FetchResult): FetchedMessage {
  const m: FetchedMessage = { type: 'fetched', id, results: entriesToWire(r.results), versions: r.versions }
  if (r.more !== undefined) m.more = r.more
  return m
}

export function fetchedFromWire(m: FetchedMessage): FetchResult {
  const r: FetchResult = { results: entriesFromWire(m.results), versions: m.versions }
  if (m.more !== undefined) r.more = m.more
  return r
}

export function updateToWire(id: number, u: Update): UpdateMessage {
  const m: UpdateMessage = { type: 'update', id, txns: u.txns.map(recordToWire), versions: u.versions, caughtUp: u.caughtUp }
  if (u.replace !== undefined) m.replace = entriesToWire(u.replace)
  if (u.leave !== undefined) m.leave = u.leave
  if (u.enter !== undefined) m.enter = entriesToWire(u.enter)
  return m
}

export function updateFromWire(m: UpdateMessage): Update {
  const u: Update = { txns: m.txns.map(recordFromWire), versions: m.versions, caughtUp: m.caughtUp }
  if (m.replace !== undefined) u.replace = entriesFromWire(m.replace)
  if (m.leave !== undefined) u.leave = m.leave
  if (m.enter !== undefined) u.enter = entriesFromWire(m.enter)
  return u
}
