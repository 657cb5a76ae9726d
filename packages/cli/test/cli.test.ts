// The `statecraft` command as a user runs it: a real process, a real socket, data that survives a restart.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { keys } from '@statecraft/core'
import { connect } from '@statecraft/client'

const bin = join(import.meta.dirname, '..', 'bin', 'statecraft.mjs')
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'statecraft-cli-'))
  dirs.push(d)
  return d
}

/** Starts `statecraft ...args`; resolves with the ws URL it prints. */
function start(args: string[]): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer): void => {
      out += b.toString()
      const m = /on (ws:\/\/\S+)/.exec(out)
      if (m?.[1] !== undefined) resolve({ url: m[1], child, output: () => out })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', code => reject(new Error(`statecraft exited ${code}: ${out}`)))
  })
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr.on('data', (b: Buffer) => (out += b.toString()))
  return new Promise(resolve => child.on('exit', code => resolve({ code, out })))
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise(resolve => {
    child.on('exit', code => resolve(code))
    child.kill('SIGTERM')
  })
}

test('serve --data keeps writes across a restart, and versions continue', async () => {
  const data = join(tempDir(), 'db')
  const a = await start(['serve', '--data', data, '--port', '0'])
  const s1 = await connect(a.url)
  const v1 = await s1.mutate(new Map([['todos/1', { type: 'set', value: { title: 'survive a restart' } }]]))
  await s1.close()
  expect(await stop(a.child)).toBe(0)

  const b = await start(['serve', '--data', data, '--port', '0'])
  const s2 = await connect(b.url)
  const r = await s2.fetch(keys('todos/1'))
  expect(r.results.get('todos/1')).toEqual({ title: 'survive a restart' })
  const v2 = await s2.mutate(new Map([['todos/2', { type: 'del' }]]))
  expect(Object.values(v2)[0]).toBe((Object.values(v1)[0] as number) + 1)
  await s2.close()
  expect(await stop(b.child)).toBe(0)
}, 30_000)

test('serve --memory serves a throwaway store', async () => {
  const a = await start(['serve', '--memory', '--port', '0'])
  expect(a.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/sync$/)
  const s = await connect(a.url)
  await s.mutate(new Map([['k', { type: 'set', value: 1 }]]))
  expect((await s.fetch(keys('k'))).results.get('k')).toBe(1)
  await s.close()
}, 30_000)

test.each([
  [['serve', '--port', 'http'], '--port must be a whole number'],
  [['serve', '--port', '70000'], '--port must be a whole number'],
  [['serve', '--bogus'], "Unknown option '--bogus'"],
  [['serve', '--path', 'sync'], '--path must start with /'],
  [['launch'], 'unknown command "launch"'],
])('bad arguments %j exit 2 naming the problem', async (args, message) => {
  const r = await run(args)
  expect(r.code).toBe(2)
  expect(r.out).toContain(message)
  expect(r.out).toContain('Usage: statecraft serve')
}, 30_000)

test('a --data directory that is not a Statecraft store is refused and left as it was', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'notes.txt'), 'my files')
  const r = await run(['serve', '--data', dir, '--port', '0'])
  expect(r.code).toBe(1)
  expect(r.out).toContain('could not start')
  expect(readdirSync(dir)).toEqual(['notes.txt'])
  expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('my files')
}, 30_000)

const demoRules = join(import.meta.dirname, '..', '..', 'rules', 'examples', 'demo-rules.ts')

test('serve --rules: the demo rules let a user write their own todos only; the secret is kept beside the data', async () => {
  const data = join(tempDir(), 'db')
  const env = { ...process.env }
  delete env.STATECRAFT_SECRET
  const a = await start(['serve', '--data', data, '--port', '0', '--rules', demoRules])
  expect(a.output()).toContain('with the rules of')
  const ann = await connect(a.url, { auth: () => 'ann' })
  await ann.mutate(new Map([['todos/ann/1', { type: 'set', value: { title: 'mine', done: false } }]]))
  await expect(ann.mutate(new Map([['todos/bob/1', { type: 'set', value: { title: 'his', done: false } }]]))).rejects.toMatchObject({ code: 'forbidden' })
  await expect(ann.mutate(new Map([['todos/ann/2', { type: 'set', value: { title: 'x'.repeat(501), done: false } }]]))).rejects.toMatchObject({ code: 'invalid' })
  await ann.close()
  const secret = readFileSync(join(data, 'token-secret'), 'utf8')
  expect(secret.trim().length).toBeGreaterThanOrEqual(32)
  expect(await stop(a.child)).toBe(0)

  // A restart reopens the store with the secret file beside it, and keeps the same secret.
  const b = await start(['serve', '--data', data, '--port', '0', '--rules', demoRules])
  const bob = await connect(b.url, { auth: () => 'bob' })
  expect((await bob.fetch(keys('todos/ann/1'))).results.size).toBe(0)
  await bob.close()
  expect(readFileSync(join(data, 'token-secret'), 'utf8')).toBe(secret)
  expect(await stop(b.child)).toBe(0)
}, 30_000)

test('serve --rules with a module that exports no rules exits 1 naming the problem', async () => {
  const dir = tempDir()
  const mod = join(dir, 'bad.mts')
  writeFileSync(mod, 'export const nothing = 1\n')
  const r = await run(['serve', '--memory', '--port', '0', '--rules', mod])
  expect(r.code).toBe(1)
  expect(r.out).toContain('must export `rules`')
}, 30_000)
