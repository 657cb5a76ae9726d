// Store wrappers for tests: the same store with another `mutate` (refusals, crashes).
import type { Store } from '@statecraft/core'

/** `store` with its `mutate` replaced by `mutate(txn, opts, inner)`. */
export function withMutate(store: Store, mutate: (txn: Parameters<Store['mutate']>[0], o: Parameters<Store['mutate']>[1], inner: Store) => ReturnType<Store['mutate']>): Store {
  return {
    get info() {
      return store.info
    },
    fetch: (q, o) => store.fetch(q, o),
    getOps: (q, f, t, o) => store.getOps(q, f, t, o),
    subscribe: (q, o) => store.subscribe(q, o),
    close: () => store.close(),
    mutate: (txn, o) => mutate(txn, o, store),
  }
}

/** A Store used as a cache that, once `crash()`ed, takes no more commits (they resolve, and vanish). */
export function crashable(store: Store): { store: Store; crash(): void } {
  let crashed = false
  return {
    crash: () => (crashed = true),
    store: withMutate(store, (txn, o, inner) => (crashed ? Promise.resolve({}) : inner.mutate(txn, o))),
  }
}
