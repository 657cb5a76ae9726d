// Bad values are refused with an error naming where the bad part is. The checks judge a value in a
// first pass that builds no path strings, and build the path only for a value that fails: these
// pin the messages, so the fast pass and the one that words the error cannot drift apart.
import { expect, test } from 'vitest'
import { StatecraftError, checkTxn, checkValue, freezeJson, type Txn } from '@statecraft/core'

function messageOf(f: () => void): string {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(StatecraftError)
    expect((e as StatecraftError).code).toBe('invalid')
    return (e as Error).message
  }
  throw new Error('expected a throw')
}

const set = (value: unknown): Txn => new Map([['todos/1', { type: 'set', value } as never]])

test('a bad value inside a txn is named by key and path', () => {
  expect(messageOf(() => checkTxn(set({ a: [1, NaN] })))).toBe('op on "todos/1".value.a[1] is NaN, which JSON cannot hold')
  expect(messageOf(() => checkTxn(set({ a: { b: undefined } })))).toBe('op on "todos/1".value.a.b is undefined; values are JSON or a Uint8Array')
  expect(messageOf(() => checkTxn(set([new Date(0)])))).toBe('op on "todos/1".value[0] is a Date; values are JSON or a Uint8Array')
  expect(messageOf(() => checkTxn(new Map([['k', { type: 'set' } as never]])))).toBe('op on "k" is a set with no value')
  expect(messageOf(() => checkTxn(new Map([['k', null as never]])))).toBe('op on "k" must be an object with a type')
})

test('nesting past 1000 levels is refused by name, 1000 is fine', () => {
  const nest = (n: number): unknown => {
    let v: unknown = 1
    for (let i = 0; i < n; i++) v = [v]
    return v
  }
  expect(() => checkValue(nest(1000))).not.toThrow()
  expect(messageOf(() => checkValue(nest(1002)))).toMatch(/^value(\[0\]){1001} is nested too deeply \(over 1000 levels\)$/)
})

test('good values pass: JSON of every kind, binary, null-prototype objects', () => {
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 })
  for (const v of [null, true, 0, -1.5, '', 'é😀', [], {}, { a: [1, { b: 'c' }] }, new Uint8Array([1, 2]), bare]) {
    expect(() => checkValue(v)).not.toThrow()
  }
})

test('freezeJson freezes every level', () => {
  const v = freezeJson({ a: { b: [1, { c: 2 }] }, d: 'e' })
  expect(Object.isFrozen(v)).toBe(true)
  expect(Object.isFrozen(v.a)).toBe(true)
  expect(Object.isFrozen(v.a.b)).toBe(true)
  expect(Object.isFrozen(v.a.b[1])).toBe(true)
})
