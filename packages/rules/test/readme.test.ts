// The READMEs show the demo rules file as it is (the demo app imports the file).
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'

const dir = new URL('..', import.meta.url)
const demo = readFileSync(new URL('examples/demo-rules.ts', dir), 'utf8')

test.each([
  ['packages/rules/README.md', new URL('README.md', dir)],
  ['the root README.md', new URL('../../README.md', dir)],
])('%s holds examples/demo-rules.ts verbatim', (_name, file) => {
  expect(readFileSync(file, 'utf8')).toContain('```ts\n' + demo + '```')
})
