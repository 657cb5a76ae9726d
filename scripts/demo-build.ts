// Builds apps/demo into apps/demo/dist when the build is missing or older than any source it is
// made from (the app and the browser-side packages). Used by `npm start` and the e2e setup.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
export const demoDir = join(root, 'apps', 'demo')
export const demoDist = join(demoDir, 'dist')
/** The rules `npm start` and the e2e server run with. */
export const demoRules = join(root, 'packages', 'rules', 'examples', 'demo-rules.ts')

const SOURCES = [
  join(demoDir, 'src'), join(demoDir, 'index.html'), join(demoDir, 'vite.config.ts'), join(demoDir, 'package.json'),
  ...['core', 'protocol', 'idb', 'client', 'react'].map(p => join(root, 'packages', p, 'src')),
]

function newest(path: string): number {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  let m = s.mtimeMs
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)))
  return m
}

/** True when dist/index.html is missing or older than a source. */
export function demoIsStale(): boolean {
  const index = join(demoDist, 'index.html')
  if (!existsSync(index)) return true
  const built = statSync(index).mtimeMs
  return SOURCES.some(s => newest(s) > built)
}

/** Builds the demo if needed; returns its dist directory, or undefined when it could not be built. */
export function buildDemo(log: (m: string) => void = m => console.log(m)): string | undefined {
  if (!demoIsStale()) return demoDist
  log('statecraft: building the demo app (vite build)…')
  const vite = join(demoDir, 'node_modules', '.bin', 'vite')
  const r = spawnSync(vite, ['build', '--logLevel', 'warn'], { cwd: demoDir, stdio: 'inherit' })
  if (r.status !== 0 || !existsSync(join(demoDist, 'index.html'))) {
    log(`statecraft: the demo app did not build (exit ${r.status}); serving the sync endpoint only`)
    return existsSync(join(demoDist, 'index.html')) ? demoDist : undefined
  }
  return demoDist
}
