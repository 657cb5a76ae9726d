// The README shows the demo rules file as it is (the demo app imports the file).
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'

test('README.md holds examples/demo-rules.ts verbatim', () => {
  const dir = new URL('..', import.meta.url)
  const readme = readFileSync(new URL('README.md', dir), 'utf8')
  const demo = readFileSync(new URL('examples/demo-rules.ts', dir), 'utf8')
  expect(readme).toContain('```ts\n' + demo + '```')
})
