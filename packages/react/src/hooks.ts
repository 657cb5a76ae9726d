// The hooks: each one an observer (snapshot-store.ts) on a client handle, read with
// useSyncExternalStore. Handles are per client and key, so StrictMode's double render and double
// effects open nothing twice: a doc or text has one server subscription per client whatever uses
// it, a query's subscription is opened in subscribe and closed in its cleanup, and a presence room
// is left only when no component has used it for a moment (a remount in between keeps it).
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react'
import type { Json, Key, Query, Value } from '@statecraft/core'
import type { DocHandle, DocSnapshot, Presence, PresencePeers, QueryHandle, StatecraftClient, TextHandle } from '@statecraft/client'
import { mapsEqual, shallowEqual, snapshotStore, type SnapshotStore } from './snapshot-store.ts'

const ClientContext = createContext<StatecraftClient | null>(null)

export interface StatecraftProviderProps {
  client: StatecraftClient
  children?: ReactNode
}

/** Makes `client` the one the hooks below use. */
export function StatecraftProvider({ client, children }: StatecraftProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children)
}

/** The client of the nearest StatecraftProvider. */
export function useClient(): StatecraftClient {
  const c = useContext(ClientContext)
  if (c === null) throw new Error('Statecraft hooks need a <StatecraftProvider client={…}> above them')
  return c
}

export interface SuspenseOption {
  /** Suspend (throw a promise) until the doc is known, from the cache or the server. */
  suspense?: boolean
}

// ---- per-client caches: one observer per handle, shared by every component using it

interface ClientCaches {
  docs: Map<Key, SnapshotStore<DocView<unknown>>>
  texts: Map<Key, SnapshotStore<TextView>>
  waits: Map<Key, { promise: Promise<unknown>; done: boolean }>
  status: SnapshotStore<StatusView> | undefined
  rooms: Map<string, RoomEntry>
}

const caches = new WeakMap<StatecraftClient, ClientCaches>()

function cachesOf(client: StatecraftClient): ClientCaches {
  let c = caches.get(client)
  if (c === undefined) {
    c = { docs: new Map(), texts: new Map(), waits: new Map(), status: undefined, rooms: new Map() }
    caches.set(client, c)
  }
  return c
}

/** Suspends until `key` is known (once per client and key: offline and uncached, it is shown as missing). */
function suspendUntilKnown(client: StatecraftClient, key: Key, get: () => Promise<unknown>): void {
  if (client.docs.get(key)?.known === true) return
  const waits = cachesOf(client).waits
  let w = waits.get(key)
  if (w === undefined) {
    const entry = {
      done: false,
      promise: get().then(
        () => {
          entry.done = true
        },
        () => {
          entry.done = true
        },
      ),
    }
    w = entry
    waits.set(key, w)
  }
  if (!w.done) throw w.promise
}

// ---- useDoc

/** A doc as a component sees it: the snapshot fields, and the handle to write with. */
export interface DocView<T> extends DocSnapshot<T> {
  readonly doc: DocHandle<T>
}

function docStore<T>(client: StatecraftClient, key: Key): SnapshotStore<DocView<T>> {
  const docs = cachesOf(client).docs
  let s = docs.get(key)
  if (s === undefined) {
    const doc = client.doc<unknown>(key)
    s = snapshotStore<DocView<unknown>>(
      () => ({ ...doc.snapshot(), doc }),
      shallowEqual,
      cb => doc.subscribe(() => cb()),
    )
    docs.set(key, s)
  }
  return s as unknown as SnapshotStore<DocView<T>>
}

/** The live value of `key` (server state + this client's pending writes); re-renders only when it changes. */
export function useDoc<T = Value>(key: Key, opts: SuspenseOption = {}): DocView<T> {
  const client = useClient()
  const store = useMemo(() => docStore<T>(client, key), [client, key])
  const view = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
  if (opts.suspense === true) suspendUntilKnown(client, key, () => view.doc.get())
  return view
}

// ---- useText

export interface TextView {
  readonly value: string
  readonly exists: boolean
  readonly pending: boolean
  readonly fromCache: boolean
  readonly text: TextHandle
}

function textStore(client: StatecraftClient, key: Key): SnapshotStore<TextView> {
  const texts = cachesOf(client).texts
  let s = texts.get(key)
  if (s === undefined) {
    const text = client.text(key)
    s = snapshotStore<TextView>(
      () => {
        const { exists, pending, fromCache } = text.snapshot()
        return { value: text.value, exists, pending, fromCache, text }
      },
      shallowEqual,
      cb => text.subscribe(() => cb()),
    )
    texts.set(key, s)
  }
  return s
}

/** The live string of a text doc, and its handle (insert, remove, cursor). */
export function useText(key: Key, opts: SuspenseOption = {}): TextView {
  const client = useClient()
  const store = useMemo(() => textStore(client, key), [client, key])
  const view = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
  if (opts.suspense === true) suspendUntilKnown(client, key, () => view.text.get())
  return view
}

// ---- useQuery

