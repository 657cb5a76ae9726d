// The package-boundary check itself: it must catch platform imports in core, and pass the real tree.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { checkBoundaries, importsOf } from '../boundaries.ts'

let dir: string | undefined
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

function fakeCore(source: string): string[] {
  dir = mkdtempSync(join(tmpdir(), 'boundaries-'))
  mkdirSync(join(dir, 'core', 'src'), { recursive: true })
  writeFileSync(join(dir, 'core', 'src', 'x.ts'), source)
  return checkBoundaries(dir)
}

test('finds static, side-effect, re-export and dynamic imports, not commented ones', () => {
  expect(importsOf(`import a from 'a'\nimport type { B } from "b"\nexport { c } from './c.ts'\nimport 'd'\nconst e = await import('e')\n// import f from 'f'`))
    .toEqual(['a', 'b', './c.ts', 'd', 'e'])
})

test.each([
  [`import { readFile } from 'node:fs'`, 'node:fs'],
  [`import { EventEmitter } from 'events'`, 'events'],
  [`import WebSocket from 'ws'`, 'ws'],
  [`import { useState } from 'react'`, 'react'],
  [`const m = await import('node:crypto')`, 'node:crypto'],
])('core importing %s fails the check', (src, spec) => {
  const problems = fakeCore(src)
  expect(problems).toHaveLength(1)
  expect(problems[0]).toContain(spec)
})

test('core importing its OT libraries and its own files passes', () => {
  expect(fakeCore(`import { type } from 'ot-json1'\nimport * as t from 'ot-text-unicode'\nimport { x } from './y.ts'`)).toEqual([])
})

test('the real packages respect their boundaries', () => {
  expect(checkBoundaries(join(import.meta.dirname, '..', '..', 'packages'))).toEqual([])
})
