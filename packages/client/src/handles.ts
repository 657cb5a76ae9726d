// The handles an app holds: a doc (JSON value, json1 edits), a text (ot-text-unicode edits and
// cursors that stay put through remote edits), and a live query.
import { applyUpdate, isBinary, matchesKey } from '@statecraft/core'
import type { Json, Key, Op, Query, Subscription, Value, Versions } from '@statecraft/core'
import { insertOp, removeOp, replaceOp, type Doc, type JSONOp, type Path } from 'ot-json1'
import { type as textType, insert as textInsert, remove as textRemove } from 'ot-text-unicode'
import type { DocSnapshot, DocState } from './doc-state.ts'
import type { Remote } from './remote-store.ts'

/** What the handles need of the client (kept narrow so the files do not import each other in a cycle). */
export interface ClientCore {
  docFor(key: Key): DocState
  write(key: Key, op: Op): Promise<Versions>
  whenKnown(key: Key): Promise<DocState>
  addQuery(q: QueryHandle): void
  removeQuery(q: QueryHandle): void
  readonly docs: Map<Key, DocState>
  learnFromQuery(key: Key, value: Value | undefined, versions: Versions): void
  statusListen(fn: (key: Key | undefined) => void): () => void
  emitStatus(key?: Key): void
}

/** The value at `path` inside `v`, or undefined. */
function at(v: Value | undefined, path: Path): Json | undefined {
  let cur: Json | undefined = v === undefined || isBinary(v) ? undefined : v
  for (const p of path) {
    if (cur === undefined || cur === null || typeof cur !== 'object') return undefined
    cur = Array.isArray(cur) ? (typeof p === 'number' ? cur[p] : undefined) : (cur as Record<string, Json>)[String(p)]
  }
  return cur
}

export class DocHandle<T = Value> {
  private readonly state: DocState
  constructor(
    private readonly client: ClientCore,
    readonly key: Key,
  ) {
    this.state = client.docFor(key)
  }

  /** The local value now (server state + pending writes). */
  get value(): T | undefined {
    return this.state.local as T | undefined
  }

  snapshot(): DocSnapshot<T> {
    return this.state.snapshot<T>()
  }

  /** The value once the doc is known (from the cache or the server); offline and uncached: the local value. */
  async get(): Promise<T | undefined> {
    return (await this.client.whenKnown(this.key)).local as T | undefined
  }

  set(value: T): Promise<Versions> {
    return this.client.write(this.key, { type: 'set', value: value as Value })
  }

  delete(): Promise<Versions> {
    return this.client.write(this.key, { type: 'del' })
  }

  /** Applies a json1 op (ot-json1's `insertOp`, `replaceOp`, `editOp`, … or the helpers below). */
  update(op: JSONOp): Promise<Versions> {
    return this.client.write(this.key, { type: 'json1', op })
  }

  /** Sets the value at `path` (an object key or array index path), inserting it when absent. */
  setAt(path: Path, value: Json): Promise<Versions> {
    const old = at(this.state.local, path)
    return this.update(old === undefined ? insertOp(path, value as Doc) : replaceOp(path, old as Doc, value as Doc))
  }

  /** Inserts into an array (shifting later items) or sets a new object key. */
  insertAt(path: Path, value: Json): Promise<Versions> {
    return this.update(insertOp(path, value as Doc))
  }

  removeAt(path: Path): Promise<Versions> {
    return this.update(removeOp(path))
  }

  /** Calls `fn` now and on every change. Returns the unsubscribe function. */
  subscribe(fn: (s: DocSnapshot<T>) => void): () => void {
    const l = (): void => fn(this.state.snapshot<T>())
    this.state.listeners.add(l)
    l()
    return () => {
      this.state.listeners.delete(l)
    }
  }
}

/** A position in a text that moves with edits before it, local and remote. */
export interface TextCursor {
  readonly pos: number
  close(): void
}

/** A TextCursor over closures; a class so that `pos` is a prototype getter (an object with its own getter is a slow dictionary in V8). */
class LiveCursor implements TextCursor {
  constructor(
    private readonly read: () => number,
    readonly close: () => void,
  ) {}

  get pos(): number {
    return this.read()
  }
}

/** A text doc (positions count unicode code points, as ot-text-unicode does). */
export class TextHandle {
  private readonly state: DocState
  constructor(
    private readonly client: ClientCore,
    readonly key: Key,
  ) {
    this.state = client.docFor(key)
  }

  get value(): string {
    const v = this.state.local
    return typeof v === 'string' ? v : ''
  }

  snapshot(): DocSnapshot<string> {
    return this.state.snapshot<string>()
  }

  async get(): Promise<string> {
    await this.client.whenKnown(this.key)
    return this.value
  }

  insert(pos: number, text: string): Promise<Versions> {
    return this.client.write(this.key, { type: 'text', op: textInsert(pos, text) })
  }

