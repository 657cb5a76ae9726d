// @statecraft/rules: access rules, schemas and capability tokens, each a proxy in front of any
// store (or the hook the server calls per connection).
export { defineRules } from './define-rules.ts'
export type { Rule, RuleTable, RuleSet, RulesOptions, ReadArgs, WriteArgs, Check, CompiledRules } from './rule-types.ts'
export { withRules } from './with-rules.ts'
export { withSchema, checkSchema, type SchemaTable, type SchemaIssue, type NativeKeysReporter } from './schema.ts'
export { anonymous, rulesContext, CapabilityClaims, type Anonymous, type RulesContext, type ConnectionClaims, type Right, type Caveat } from './claims.ts'
export {
  issueToken, narrowToken, verifyToken, tokenAuthenticator, isCapabilityToken,
  type TokenGrant, type TokenNarrowing, type TokenSecret,
} from './token.ts'
export { parsePattern, matchPattern, compareSpecificity, type Pattern, type Params } from './pattern.ts'
