// The editing traces (Joseph Gentle's editing-traces, CC BY 4.0; see ../shared/traces/ATTRIBUTION.md).
// Read from ../shared/traces beside the repo, never copied into it.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

export type Patch = [pos: number, del: number, ins: string]
export interface Trace {
  name: string
  endContent: string
  /** Each txn's patches, in order (a txn is one user action). */
  txns: Patch[][]
  patches: number
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const TRACES_DIR = join(repoRoot, '..', 'shared', 'traces')
export const SEQUENTIAL = ['seph-blog1', 'sveltecomponent', 'friendsforever_flat'] as const

export const hasTrace = (name: string): boolean => existsSync(join(TRACES_DIR, `${name}.json.gz`))

export function loadTrace(name: string): Trace {
  const raw = JSON.parse(gunzipSync(readFileSync(join(TRACES_DIR, `${name}.json.gz`))).toString('utf8')) as {
    endContent: string
    txns: { patches: Patch[] }[]
  }
  const txns = raw.txns.map(t => t.patches)
  return { name, endContent: raw.endContent, txns, patches: txns.reduce((n, t) => n + t.length, 0) }
}