export interface QueryView {
  /** The matching rows, in key order as the server sent them, with this client's pending writes laid over. */
  readonly rows: ReadonlyMap<Key, Value>
  /** The query's subscription has caught up with the server (false offline until it has once). */
  readonly caughtUp: boolean
}

function queryStore(handle: QueryHandle): SnapshotStore<QueryView> {
  return snapshotStore<QueryView>(
    () => ({ rows: handle.rows, caughtUp: handle.caughtUp }),
    (a, b) => a.caughtUp === b.caughtUp && mapsEqual(a.rows, b.rows),
    cb => handle.subscribe(() => cb()),
  )
}

/**
 * Live rows of `query` (e.g. `prefix('todos/ann/')`). The query is compared by value, so an inline
 * `prefix(…)` per render keeps the same subscription. Its server subscription lives while mounted.
 */
export function useQuery(query: Query): QueryView {
  const client = useClient()
  const id = JSON.stringify(query)
  // Keyed by the query's value (id), not its identity.
  const store = useMemo(() => queryStore(client.query(query)), [client, id])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

// ---- useStatus

export interface StatusView {
  readonly online: boolean
  /** Writes not yet acknowledged by the server. */
  readonly pending: number
  readonly cache: string | undefined
}

/** Online, pending writes, cache kind; re-renders only when one of them changes. */
export function useStatus(): StatusView {
  const client = useClient()
  const store = useMemo(() => {
    const c = cachesOf(client)
    c.status ??= snapshotStore<StatusView>(
      () => {
        const { online, pending, cache } = client.status
        return { online, pending, cache }
      },
      shallowEqual,
      cb => client.status.subscribe(() => cb()),
    )
    return c.status
  }, [client])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

// ---- usePresence

export interface PresenceView {
  /** The other peers in the room with a state. */
  readonly peers: PresencePeers
  /** Sets this client's state in the room (stable identity; null clears it). */
  readonly set: (state: Json | null) => void
}

interface RoomEntry {
  room: Presence | undefined
  refs: number
  leaveTimer: ReturnType<typeof setTimeout> | undefined
  /** The state to join with, and to keep across a remount. */
  state: Json | null
  listeners: Set<() => void>
  stopRoom: (() => void) | undefined
}

const NO_PEERS: PresencePeers = new Map()
/** How long a room stays joined after its last user unmounts: a StrictMode or Suspense remount reuses it. */
const LEAVE_DELAY_MS = 100

function roomEntry(client: StatecraftClient, room: string): RoomEntry {
  const rooms = cachesOf(client).rooms
  let e = rooms.get(room)
  if (e === undefined) {
    e = { room: undefined, refs: 0, leaveTimer: undefined, state: null, listeners: new Set(), stopRoom: undefined }
    rooms.set(room, e)
  }
  return e
}

function acquire(client: StatecraftClient, name: string, e: RoomEntry): void {
  e.refs++
  if (e.leaveTimer !== undefined) {
    clearTimeout(e.leaveTimer)
    e.leaveTimer = undefined
  }
  if (e.room !== undefined) return
  const room = client.presence(name)
  e.room = room
  if (e.state !== null) room.set(e.state)
  e.stopRoom = room.subscribe(() => {
    for (const l of Array.from(e.listeners)) l()
  })
}

function release(client: StatecraftClient, name: string, e: RoomEntry): void {
  e.refs--
  if (e.refs > 0) return
  e.leaveTimer = setTimeout(() => {
    e.leaveTimer = undefined
    if (e.refs > 0) return
    e.stopRoom?.()
    e.stopRoom = undefined
    e.room?.leave()
    e.room = undefined
    cachesOf(client).rooms.delete(name)
    for (const l of Array.from(e.listeners)) l()
  }, LEAVE_DELAY_MS)
}

/**
 * This client in presence room `room` (undefined: none) and the other peers there. The room is
 * joined while a component uses it; `state`, when given, is set whenever it changes by value.
 */
export function usePresence(room: string | undefined, state?: Json | null): PresenceView {
  const client = useClient()
  const store = useMemo<SnapshotStore<PresencePeers>>(() => {
    if (room === undefined) return { subscribe: () => () => {}, getSnapshot: () => NO_PEERS }
    const e = roomEntry(client, room)
    return {
      subscribe: cb => {
        const entry = roomEntry(client, room)
        entry.listeners.add(cb)
        acquire(client, room, entry)
        cb()
        return () => {
          entry.listeners.delete(cb)
          release(client, room, entry)
        }
      },
      getSnapshot: () => (cachesOf(client).rooms.get(room) ?? e).room?.peers ?? NO_PEERS,
    }
  }, [client, room])
  const peers = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
  const set = useCallback(
    (s: Json | null) => {
      if (room === undefined) return
      const e = roomEntry(client, room)
      e.state = s
      e.room?.set(s)
    },
    [client, room],
  )
  const stateKey = state === undefined ? undefined : JSON.stringify(state)
  useEffect(() => {
    if (stateKey !== undefined) set(JSON.parse(stateKey) as Json | null)
  }, [set, stateKey])
  return useMemo(() => ({ peers, set }), [peers, set])
}
