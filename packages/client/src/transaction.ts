// Serializable multi-key transactions: reads come from the server at one base version, the keys
// read become `conflictKeys`, and a `conflict` reruns the function (a bounded number of times).
// Transactions need the server: they wait for a connection and are not kept in the outbox.
import { StatecraftError, applyOp, hasCode, keys } from '@statecraft/core'
import type { Key, Op, Value, Versions } from '@statecraft/core'
import type { JSONOp } from 'ot-json1'
import type { Remote } from './remote-store.ts'

export interface Transaction {
  /** The server's value of `key` (or this transaction's own write to it). */
  get(key: Key): Promise<Value | undefined>
  set(key: Key, value: Value): void
  delete(key: Key): void
  update(key: Key, op: JSONOp): void
}

export interface TransactionOptions {
  /** Runs of `fn` before a `conflict` is given up on. Default 10. */
  maxAttempts?: number
}

export interface TransactionHost {
  readonly clientId: string
  remote(): Promise<Remote>
  allocSeq(): Promise<number>
}

export async function runTransaction<T>(host: TransactionHost, fn: (tx: Transaction) => Promise<T> | T, opts: TransactionOptions = {}): Promise<T> {
  const max = opts.maxAttempts ?? 10
  for (let attempt = 1; ; attempt++) {
    let remote = await host.remote()
    const reads = new Map<Key, Value | undefined>()
    const writes = new Map<Key, Op>()
    let base: Versions | undefined
    const current = (k: Key): Value | undefined => {
      const w = writes.get(k)
      const r = reads.get(k)
      return w === undefined ? r : applyOp(r, w, k)
    }
    const tx: Transaction = {
      async get(k) {
        if (!reads.has(k)) {
          const r = await remote.fetch(keys(k))
          base ??= r.versions
          reads.set(k, r.results.get(k))
        }
        return current(k)
      },
      set(k, value) {
        writes.set(k, { type: 'set', value })
      },
      delete(k) {
        writes.set(k, { type: 'del' })
      },
      update(k, op) {
        const prev = writes.get(k)
        if (prev === undefined) {
          writes.set(k, { type: 'json1', op })
          return
        }
        const v = applyOp(current(k), { type: 'json1', op }, k)
        writes.set(k, v === undefined ? { type: 'del' } : { type: 'set', value: v })
      },
    }
    const result = await fn(tx)
    if (writes.size === 0) return result
    const seq = await host.allocSeq()
    const o = {
      clientId: host.clientId, seq, meta: { c: host.clientId, s: seq },
      ...(base === undefined ? {} : { baseVersions: base, conflictKeys: [...reads.keys()] }),
    }
    for (;;) {
      try {
        await remote.mutate(writes, o)
        return result
      } catch (e) {
        if (hasCode(e, 'closed')) {
          // The connection dropped: send the same {clientId, seq} again, so it applies at most once.
          remote = await host.remote()
          continue
        }
        if (hasCode(e, 'conflict') && attempt < max) break
        if (hasCode(e, 'conflict')) throw new StatecraftError('conflict', `the transaction conflicted ${max} times: ${e.message}`, e.details)
        throw e
      }
    }
  }
}