  remove(pos: number, length: number): Promise<Versions> {
    return this.client.write(this.key, { type: 'text', op: textRemove(pos, length) })
  }

  subscribe(fn: (text: string, s: DocSnapshot<string>) => void): () => void {
    const l = (): void => fn(this.value, this.state.snapshot<string>())
    this.state.listeners.add(l)
    l()
    return () => {
      this.state.listeners.delete(l)
    }
  }

  /** A cursor at `pos`, transformed through every edit (an insert at the cursor moves it on). */
  cursor(pos: number): TextCursor {
    let p = pos
    const state = this.state
    const l = (op: Op | undefined): void => {
      if (op !== undefined && op.type === 'text') p = textType.transformPosition(p, op.op)
      else p = Math.min(p, state.textLength)
    }
    state.listeners.add(l)
    return new LiveCursor(
      () => p,
      () => {
        state.listeners.delete(l)
      },
    )
  }
}

/** Live rows of a query: the server's results with this client's pending writes laid over them. */
export class QueryHandle {
  private view = new Map<Key, Value>()
  private sub: Subscription | undefined
  private readonly listeners = new Set<(rows: Map<Key, Value>) => void>()
  private stopStatus: (() => void) | undefined
  caughtUp = false

  constructor(
    private readonly client: ClientCore,
    readonly query: Query,
  ) {}

  /**
   * The rows now: server results + local pending writes on matching keys. Until the server's results
   * have arrived (offline, or just started), the rows are the matching docs this client knows — from
   * its cache after a reload — so an offline app shows its data at once.
   */
  get rows(): Map<Key, Value> {
    const out = new Map(this.view)
    const fromKnown = !this.caughtUp
    for (const [k, d] of this.client.docs) {
      if (!(fromKnown ? d.known || d.pending.length > 0 : d.pending.length > 0) || !matchesKey(this.query, k)) continue
      if (d.local === undefined) out.delete(k)
      else out.set(k, d.local)
    }
    return fromKnown ? windowOf(this.query, out) : out
  }

  subscribe(fn: (rows: Map<Key, Value>) => void): () => void {
    this.listeners.add(fn)
    if (this.listeners.size === 1) {
      this.client.addQuery(this)
      // A change of one doc changes at most its row: the rows are rebuilt (over every doc) only if it may be one.
      this.stopStatus = this.client.statusListen(key => {
        if (key === undefined || matchesKey(this.query, key)) this.emit()
      })
    }
    fn(this.rows)
    return () => {
      this.listeners.delete(fn)
      if (this.listeners.size === 0) {
        this.client.removeQuery(this)
        this.stopStatus?.()
      }
    }
  }

  /** @internal A local write to `key` that did not change the client's status: re-emit if it is a row. */
  localWrite(key: Key): void {
    if (this.listeners.size > 0 && matchesKey(this.query, key)) this.emit()
  }

  private emit(): void {
    const rows = this.rows
    for (const l of this.listeners) l(rows)
  }

  /** @internal Subscribes on a new connection. */
  start(remote: Remote): void {
    this.stop()
    const sub = remote.subscribe(this.query)
    this.sub = sub
    void (async () => {
      try {
        for await (const u of sub) {
          applyUpdate(this.view, u)
          // Rows the server sent become the docs' known state (and are cached): keys in a replace,
          // keys a txn touched (deleted ones too), keys entering a window. Keys that only left a
          // window are not deleted, so they are left as they were.
          const seen = new Set<Key>([...(u.replace?.keys() ?? []), ...(u.enter?.keys() ?? [])])
          for (const r of u.txns) for (const k of r.txn.keys()) seen.add(k)
          // A replace is the whole result set: a matching doc it lacks is gone (unless a limit cut it).
          if (u.replace !== undefined && !(this.query.kind === 'range' && this.query.limit !== undefined)) {
            for (const k of this.client.docs.keys()) if (!u.replace.has(k) && matchesKey(this.query, k)) seen.add(k)
          }
          for (const k of seen) this.client.learnFromQuery(k, this.view.get(k), u.versions)
          const was = this.caughtUp
          if (u.caughtUp) this.caughtUp = true
          // The client's status (and whenSynced) depends on queries catching up; it also re-emits the rows.
          if (!was && this.caughtUp) this.client.emitStatus()
          else this.emit()
        }
      } catch {
        // the connection ended, or the query was refused: the rows stay as they were
      }
    })()
  }

  /** @internal */
  stop(): void {
    this.sub?.close()
    this.sub = undefined
    this.caughtUp = false
  }
}

/** The rows in query order, cut to a range's `limit` (rows gathered from known docs come unordered). */
function windowOf(q: Query, rows: Map<Key, Value>): Map<Key, Value> {
  const ks = [...rows.keys()].sort()
  if (q.kind === 'range' && q.reverse === true) ks.reverse()
  const limit = q.kind === 'range' ? (q.limit ?? Infinity) : Infinity
  return new Map(ks.slice(0, limit).map(k => [k, rows.get(k) as Value]))
}
