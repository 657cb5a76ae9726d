// `statecraft serve --rules <module>`: loads a module exporting `rules` (what `createServer`
// takes, e.g. from `defineRules`) and `authenticate(secret)`, and finds the token secret:
// $STATECRAFT_SECRET, or a random one generated once and kept beside the data.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Authenticate, Rules } from '@statecraft/server'

export interface RulesModule {
  rules: Rules<unknown>
  authenticate: (secret: string) => Authenticate<unknown>
}

export async function loadRules(path: string): Promise<RulesModule> {
  const file = resolve(path)
  if (!existsSync(file)) throw new Error(`--rules: no module at ${file}`)
  const m = (await import(pathToFileURL(file).href)) as Partial<Record<string, unknown>>
  if (typeof m.rules !== 'function') throw new Error(`--rules: ${path} must export \`rules\` (e.g. from defineRules)`)
  if (typeof m.authenticate !== 'function') throw new Error(`--rules: ${path} must export \`authenticate(secret)\``)
  return { rules: m.rules as Rules<unknown>, authenticate: m.authenticate as RulesModule['authenticate'] }
}

/**
 * The token secret: STATECRAFT_SECRET when set; else, with a data directory, the one kept in
 * `<data>/token-secret` (made on first use, readable by its owner only); else a fresh one per run.
 */
export function tokenSecret(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.STATECRAFT_SECRET
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const fresh = (): string => randomBytes(32).toString('base64url')
  if (dataDir === undefined) return fresh()
  const file = join(dataDir, 'token-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const s = fresh()
  writeFileSync(file, `${s}\n`, { mode: 0o600 })
  return s
}
