// Key patterns: what each segment kind matches, what is refused, and which rule wins for a key
// (the precedence the README documents).
import { expect, test } from 'vitest'
import { StatecraftError } from '@statecraft/core'
import { defineRules, matchPattern, parsePattern } from '@statecraft/rules'

const m = (p: string, k: string): Record<string, string> | undefined => matchPattern(parsePattern(p), k)

test('literals, {params}, * and ** tails match whole segments', () => {
  expect(m('users/{uid}', 'users/ann')).toEqual({ uid: 'ann' })
  expect(m('users/{uid}', 'users/ann/x')).toBeUndefined()
  expect(m('users/{uid}', 'users')).toBeUndefined()
  expect(m('users/{uid}', 'users/')).toBeUndefined() // a param is never empty
  expect(m('users/*/posts', 'users/ann/posts')).toEqual({})
  expect(m('todos/{uid}/**', 'todos/ann/1')).toEqual({ uid: 'ann' })
  expect(m('todos/{uid}/**', 'todos/ann/a/b/c')).toEqual({ uid: 'ann' })
  expect(m('todos/{uid}/**', 'todos/ann')).toBeUndefined() // ** is one or more segments
  expect(m('files/{path=**}', 'files/a/b.txt')).toEqual({ path: 'a/b.txt' })
  expect(m('**', '')).toEqual({})
  expect(m('**', 'any/thing')).toEqual({})
  expect(m('public/**', 'publicx/a')).toBeUndefined()
  expect(m('a.b/{x}', 'a.b/y')).toEqual({ x: 'y' }) // no regex meaning in literals
})

test.each([
  ['a/**/b', '** (or {name=**}) may only be the last segment'],
  ['a/{x}/{x}', 'the parameter x appears twice'],
  ['a/{1x}', 'must be {name} or {name=**}'],
  ['a/x*', 'mixes text'],
  ['a/{x}y', 'mixes text'],
])('the pattern %s is refused', (p, why) => {
  let err: unknown
  try {
    parsePattern(p)
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(StatecraftError)
  expect((err as StatecraftError).code).toBe('invalid')
  expect((err as StatecraftError).message).toContain(why)
})

test('the most specific pattern wins: literal over {param} over **, leftmost difference first', () => {
  const rules = defineRules({
    '**': {},
    'users/**': {},
    'users/{uid}': {},
    'users/admin': {},
    'users/{uid}/**': {},
    'users/{uid}/private/**': {},
    '{any}/settings': {},
    'users/{uid}/settings': {},
    '{team}/{uid}/settings': {},
  })
  const winner = (k: string): string | undefined => rules.ruleFor(k)?.pattern
  expect(winner('users/admin')).toBe('users/admin')
  expect(winner('users/ann')).toBe('users/{uid}')
  expect(winner('users/ann/x')).toBe('users/{uid}/**')
  expect(winner('users/ann/private/x/y')).toBe('users/{uid}/private/**')
  expect(winner('users/ann/settings')).toBe('users/{uid}/settings')
  expect(winner('teams/ann/settings')).toBe('{team}/{uid}/settings')
  // The README's example: without the more specific ones, users/** still beats {team}/{uid}/settings.
  const r2 = defineRules({ 'users/**': {}, '{team}/{uid}/settings': {}, '**': {} })
  expect(r2.ruleFor('users/ann/settings')?.pattern).toBe('users/**')
  expect(winner('teams/settings')).toBe('{any}/settings')
  // The leftmost segment decides: a literal first segment beats a param one, whatever follows.
  expect(winner('users/settings')).toBe('users/{uid}')
  expect(winner('other')).toBe('**')
  expect(rules.ruleFor('users/ann/x')?.params).toEqual({ uid: 'ann' })
  expect(rules.patterns[0]).toBe('users/admin')
  expect(rules.patterns[rules.patterns.length - 1]).toBe('**')
})

test('patterns that match the same keys, and malformed rules, are refused at defineRules', () => {
  expect(() => defineRules({ 'a/{x}': {}, 'a/{y}': {} })).toThrow(/match the same keys/)
  expect(() => defineRules({ 'a/**': {}, 'a/{rest=**}': {} })).toThrow(/match the same keys/)
  expect(() => defineRules({ a: { read: 'yes' } as never })).toThrow(/must be true, false or a function/)
  expect(() => defineRules({ a: { reed: true } as never })).toThrow(/unknown field "reed"/)
  expect(() => defineRules({ a: { schema: {} } as never })).toThrow(/zod schema/)
})
