// Identity and rules: authenticate(token) gives claims (or refuses), rules(store, claims) gives
// each connection its own view of the store.
import { afterEach, expect, test } from 'vitest'
import { StatecraftError, keys, memoryStore, type Store } from '@statecraft/core'
import { connect } from '@statecraft/client'
import { createServer, type Authenticate, type StatecraftServer } from '@statecraft/server'
import { RawClient } from './raw-client.ts'

interface Claims {
  user: string
  canWrite: boolean
}

let store: Store
let server: StatecraftServer
const seen: (Claims | undefined)[] = []

afterEach(async () => {
  await server.close()
  await store.close()
  seen.length = 0
})

/** A rules stand-in: writes only for claims that may write. */
function guard(s: Store, claims: Claims): Store {
  seen.push(claims)
  return {
    info: s.info,
    fetch: (q, o) => s.fetch(q, o),
    getOps: (q, f, t, o) => s.getOps(q, f, t, o),
    subscribe: (q, o) => s.subscribe(q, o),
    mutate: (txn, o) => (claims.canWrite ? s.mutate(txn, o) : Promise.reject(new StatecraftError('forbidden', `${claims.user} may not write`))),
    close: async () => {},
  }
}

const tokens: Authenticate<Claims> = token => {
  if (token === 'alice') return { user: 'alice', canWrite: true }
  if (token === 'bob') return { user: 'bob', canWrite: false }
  if (token === 'revoked') throw new StatecraftError('unauthorized', 'token revoked')
  if (token === 'crash') throw new Error('database down')
  return null
}

async function setup(): Promise<void> {
  store = memoryStore({ uid: 's' })
  server = await createServer<Claims>({ store, authenticate: tokens, rules: guard, log: () => {} })
}

test('each connection gets the store its claims allow', async () => {
  await setup()
  const alice = await connect(server.url, { auth: () => 'alice' })
  const bob = await connect(() => server.connectLocal(), { auth: async () => 'bob' })
  await alice.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  await expect(bob.mutate(new Map([['b', { type: 'set', value: 2 }]]))).rejects.toMatchObject({ code: 'forbidden' })
  expect((await bob.fetch(keys('a'))).results.get('a')).toBe(1)
  expect(seen.map(c => c?.user ?? '').sort((a, b) => a.localeCompare(b))).toEqual(['alice', 'bob'])
  await alice.close()
  await bob.close()
})

test.each([
  ['an unknown token', 'mallory', 'unauthorized'],
  ['no token', undefined, 'unauthorized'],
  ['authenticate throwing unauthorized', 'revoked', 'unauthorized'],
  ['authenticate failing', 'crash', 'internal'],
])('%s: connect rejects with %s and the connection is closed', async (_name, token, code) => {
  await setup()
  await expect(connect(server.url, token === undefined ? { log: () => {} } : { auth: () => token, log: () => {} })).rejects.toMatchObject({ code })
  const raw = await RawClient.open(server, 'local')
  raw.send(token === undefined ? { type: 'hello', protocol: 1 } : { type: 'hello', protocol: 1, token })
  expect(await raw.next()).toMatchObject({ type: 'error', error: { code } })
  expect(await raw.closed()).toBe(4001)
  expect(seen).toEqual([])
})

test('auth() is asked again on every reconnect', async () => {
  await setup()
  let calls = 0
  const remote = await connect(() => server.connectLocal(), {
    auth: () => {
      calls++
      return 'alice'
    },
    reconnect: { minDelayMs: 1, maxDelayMs: 2 },
  })
  remote.disconnect()
  await remote.whenConnected()
  await remote.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  expect(calls).toBe(2)
  await remote.close()
})

test('a token refused on reconnect fails pending calls and closes the store', async () => {
  await setup()
  let token = 'alice'
  const remote = await connect(() => server.connectLocal(), { auth: () => token, reconnect: { minDelayMs: 1, maxDelayMs: 2 }, log: () => {} })
  token = 'revoked'
  remote.disconnect()
  await expect(remote.mutate(new Map([['a', { type: 'set', value: 1 }]]))).rejects.toMatchObject({ code: 'unauthorized' })
  await expect(remote.fetch(keys('a'))).rejects.toMatchObject({ code: 'closed' })
})

test('without authenticate everyone is let in, with undefined claims', async () => {
  store = memoryStore({ uid: 's' })
  const claims: unknown[] = []
  server = await createServer({ store, rules: (s, c) => (claims.push(c), s), log: () => {} })
  const remote = await connect(server.url, { auth: () => 'anything' })
  await remote.fetch(keys('a'))
  expect(claims).toEqual([undefined])
  await remote.close()
})
