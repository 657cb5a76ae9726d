// The proxies keep the store contract: the conformance suite through withRules (static rules,
// rules that look at values, a schema in a rule) and withSchema, all allowing everything.
import { z } from 'zod'
import { memoryStore, type Store } from '@statecraft/core'
import { runStoreTests } from '@statecraft/test-kit'
import { defineRules, withRules, withSchema, type RuleSet } from '@statecraft/rules'

const ctx = { auth: null }

const allowAll = defineRules({ '**': { read: true, write: true } })

// Rules that read values send every read and write down the checked paths.
const allowByValue = defineRules({
  '**': {
    read: ({ value }) => value !== '__never__',
    write: ({ oldValue, newValue }) => oldValue !== '__never__' && newValue !== '__never__',
  },
})

const allowWithSchema = defineRules({ '**': { read: true, write: true, schema: z.unknown() } })

function suite(name: string, wrap: (s: Store) => Store): void {
  runStoreTests(name, () => wrap(memoryStore()), { makeStoreWithHistory: n => wrap(memoryStore({ historyLimit: n })) })
}

const rules = (r: RuleSet<unknown>) => (s: Store): Store => withRules(s, r, ctx)

suite('withRules (allow all)', rules(allowAll))
suite('withRules (allow all, by value)', rules(allowByValue))
suite('withRules (allow all, schema in the rule)', rules(allowWithSchema))
suite('withSchema (permissive)', s => withSchema(s, { '**': z.unknown(), 'typed/{id}': z.object({ n: z.number() }).or(z.unknown()) }))
