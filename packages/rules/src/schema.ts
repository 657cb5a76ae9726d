// withSchema: a proxy that validates, with zod, the value every write leaves behind (after set,
// json1 or text ops), failing the whole txn with `invalid` and zod's issue path in `details`.
// The rules' `schema` field goes through the same check.
import {
  StatecraftError, checkMutateOptions, checkTxn, closedError, makeSubscription, randomId,
  type FetchOptions, type FetchResult, type GetOpsOptions, type Key, type MutateOptions, type Query, type Store,
  type StoreInfo, type SubscribeOptions, type Subscription, type Txn, type TxnRecord, type Value, type Versions,
} from '@statecraft/core'
import type { ZodType } from 'zod'
import { checkedMutate, type WritePlan } from './checked-mutate.ts'
import { PatternTable } from './pattern.ts'
import { SubscriptionSet } from './subscription-set.ts'

/** Key pattern → the zod schema values under it must fit. The most specific pattern applies. */
export type SchemaTable = Record<string, ZodType>

/** One problem zod found, as it crosses the wire. */
export interface SchemaIssue {
  path: (string | number)[]
  message: string
  code: string
}

/**
 * Throws `invalid` unless `value` fits `schema`; deleting (undefined) always fits. `details` holds
 * the key, the first issue's path and every issue.
 */
export async function checkSchema(schema: ZodType, key: Key, value: Value | undefined): Promise<void> {
  if (value === undefined) return
  const r = await schema.safeParseAsync(value)
  if (r.success) return
  const issues: SchemaIssue[] = r.error.issues.map(i => ({
    path: i.path.map(p => (typeof p === 'symbol' ? String(p) : p)),
    message: i.message,
    code: i.code,
  }))
  const first = issues[0] ?? { path: [], message: 'does not fit', code: 'custom' }
  const at = first.path.length === 0 ? '' : ` at ${first.path.join('.')}`
  throw new StatecraftError('invalid', `the value of ${JSON.stringify(key)} does not fit its schema${at}: ${first.message}`, {
    key,
    path: first.path,
    issues,
  })
}

/** Checks the new value of every planned write that has a schema. */
export async function checkPlanSchemas(plan: WritePlan, schemaFor: (key: Key) => ZodType | undefined): Promise<void> {
  for (const w of plan.writes.values()) {
    const schema = schemaFor(w.key)
    if (schema !== undefined) await checkSchema(schema, w.key, w.newValue())
  }
}

/** A store whose native queries can say which keys they read (so rules can check them). */
export interface NativeKeysReporter {
  nativeKeys(query: Extract<Query, { kind: 'native' }>): Key[] | undefined | Promise<Key[] | undefined>
}

export const nativeKeysOf = (s: Store): NativeKeysReporter['nativeKeys'] | undefined => {
  const f = (s as Partial<NativeKeysReporter>).nativeKeys
  return typeof f === 'function' ? f.bind(s) : undefined
}

/**
 * A store whose writes must leave values that fit `schemas` (most specific pattern wins; keys no
 * pattern matches are not checked). Reads pass through. Closing it ends its subscriptions; the
 * store behind it stays open.
 */
export function withSchema(store: Store, schemas: SchemaTable): Store {
  return new SchemaStore(store, new PatternTable(schemas, 'schema pattern'))
}

class SchemaStore implements Store {
  readonly info: StoreInfo
  private closed = false
  private readonly subs = new SubscriptionSet()
  readonly nativeKeys: NativeKeysReporter['nativeKeys'] | undefined

  constructor(
    private readonly inner: Store,
    private readonly table: PatternTable<ZodType>,
  ) {
    this.info = { ...inner.info, uid: randomId() }
    this.nativeKeys = nativeKeysOf(inner)
  }

  private checkOpen(): void {
    if (this.closed) throw closedError()
  }

  private schemaFor = (key: Key): ZodType | undefined => this.table.match(key)?.value

  async fetch(q: Query, o?: FetchOptions): Promise<FetchResult> {
    this.checkOpen()
    return this.inner.fetch(q, o)
  }

  async getOps(q: Query, from: Versions, to?: Versions, o?: GetOpsOptions): Promise<TxnRecord[]> {
    this.checkOpen()
    return this.inner.getOps(q, from, to, o)
  }

  subscribe(q: Query, o?: SubscribeOptions): Subscription {
    if (this.closed) return failedSubscription(closedError())
    return this.subs.track(this.inner.subscribe(q, o))
  }

  async mutate(txn: Txn, o: MutateOptions = {}): Promise<Versions> {
    this.checkOpen()
    checkTxn(txn)
    checkMutateOptions(o)
    if (![...txn.keys()].some(k => this.schemaFor(k) !== undefined)) return this.inner.mutate(txn, o)
    return checkedMutate(this.inner, txn, o, plan => checkPlanSchemas(plan, this.schemaFor))
  }

  async close(): Promise<void> {
    this.closed = true
    this.subs.closeAll()
  }
}

/** A subscription whose first read fails with `err`. */
export function failedSubscription(err: StatecraftError): Subscription {
  const { sub, feed } = makeSubscription(() => {})
  feed.end(err)
  return sub
}
