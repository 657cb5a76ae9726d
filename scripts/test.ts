// `npm test`: every check and every suite, then one summary line `N passed, N failed, N skipped`.
// Static checks (types, lint, package boundaries) count as one test each.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { checkBoundaries } from './boundaries.ts'

const root = join(import.meta.dirname, '..')
const results = join(root, '.test-results')
mkdirSync(results, { recursive: true })
let passed = 0
let failed = 0
let skipped = 0
const failures: string[] = []

function record(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++
  else {
    failed++
    failures.push(name)
  }
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail === '' ? '' : `\n${detail}`}`)
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 })
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() }
}

function check(name: string, cmd: string, args: string[]): void {
  const t = Date.now()
  const r = run(cmd, args)
  record(`${name} (${((Date.now() - t) / 1000).toFixed(1)}s)`, r.ok, r.ok ? '' : r.out)
}

const bin = (name: string): string => join(root, 'node_modules', '.bin', name)

check('typecheck', bin('tsc'), ['-p', 'tsconfig.json'])
// Packages with a tsconfig of their own narrow what is visible (core: no DOM, no Node; rules: no Node).
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const tsconfig = join('packages', pkg, 'tsconfig.json')
  if (existsSync(join(root, tsconfig))) check(`typecheck @statecraft/${pkg} with its own narrower tsconfig`, bin('tsc'), ['-p', tsconfig])
}
check('lint (oxlint: no floating promises, no import cycles)', bin('oxlint'), ['--type-aware', '--deny-warnings', '--quiet', '.'])
const problems = checkBoundaries(join(root, 'packages'))
record('package boundaries (core imports nothing platform-specific)', problems.length === 0, problems.join('\n'))

interface VitestJson {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTodoTests: number
  numTotalTests: number
  success: boolean
}

function vitest(name: string, args: string[], outFile: string): void {
  const out = join(results, outFile)
  const r = spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...args], {
    cwd: root,
    stdio: 'inherit',
  })
  if (!existsSync(out)) {
    record(`${name}: vitest produced no report (exit ${r.status})`, false)
    return
  }
  const j = JSON.parse(readFileSync(out, 'utf8')) as VitestJson
  passed += j.numPassedTests
  failed += j.numFailedTests
  skipped += j.numPendingTests + j.numTodoTests
  // A suite that failed to load has no failed test but still fails the run.
  const counted = j.numPassedTests + j.numFailedTests + j.numPendingTests + j.numTodoTests
  if (r.status !== 0 && j.numFailedTests === 0) record(`${name}: vitest exited ${r.status} (a file failed to load?)`, false)
  if (counted === 0) record(`${name}: no tests ran`, false)
}

vitest('unit and integration', [], 'vitest.json')

// Top level only: a recursive listing would walk e2e/node_modules, whose workspace links form cycles.
const e2eSpecs = existsSync(join(root, 'e2e')) ? readdirSync(join(root, 'e2e')).filter(f => f.endsWith('.spec.ts')) : []
if (e2eSpecs.length > 0) {
  {
    const out = join(results, 'playwright.json')
    rmSync(out, { force: true }) // never count an old report
    const t = Date.now()
    const r = spawnSync(join(root, 'e2e', 'node_modules', '.bin', 'playwright'), ['test', '-c', 'e2e/playwright.config.ts'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: out },
    })
    if (!existsSync(out)) record(`e2e: playwright produced no report (exit ${r.status})`, false)
    else {
      const s = (JSON.parse(readFileSync(out, 'utf8')) as { stats: { expected: number; unexpected: number; skipped: number; flaky: number } }).stats
      passed += s.expected
      failed += s.unexpected + s.flaky
      skipped += s.skipped
      console.log(`e2e: ${s.expected} passed, ${s.unexpected + s.flaky} failed in ${((Date.now() - t) / 1000).toFixed(1)}s`)
      // A global setup that failed, or a run that died, fails the run even with no failed test.
      if (r.status !== 0 && s.unexpected + s.flaky === 0) record(`e2e: playwright exited ${r.status}`, false)
      if (s.expected + s.unexpected + s.flaky + s.skipped === 0) record('e2e: no tests ran', false)
    }
  }
}

if (failures.length > 0) console.log(`\nFailed checks: ${failures.join('; ')}`)
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)
