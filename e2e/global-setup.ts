// Builds the demo (when stale) and starts the real server: `statecraft serve --data <tmp> --port 0
// --static apps/demo/dist --rules <demo rules>` on 127.0.0.1. Tests find it in DEMO_URL. Returns
// the teardown, which stops it and removes its data.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildDemo, demoRules } from '../scripts/demo-build.ts'

const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'statecraft.mjs')

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dist = buildDemo()
  if (dist === undefined) throw new Error('the demo app did not build')
  const data = mkdtempSync(join(tmpdir(), 'statecraft-e2e-'))
  const child = spawn(process.execPath, [bin, 'serve', '--data', join(data, 'db'), '--port', '0', '--host', '127.0.0.1', '--static', dist, '--rules', demoRules], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STATECRAFT_SECRET: 'e2e-secret-0123456789abcdef' },
  })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer): void => {
      out += b.toString()
      const m = /open (http:\/\/\S+)/.exec(out)
      if (m?.[1] !== undefined) resolve(m[1])
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', code => reject(new Error(`statecraft serve exited ${code}:\n${out}`)))
    setTimeout(() => reject(new Error(`statecraft serve did not start in 20 s:\n${out}`)), 20_000)
  })
  process.env.DEMO_URL = url
  return async () => {
    await new Promise<void>(resolve => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
    rmSync(data, { recursive: true, force: true })
  }
}
