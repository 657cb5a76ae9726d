#!/usr/bin/env node
// Installs what `npm start` / `npm test` need, idempotently: pnpm (through npm), the workspace's
// dependencies, and, with --browser, Debian's chromium for browser tests. Plain Node, no deps.
import { execSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PNPM_VERSION = '12.21.0'
const log = msg => console.log(`[setup] ${msg}`)

function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'pipe', encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

function run(cmd, opts = {}) {
  execSync(cmd, { stdio: 'inherit', cwd: root, ...opts })
}

function ensurePnpm() {
  if (has('pnpm') !== undefined) return
  log(`installing pnpm@${PNPM_VERSION} with npm`)
  try {
    run(`npm install -g pnpm@${PNPM_VERSION} --no-fund --no-audit`)
  } catch {
    throw new Error(`could not install pnpm globally; run: npm install -g pnpm@${PNPM_VERSION}`)
  }
  if (has('pnpm') === undefined) throw new Error('pnpm was installed but is not on PATH; add npm\'s global bin folder (npm prefix -g)/bin to PATH')
}

function ensureDeps() {
  // --frozen-lockfile: a fresh clone gets exactly the locked versions; warm runs take under a second.
  run('pnpm install --frozen-lockfile --prefer-offline --reporter=silent')
}

export const CHROMIUM = '/usr/bin/chromium'

function ensureChromium() {
  if (existsSync(CHROMIUM)) return
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (!isRoot || has('apt-get', ['--version']) === undefined) {
    // Not fatal: the browser tests report themselves skipped, and the summary line counts them.
    console.warn(`[setup] browser tests need Debian's chromium at ${CHROMIUM} and will be skipped; install it with: sudo apt-get update && sudo apt-get install -y chromium`)
    return
  }
  log('installing Debian chromium for browser tests (apt-get)')
  run('apt-get update -qq', { stdio: ['ignore', 'ignore', 'inherit'] })
  run('apt-get install -y -qq chromium', { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

try {
  ensurePnpm()
  ensureDeps()
  if (process.argv.includes('--browser')) ensureChromium()
} catch (e) {
  console.error(`[setup] ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
}
