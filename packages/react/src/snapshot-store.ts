// The one observer every hook is built on: a subscribe function and a getSnapshot that returns the
// same object until what it describes has changed, as useSyncExternalStore requires (a new object
// on every call would re-render forever; a stale one would miss updates).

export interface SnapshotStore<S> {
  readonly subscribe: (onChange: () => void) => () => void
  readonly getSnapshot: () => S
}

/**
 * `read` builds the current snapshot (cheaply); `equal` says whether two describe the same state.
 * getSnapshot returns the previous object while `equal` holds, so renders see a stable identity.
 */
export function snapshotStore<S>(read: () => S, equal: (a: S, b: S) => boolean, listen: (onChange: () => void) => () => void): SnapshotStore<S> {
  let last: { s: S } | undefined
  const getSnapshot = (): S => {
    const next = read()
    if (last !== undefined && equal(last.s, next)) return last.s
    last = { s: next }
    return next
  }
  return { subscribe: listen, getSnapshot }
}

/** Same keys, and each value the same object (or equal primitive). */
export function shallowEqual(a: object, b: object): boolean {
  if (a === b) return true
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) {
    if (!Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  }
  return true
}

/** Same keys in the same order, each value the same object. */
export function mapsEqual<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a === b) return true
  if (a.size !== b.size) return false
  const ia = a.entries()
  for (const [k, v] of b) {
    const n = ia.next()
    if (n.done === true || !Object.is(n.value[0], k) || !Object.is(n.value[1], v)) return false
  }
  return true
}
