// Bad values are refused with an error naming where the bad part is. The checks judge a value in a
// first pass that builds no path strings, and build the path only for a value that fails: these
// pin the messages, so the fast pass and the one that words the error cannot drift apart.
import { expect, test } from 'vitest'
import { MAX_DEPTH, StatecraftError, checkTxn, checkValue, freezeJson, isJson, type Txn } from '@statecraft/core'

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

/** `n` arrays around `inner`. */
const nest = (n: number, inner: unknown = 1): unknown => {
  let v = inner
  for (let i = 0; i < n; i++) v = [v]
  return v
}

test('at most 1000 levels of arrays and objects: deeper is refused by name', () => {
  expect(() => checkValue(nest(1000))).not.toThrow() // 1000 arrays, a number at the bottom
  expect(() => checkValue(nest(999, []))).not.toThrow() // 1000 arrays, the innermost empty
  expect(() => checkValue(nest(999, {}))).not.toThrow()
  // A 1001st level is refused even when it is empty (it used to pass here and fail on the wire).
  expect(messageOf(() => checkValue(nest(1000, [])))).toMatch(/^value(\[0\]){1000} is nested too deeply \(over 1000 levels\)$/)
  expect(messageOf(() => checkValue(nest(1000, {})))).toMatch(/^value(\[0\]){1000} is nested too deeply \(over 1000 levels\)$/)
  expect(messageOf(() => checkValue(nest(1002)))).toMatch(/^value(\[0\]){1000} is nested too deeply \(over 1000 levels\)$/)
  expect(messageOf(() => checkValue({ a: nest(998, { b: [] }) }))).toMatch(/^value\.a(\[0\]){998}\.b is nested too deeply \(over 1000 levels\)$/)
  expect(MAX_DEPTH).toBe(1000)
})

test('isJson judges as checkValue does, at the depth limit too', () => {
  for (const [v, ok] of [[nest(1000), true], [nest(999, []), true], [nest(1000, []), false], [nest(1001), false], [{ a: NaN }, false], [new Uint8Array(1), false], [{ a: [null, 'x'] }, true]] as const) {
    expect(isJson(v)).toBe(ok)
    if (v instanceof Uint8Array) continue // binary is a value (checkValue takes it) but not JSON
    if (ok) expect(() => checkValue(v)).not.toThrow()
    else expect(() => checkValue(v)).toThrow(StatecraftError)
  }
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
