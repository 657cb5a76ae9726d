// The types of a rule table: what read and write rules see, a rule, the options, and the
// compiled rule set that `withRules` checks calls against.
import type { Key, NativeQuery, Store, Value } from '@statecraft/core'
import type { ZodType } from 'zod'
import type { ConnectionClaims } from './claims.ts'
import type { PatternTable, Params } from './pattern.ts'

/** What a read rule sees. */
export interface ReadArgs<C> {
  /** The connection's claims; null for anonymous visitors. */
  auth: C | null
  /** The pattern's `{param}` segments, by name. */
  params: Params
  key: Key
  /** The value being read (undefined when the key is absent). */
  readonly value: Value | undefined
}

/** What a write rule sees. */
export interface WriteArgs<C> {
  auth: C | null
  params: Params
  key: Key
  /** The value before the write (undefined = absent). */
  readonly oldValue: Value | undefined
  /** The value the write leaves (undefined = deleted), after any op (set, json1, text) is applied. */
  readonly newValue: Value | undefined
  /** The same as `newValue` (the value being written). */
  readonly value: Value | undefined
}

/** A right: `true`/`false`, or a function that returns (or resolves to) exactly `true` to allow. */
export type Check<A> = boolean | ((args: A) => boolean | Promise<boolean>)

export interface Rule<C> {
  /** Default false. */
  read?: Check<ReadArgs<C>>
  /** Default false. */
  write?: Check<WriteArgs<C>>
  /** Every value written under this pattern must parse (deletes always pass). */
  schema?: ZodType
}

export type RuleTable<C> = Record<string, Rule<C>>

export interface RulesOptions<C> {
  /** Claims for which every read and write is allowed (schemas still apply), and native queries run. */
  admin?: (auth: C) => boolean
  /**
   * Called when a rule function throws (the access is denied). Default: console.warn naming the
   * pattern and right. Never reaches the client.
   */
  onError?: (error: unknown, where: { pattern: string; right: 'read' | 'write'; key: Key }) => void
  /**
   * For stores with native queries: the keys a native query reads, or undefined when that cannot
   * be said (the query is then refused with `forbidden`, except for admins). A store may instead
   * have a `nativeKeys(query)` method of its own.
   */
  nativeKeys?: (query: NativeQuery) => Key[] | undefined | Promise<Key[] | undefined>
}

/** The compiled form `withRules` uses. */
export interface CompiledRules<C> {
  readonly table: PatternTable<Rule<C>>
  readonly options: RulesOptions<C>
}

/**
 * A compiled rule table. Call it as `(store, claims)` to get a connection's view of `store`: this
 * is the signature of the server's `rules` option.
 */
export interface RuleSet<C> {
  (store: Store, claims: ConnectionClaims<C>): Store
  readonly compiled: CompiledRules<C>
  /** The patterns, most specific first (the order a key is matched in). */
  readonly patterns: readonly string[]
  /** The rule that decides `key`, with its pattern and params; undefined = none (deny). */
  ruleFor(key: Key): { pattern: string; params: Params; rule: Rule<C> } | undefined
}
