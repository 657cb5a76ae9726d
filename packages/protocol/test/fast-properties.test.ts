// The objects made per subscription (core's feed) and per connection (socketPort) keep V8's fast
// properties: their getters are on a prototype. An object literal with a getter of its own is
// created in dictionary mode (~290 bytes, slow property reads), which is what they were.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { expect, test } from 'vitest'

test('a subscription feed and a socket port have fast properties', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'fast-properties.ts')
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', fixture], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' })
  expect(JSON.parse(out)).toEqual({ feed: true, port: true, feedClosed: false, portBuffered: 0 })
})
