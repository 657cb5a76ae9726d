// defineRules: a table of key patterns to read/write rules and schemas, compiled once. The rule set
// is also the server's `rules` hook: called with a connection's claims it gives that connection's
// view of the store.
import { StatecraftError, type Key, type Store } from '@statecraft/core'
import { rulesContext, type ConnectionClaims } from './claims.ts'
import { PatternTable } from './pattern.ts'
import type { CompiledRules, RuleSet, RuleTable, RulesOptions } from './rule-types.ts'
import { withRules } from './with-rules.ts'

const RULE_FIELDS = new Set(['read', 'write', 'schema'])

function checkRule(pattern: string, rule: unknown): void {
  if (typeof rule !== 'object' || rule === null) throw new StatecraftError('invalid', `the rule for ${JSON.stringify(pattern)} must be an object`)
  for (const [k, v] of Object.entries(rule)) {
    if (!RULE_FIELDS.has(k)) throw new StatecraftError('invalid', `the rule for ${JSON.stringify(pattern)} has an unknown field ${JSON.stringify(k)} (read, write, schema)`)
    if ((k === 'read' || k === 'write') && typeof v !== 'boolean' && typeof v !== 'function' && v !== undefined) {
      throw new StatecraftError('invalid', `${JSON.stringify(pattern)}.${k} must be true, false or a function`)
    }
    if (k === 'schema' && v !== undefined && typeof (v as { safeParseAsync?: unknown }).safeParseAsync !== 'function') {
      throw new StatecraftError('invalid', `${JSON.stringify(pattern)}.schema must be a zod schema`)
    }
  }
}

/**
 * Compiles a rule table. Keys match the most specific pattern (see the README for the order); its
 * rule alone decides, and a key no pattern matches can be neither read nor written.
 */
export function defineRules<C = unknown>(table: RuleTable<C>, options: RulesOptions<C> = {}): RuleSet<C> {
  for (const [pattern, rule] of Object.entries(table)) checkRule(pattern, rule)
  const compiled: CompiledRules<C> = { table: new PatternTable(table, 'rule pattern'), options }
  const apply = (store: Store, claims: ConnectionClaims<C>): Store => withRules(store, set, rulesContext(claims, options.admin))
  const set: RuleSet<C> = Object.assign(apply, {
    compiled,
    patterns: compiled.table.patterns,
    ruleFor(key: Key) {
      const m = compiled.table.match(key)
      return m === undefined ? undefined : { pattern: m.pattern, params: m.params, rule: m.value }
    },
  })
  return set
}
