// @statecraft/cli/register: tsx runs everything as before, but the Statecraft packages' own sources
// are compiled without esbuild's keepNames, so the closures they make per connection, subscription
// and write keep V8's fast properties (load-hooks.mjs says why and what it saves).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
// @ts-expect-error: a plain .mjs module, no types
import { compile } from '../load-hooks.mjs'

const cli = join(import.meta.dirname, '..')
const fixture = join(import.meta.dirname, 'fixtures', 'closures.ts')
const run = (loader: string): Record<string, boolean> =>
  JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '--import', loader, fixture], { cwd: cli, encoding: 'utf8' })) as Record<string, boolean>

test('closures made in the packages keep fast properties under the register hook, not under plain tsx', () => {
  expect(run(join(cli, 'register.mjs'))).toEqual({ 'sub[LISTEN]': true, named: true })
  // The same modules under tsx alone: the difference the hook exists for.
  expect(run('tsx')).toEqual({ 'sub[LISTEN]': false, named: false })
})

test('compile: no __name wrappers, class fields defined, imports kept as written, a source map inline', async () => {
  const src = readFileSync(join(cli, '..', 'core', 'src', 'subscription.ts'), 'utf8')
  const out = (await compile(src, 'subscription.ts')) as string
  expect(src).toMatch(/const finish = \(/)
  expect(out).not.toMatch(/__name\(/)
  expect(out).toMatch(/sourceMappingURL=data:application\/json;base64,/)
  const cls = (await compile('import { a } from "./a.ts"\nexport class C { x = 1; constructor(private y: number) {} }', 'c.ts')) as string
  expect(cls).toMatch(/import \{ a \} from "\.\/a\.ts"/) // verbatimModuleSyntax: an unused import stays
  expect(cls).toMatch(/\bx = 1;/) // a class field, as ES2022 defines it
})
