// The gate: one connection's decisions. It finds the rule for a key, calls it with the connection's
// claims, and, when the caller has no values at hand, says whether the rule needs them: a rule is
// first called with values that are not loaded; if it touches one, the caller loads the values and
// asks again. A key whose rule never looks at values is decided without reading the store.
import { StatecraftError, type Key, type Value } from '@statecraft/core'
import type { ZodType } from 'zod'
import type { RulesContext, Right } from './claims.ts'
import type { Params } from './pattern.ts'
import type { Check, CompiledRules, ReadArgs, WriteArgs } from './rule-types.ts'

/** Allowed, denied, or "call me again with the values". */
export type Decision = boolean | 'values'

/** Lazily computed values; a thunk may throw (an op that does not apply): the rule then denies. */
export interface WriteValues {
  oldValue: () => Value | undefined
  newValue: () => Value | undefined
}

const NOT_LOADED: unique symbol = Symbol('statecraft rules: values not loaded')

const defaultOnError = (e: unknown, where: { pattern: string; right: Right; key: Key }): void => {
  console.warn(`statecraft rules: the ${where.right} rule of ${JSON.stringify(where.pattern)} threw on ${JSON.stringify(where.key)} (denied): ${e instanceof Error ? e.message : String(e)}`)
}

/** The longest a timer can wait (setTimeout's limit). */
const MAX_TIMER_MS = 2 ** 31 - 1

export class Gate<C> {
  constructor(
    private readonly rules: CompiledRules<C>,
    private readonly ctx: RulesContext<C>,
  ) {}

  get admin(): boolean {
    return this.ctx.admin === true
  }

  /** Throws `unauthorized` once a token's grant has expired. */
  checkLive(): void {
    if (this.ctx.capability?.expired() === true) throw new StatecraftError('unauthorized', 'the token has expired')
  }

  /** Ms until the grant expires (capped to what a timer can wait), or undefined when it does not. */
  expiresIn(): number | undefined {
    const exp = this.ctx.capability?.exp
    return exp === undefined ? undefined : Math.min(Math.max(0, exp - Date.now()), MAX_TIMER_MS)
  }

  /** The schema the value of `key` must fit (from its rule), whoever writes it. */
  schemaFor(key: Key): ZodType | undefined {
    return this.rules.table.match(key)?.value.schema
  }

  /** May this connection read `key`? Without `value`, answers 'values' when the rule needs it. */
  async read(key: Key, value?: () => Value | undefined): Promise<Decision> {
    const fixed = this.fixed('read', key)
    if (fixed !== undefined) return fixed
    const m = this.rules.table.match(key)
    if (m === undefined) return false
    const loaded = value === undefined ? undefined : { value }
    return this.call<ReadArgs<C>>(m.value.read, 'read', m.pattern, key, m.params, ['value'], loaded)
  }

  /** May this connection write `key`? Without `values`, answers 'values' when the rule needs them. */
  async write(key: Key, values?: WriteValues): Promise<Decision> {
    const fixed = this.fixed('write', key)
    if (fixed !== undefined) return fixed
    const m = this.rules.table.match(key)
    if (m === undefined) return false
    const loaded = values === undefined ? undefined : { oldValue: values.oldValue, newValue: values.newValue, value: values.newValue }
    return this.call<WriteArgs<C>>(m.value.write, 'write', m.pattern, key, m.params, ['oldValue', 'newValue', 'value'], loaded)
  }

  /** The decision when it does not depend on the rule table: admins and token holders. */
  private fixed(right: Right, key: Key): boolean | undefined {
    if (this.ctx.admin === true) return true
    if (this.ctx.capability !== undefined) return this.ctx.capability.allows(right, key)
    return undefined
  }

  private async call<A>(
    check: Check<A> | undefined,
    right: Right,
    pattern: string,
    key: Key,
    params: Params,
    names: string[],
    loaded: Record<string, () => Value | undefined> | undefined,
  ): Promise<Decision> {
    if (check === undefined || check === false) return false
    if (check === true) return true
    let touched = false
    let thunkFailed = false
    const args: Record<string, unknown> = { auth: this.ctx.auth, params: { ...params }, key }
    for (const name of names) {
      Object.defineProperty(args, name, {
        enumerable: true,
        get() {
          touched = true
          const thunk = loaded?.[name]
          if (thunk === undefined) throw NOT_LOADED
          try {
            return thunk()
          } catch (e) {
            thunkFailed = true
            throw e
          }
        },
      })
    }
    try {
      const out = await check(args as A)
      if (touched && loaded === undefined) return 'values'
      return out === true
    } catch (e) {
      if (touched && loaded === undefined) return 'values'
      if (!thunkFailed) {
        try {
          ;(this.rules.options.onError ?? defaultOnError)(e, { pattern, right, key })
        } catch {
          // A failing error hook must not turn a denial into anything else.
        }
      }
      return false
    }
  }
}
